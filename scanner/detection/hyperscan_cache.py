"""On-disk cache of the compiled Hyperscan database.

Compiling privaudit's ~40 candidate and masked-form patterns into one Hyperscan database takes
~0.2 s, paid before any worker can start: on a scan of a few seconds that serial start-up is what
keeps two workers from being twice as fast as one. Hyperscan can serialize a compiled database
(``hs_serialize_database``), so the first scan on a machine compiles and stores it and later
scans load it in milliseconds.

* The file name is a SHA-256 of everything the compiled database depends on: the expressions,
  their ids and flags, the mode, the Hyperscan binding's version and the CPU features Hyperscan
  compiles for. A changed recognizer or another CPU gets a new file, never a stale database.
* It holds regular expressions only, never scanned data.
* Only a directory owned by this user and not writable by others is used (a database someone
  else could replace would decide what the scanner sees). Files are written atomically, mode 0600.
* A file that does not load or scan (truncated, another platform) is compiled again and replaced.
  Any failure of the cache means compiling as if there were none; it never fails a scan.

Location: ``$PRIVAUDIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/privaudit``, else ``~/.cache/privaudit``;
``PRIVAUDIT_CACHE_DIR=`` (empty) turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import stat
import tempfile
from pathlib import Path
from typing import Any


def cache_dir() -> Path | None:
    """Where compiled databases are kept, or None when the cache is turned off."""
    configured = os.environ.get("PRIVAUDIT_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "privaudit"


def _cpu_features() -> str:
    """The CPU flags line (Hyperscan compiles for the features of the host it runs on)."""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
        for line in info:
            if line.startswith("flags"):
                return line.strip()
    return platform.processor() or platform.machine()


def cache_key(hyperscan: Any, expressions: list[bytes], ids: list[int], flags: list[int], mode: int) -> str:
    digest = hashlib.sha256()
    for part in (getattr(hyperscan, "__version__", "?"), platform.machine(), _cpu_features(), str(mode)):
        digest.update(part.encode() + b"\0")
    for expression, ident, flag in zip(expressions, ids, flags, strict=True):
        digest.update(b"%d\0%d\0%s\0" % (ident, flag, expression))
    return digest.hexdigest()


def _private_dir(path: Path) -> bool:
    """``path`` exists (created 0700 if not), is ours and nobody else can write to it."""
    with contextlib.suppress(OSError):
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        info = path.lstat()
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _load(hyperscan: Any, path: Path, mode: int) -> Any | None:
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            return None
        db = hyperscan.loadb(path.read_bytes(), mode)
        db.scratch = hyperscan.Scratch(db)  # a deserialized database comes without one
        db.scan(b"privaudit cache probe 0123456789", match_event_handler=lambda *args: None)
    except (OSError, hyperscan.error):
        return None
    return db


def _store(hyperscan: Any, db: Any, path: Path) -> None:
    """Write atomically (a concurrent scan sees the old file or the new one, never half of one)."""
    with contextlib.suppress(OSError, hyperscan.error):
        data = hyperscan.dumpb(db)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".hyperscan-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:  # mkstemp creates it 0600
                out.write(data)
            os.replace(temporary, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def compiled_database(hyperscan: Any, expressions: list[bytes], ids: list[int], flags: list[int]) -> Any:
    """The block-mode database for these expressions: from the cache when possible, else compiled
    (and stored for the next scan)."""
    mode = hyperscan.HS_MODE_BLOCK
    directory = cache_dir()
    path = None
    if directory is not None and _private_dir(directory):
        path = directory / f"hyperscan-{cache_key(hyperscan, expressions, ids, flags, mode)[:40]}.db"
        db = _load(hyperscan, path, mode)
        if db is not None:
            return db
    db = hyperscan.Database(mode=mode)
    db.compile(expressions=expressions, ids=ids, elements=len(expressions), flags=flags)
    if path is not None:
        _store(hyperscan, db, path)
    return db
