"""The order in which migration files are applied, the way migration tools apply them.

The schema state (which table holds what, who was granted it) is only right if files are replayed
in the order the migration tool will run them, and that order is *not* lexical: ``V10__`` runs after
``V2__``. The rule, shared by Flyway, Liquibase-formatted SQL, golang-migrate, dbmate, sqlx and
Rails/Knex style timestamps:

1. **Versioned files first, in numeric version order.** The version is read from the file name:
   Flyway ``V<version>__<description>.sql`` where ``<version>`` is digits separated by ``.`` or
   ``_`` (``V1__``, ``V1.1__``, ``V1_1__`` = 1.1, ``V2__``); or a leading number followed by ``_``,
   ``-`` or ``.`` (``0001_init.sql``, ``001-users.sql``, ``20240101120000_add_phone.sql``,
   golang-migrate ``1_init.up.sql``). Versions compare part by part as integers (natural numeric
   order: 2 < 10, 1.1 < 1.10 < 2), trailing ``.0`` parts are ignored (Flyway: 1.0 = 1), so
   timestamps are simply large numbers. Flyway and numbered files share one version space.
2. **Then files without a version** (``schema.sql``), in natural name order.
3. **Then Flyway repeatable migrations** ``R__<description>.sql``, last, ordered by description,
   as Flyway runs them after all versioned migrations.
4. Ties (the same version in two files) are broken by file name, then by path, so the order is
   total and reproducible; the checker warns about duplicate versions because Flyway rejects them.

Files that are never applied forward are skipped: Flyway undo migrations ``U<version>__`` and
golang-migrate ``*.down.sql``. Directories are searched recursively; the directory a file lives
in does not affect its position (Flyway merges all locations into one order).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

VERSIONED = 0
UNVERSIONED = 1
REPEATABLE = 2

_FLYWAY = re.compile(r"^(?P<prefix>[VvUu])(?P<version>\d+(?:[._]\d+)*)__(?P<desc>.*)$")
_REPEATABLE = re.compile(r"^[Rr]__(?P<desc>.*)$")
_NUMBERED = re.compile(r"^(?P<version>\d+)(?:[_\-.](?P<desc>.*))?$")
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True, order=True)
class MigrationKey:
    """Sort key of one migration file; comparing keys is the application order."""

    group: int
    version: tuple[int, ...]
    natural: tuple[tuple[int, str], ...]
    path: str


def _stem(name: str) -> str:
    lower = name.lower()
    for suffix in (".up.sql", ".sql"):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _natural(text: str) -> tuple[tuple[int, str], ...]:
    """Natural sort parts: ``a10`` after ``a2``; every part is (number, text) so parts always compare."""
    parts: list[tuple[int, str]] = []
    for piece in _DIGITS.split(text.lower()):
        if not piece:
            continue
        parts.append((int(piece), "") if piece.isdigit() else (-1, piece))
    return tuple(parts)


def parse_version(text: str) -> tuple[int, ...]:
    """``"1.10"`` / ``"1_10"`` -> ``(1, 10)``; trailing zero parts dropped (Flyway: 1.0 = 1)."""
    parts = [int(p) for p in re.split(r"[._]", text) if p != ""]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def is_applied_forward(path: str | Path) -> bool:
    """False for undo/down migrations, which a forward migration run never executes."""
    name = Path(path).name
    if name.lower().endswith(".down.sql"):
        return False
    match = _FLYWAY.match(_stem(name))
    return not (match and match.group("prefix") in "Uu")


def migration_key(path: str | Path) -> MigrationKey:
    """The sort key of a migration file (see the module docstring for the rule)."""
    posix = Path(path).as_posix()
    name = Path(path).name
    stem = _stem(name)
    flyway = _FLYWAY.match(stem)
    if flyway:
        return MigrationKey(VERSIONED, parse_version(flyway.group("version")), _natural(name), posix)
    repeatable = _REPEATABLE.match(stem)
    if repeatable:
        return MigrationKey(REPEATABLE, (), _natural(repeatable.group("desc")), posix)
    numbered = _NUMBERED.match(stem)
    if numbered:
        return MigrationKey(VERSIONED, parse_version(numbered.group("version")), _natural(name), posix)
    return MigrationKey(UNVERSIONED, (), _natural(name), posix)


def order_migrations(paths: Iterable[str | Path]) -> list[Path]:
    """Forward migrations among ``paths`` in application order."""
    return sorted((Path(p) for p in paths if is_applied_forward(p)), key=migration_key)


def duplicate_versions(paths: Iterable[str | Path]) -> list[tuple[tuple[int, ...], list[Path]]]:
    """Versions used by more than one file (Flyway refuses to run them; we warn)."""
    seen: dict[tuple[int, ...], list[Path]] = {}
    for p in paths:
        key = migration_key(p)
        if key.group == VERSIONED:
            seen.setdefault(key.version, []).append(Path(p))
    return [(v, files) for v, files in seen.items() if len(files) > 1]


def collect_sql_files(targets: Iterable[str | Path]) -> list[Path]:
    """``.sql`` files named directly or found (recursively) below directories, de-duplicated."""
    found: dict[Path, None] = {}
    for target in targets:
        path = Path(target)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() == ".sql":
                    found.setdefault(child, None)
        elif path.is_file():
            found.setdefault(path, None)
    return list(found)
