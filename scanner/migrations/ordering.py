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

Directory layouts, where the version is the *directory's* name and the file name is fixed:

* Diesel: ``<version>_<name>/up.sql`` + ``down.sql``; the version is the directory name's leading
  timestamp (``2019-02-26-002946``, ``2026-07-27-143313-0000``, ``00000000000000``), its dash
  separated numbers compared part by part (the same order as Diesel's, which compares the digits);
* Prisma: ``<version>_<name>/migration.sql`` (``01_init``, ``20240101120000_init``).

Files that are never applied forward are skipped: Flyway undo migrations ``U<version>__``,
golang-migrate ``*.down.sql`` and Diesel ``down.sql``. Files named for another dialect
(``*.mysql.up.sql`` beside ``*.postgres.up.sql``, the ory/popx layout) are left out with one note.
Directories are searched recursively; otherwise the directory a file lives in does not affect its
position (Flyway merges all locations into one order). Alembic and Rails migrations are Python and
Ruby programs, not SQL: a directory that holds them and no ``.sql`` is reported as unreadable here
(``alembic upgrade --sql`` prints the SQL the gate can read).
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
# a dashed timestamp (Diesel 2019-02-26-002946, Lemmy 2026-07-27-143313-0000) before the description
_DASHED = re.compile(r"^(?P<version>\d+(?:-\d+)+)(?:_(?P<desc>.*))?$")
#: file names whose version and description are their directory's (Diesel, Prisma)
DIRECTORY_VERSIONED = {"up.sql": "diesel", "down.sql": "diesel", "migration.sql": "prisma"}
#: dialect names migration tools put in file names (ory/popx: 1_init.postgres.up.sql)
_NAMED_DIALECTS = {"postgres": "postgres", "postgresql": "postgres", "pg": "postgres", "cockroach": "cockroach",
                   "cockroachdb": "cockroach", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite",
                   "sqlite3": "sqlite", "sqlserver": "tsql", "mssql": "tsql"}
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


def layout_of(path: str | Path) -> str | None:
    """``diesel`` or ``prisma`` for a file whose version is its directory's name, else None."""
    path = Path(path)
    layout = DIRECTORY_VERSIONED.get(path.name.lower())
    return layout if layout and path.parent.name else None


def named_dialect(path: str | Path) -> str | None:
    """The dialect a file name declares (``1_init.mysql.up.sql`` -> mysql), or None."""
    parts = Path(path).name.lower().split(".")
    for part in parts[1:-1]:
        if part in _NAMED_DIALECTS:
            return _NAMED_DIALECTS[part]
    return None


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
    if name.lower().endswith(".down.sql") or (name.lower() == "down.sql" and layout_of(path)):
        return False
    match = _FLYWAY.match(_stem(name))
    return not (match and match.group("prefix") in "Uu")


def migration_key(path: str | Path) -> MigrationKey:
    """The sort key of a migration file (see the module docstring for the rule)."""
    posix = Path(path).as_posix()
    name = Path(path).name
    stem = _stem(name)
    if layout_of(path):
        name = stem = Path(path).parent.name  # Diesel/Prisma: the directory is the migration
    flyway = _FLYWAY.match(stem)
    if flyway:
        return MigrationKey(VERSIONED, parse_version(flyway.group("version")), _natural(name), posix)
    repeatable = _REPEATABLE.match(stem)
    if repeatable:
        return MigrationKey(REPEATABLE, (), _natural(repeatable.group("desc")), posix)
    dashed = _DASHED.match(stem)
    if dashed:
        return MigrationKey(VERSIONED, parse_version(dashed.group("version").replace("-", "_")), _natural(name),
                            posix)
    numbered = _NUMBERED.match(stem)
    if numbered:
        return MigrationKey(VERSIONED, parse_version(numbered.group("version")), _natural(name), posix)
    return MigrationKey(UNVERSIONED, (), _natural(name), posix)


def order_migrations(paths: Iterable[str | Path], dialect: str | None = None) -> list[Path]:
    """Forward migrations among ``paths`` in application order (for ``dialect``: files named for
    another dialect are left out)."""
    return sorted((Path(p) for p in paths if is_applied_forward(p) and not other_dialect(p, dialect)),
                  key=migration_key)


def other_dialect(path: str | Path, dialect: str | None) -> bool:
    """Whether the file's name says it is for a dialect other than ``dialect``."""
    named = named_dialect(path)
    return dialect is not None and named is not None and named != dialect


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
