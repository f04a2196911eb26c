"""Keyed hashes: the only form in which a personal value, or a finding's identity, leaves memory.

A plain SHA-256 of a resident ID or phone number is reversible by enumeration (the value space is
small), so every hash is an HMAC-SHA256 under a secret key. The key comes from
``PRIVAUDIT_FINGERPRINT_KEY`` (hex or text) or from ``$XDG_CONFIG_HOME/privaudit/fingerprint.key``,
created with mode 0600 on first use. Teams that compare reviews across machines (baselines) set the
environment variable from their secret store so fingerprints match everywhere.

A key shorter than 16 bytes is refused (HMAC keys below the output's security strength weaken it, RFC
2104 section 3; an empty file is a truncated copy, not a key); a key file that others can read is
warned about. The key is created once, by the parent process before workers start, and atomically
(written aside, then linked into place), so concurrent first runs all read the same complete key.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import stat
from functools import lru_cache
from pathlib import Path

ENV_KEY = "PRIVAUDIT_FINGERPRINT_KEY"
#: the ``partialFingerprints`` key our SARIF results carry their finding fingerprint under
SARIF_FINGERPRINT_KEY = "privaudit/v1"


def _key_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "privaudit" / "fingerprint.key"


MIN_KEY_BYTES = 16


class FingerprintKeyError(ValueError):
    """The configured fingerprint key cannot be used (a usage problem: exit 2, saying how to fix it)."""


@lru_cache(maxsize=1)
def load_key() -> bytes:
    """Return the fingerprint key, creating the per-user key file when none is configured."""
    env = os.environ.get(ENV_KEY)
    if env:
        return _checked(env.encode("utf-8"), f"${ENV_KEY}", "set it to at least 32 random hex digits")
    path = _key_file()
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        key = _create_key(path)
    return _checked(key, str(path), "delete the file to have a new key created, or restore it from your secret store")


def _checked(key: bytes, source: str, fix: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise FingerprintKeyError(f"the fingerprint key in {source} is {len(key)} bytes, fewer than the "
                                  f"{MIN_KEY_BYTES} needed; {fix}")
    return key


def _create_key(path: Path) -> bytes:
    """Write a new key aside and link it into place: a racing process either wins or reads the winner's
    complete key, never a half-written or empty file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32).encode("ascii")
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(aside, path)
        except FileExistsError:
            return path.read_bytes().strip()
        return key
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(aside)


def key_warnings() -> list[str]:
    """Why the key in use may be exposed: a key file readable by its group or by everyone."""
    if os.environ.get(ENV_KEY):
        return []
    path = _key_file()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return []
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [f"the fingerprint key {path} is readable by others (mode {mode:o}); whoever reads it can test "
                f"guesses against fingerprints: chmod 600 {path}."]
    return []


def keyed_hash(*parts: str, length: int = 32) -> str:
    """HMAC-SHA256 over the NUL-joined parts, hex, truncated to ``length`` characters."""
    message = "\0".join(parts).encode("utf-8")
    return hmac.digest(load_key(), message, "sha256").hex()[:length]  # one-shot: ~3x faster than hmac.new


def value_hash(entity_type: str, normalized_value: str) -> str:
    """Fingerprint of one identifier value: lets reports correlate a value without storing it."""
    return keyed_hash("value", entity_type, normalized_value, length=24)


def finding_fingerprint(rule_id: str, resource_uri: str, *discriminators: str) -> str:
    """Stable identity of a finding: rule + resource (+ entity type, grantee, ...), no line numbers."""
    return keyed_hash("finding/v1", rule_id, resource_uri, *discriminators)
