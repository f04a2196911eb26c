"""``privaudit locate``: from a masked name in a report back to the real file, for whoever holds the key.

Reports never show a personal value, not even inside a name (:mod:`scanner.redaction`): the KYC upload
``/srv/kyc/110101199003070011.pdf`` is reported as ``/srv/kyc/110101********0011.pdf;k=5f0c1d2e3a4b``.
The operator who must remediate it runs this command with the same fingerprint key as the scan
(``PRIVAUDIT_FINGERPRINT_KEY`` or the key file): it lists each directory on the way and keeps the
entries whose masked form is the one in the report, so only the names asked for are ever printed.
Names of objects and columns (S3 keys, tables) are matched against candidates read from ``--candidates``
(e.g. ``aws s3 ls --recursive`` output), since only the system that holds them can list them.

Exit codes: 0 found, 1 nothing matched (wrong key, or the file is gone), 2 usage mistake.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click

from scanner.redaction import HASH_MARK, mask_text


def masked_path_parts(masked: str) -> tuple[bytes, list[str]]:
    """The directory to start from and the path components of a masked path or ``file://`` URI."""
    if masked.startswith("file://"):
        masked = unquote(urlsplit(masked).path)
    start = b"/" if masked.startswith("/") else b"."
    return start, [part for part in masked.split("/") if part and part != "."]


def resolve(start: bytes, parts: list[str]) -> Iterator[bytes]:
    """Every real path under ``start`` whose masked components are ``parts`` (names are bytes)."""
    if not parts:
        yield start
        return
    head, rest = parts[0], parts[1:]
    if HASH_MARK not in head:
        candidate = os.path.join(start, os.fsencode(head))
        if os.path.lexists(candidate):
            yield from resolve(candidate, rest)
        return
    try:
        entries = os.listdir(start)
    except OSError:
        return
    for entry in sorted(entries):
        if mask_text(os.fsdecode(entry)) == head:
            yield from resolve(os.path.join(start, entry), rest)


def matching_candidates(masked: str, candidates: Iterable[str]) -> Iterator[str]:
    """Candidates (object keys, table or column names) whose masked form is ``masked``."""
    for line in candidates:
        name = line.rstrip("\r\n")
        if name and mask_text(name) == masked:
            yield name


@click.command("locate")
@click.argument("masked_names", nargs=-1, required=True, metavar="MASKED_NAME...")
@click.option("--under", type=click.Path(file_okay=False, exists=True), default=None, metavar="DIR",
              help="Resolve relative masked paths (a report's relative locations) under DIR.")
@click.option("--candidates", type=click.File("r", encoding="utf-8", errors="surrogateescape"), default=None,
              metavar="FILE", help="Match names listed in FILE, one per line ('-' for stdin), instead of "
                                   "walking local directories: S3 keys, table and column names.")
def command(masked_names: tuple[str, ...], under: str | None, candidates: click.utils.LazyFile | None) -> None:
    """Print the real names behind masked names from a report (needs the scan's fingerprint key)."""
    for masked in masked_names:
        if HASH_MARK not in masked:
            raise click.UsageError(f"{masked!r} holds no masked name (they end in {HASH_MARK}<hash>); give a "
                                   "location copied from a report.")
    names = list(candidates) if candidates is not None else None
    found = False
    out = sys.stdout.buffer
    for masked in masked_names:
        if names is not None:
            hits = [os.fsencode(name) for name in matching_candidates(masked, names)]
        else:
            start, parts = masked_path_parts(masked)
            if under and start == b".":
                start = os.fsencode(Path(under))
            hits = list(resolve(start, parts))
        for hit in hits:
            out.write(hit + b"\n")
        found = found or bool(hits)
    out.flush()
    sys.exit(0 if found else 1)
