"""What replaying migrations reports: the events rules judge (``scanner/rules/migrations``).

Kept apart from :mod:`scanner.migrations.analysis`, which needs sqlglot, so that loading the rule
registry for a file or database scan does not import a SQL parser it will not use (~0.1 s of
every scan's start-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanner.migrations.schema import Grantee, Sensitivity

if TYPE_CHECKING:
    from scanner.migrations.parsing import Statement


@dataclass(frozen=True)
class GradedColumn:
    """A plaintext graded column as it was when the event happened."""

    relation: str
    column: str
    sensitivity: Sensitivity
    qualified: str = ""  # schema.table.column with the default schema spelled out (policy object globs)


@dataclass
class Event:
    statement: Statement


@dataclass
class ColumnChanged(Event):
    """A stored column was created, added, retyped, renamed or commented."""

    relation: str
    column: str
    type_sql: str | None
    action: str
    before: Sensitivity | None
    after: Sensitivity | None
    #: where the column is named in the file (its own line, not the CREATE TABLE's), when known
    line: int | None = None
    column_number: int | None = None
    #: a JSON column of a table of people: may hold contact data the name does not show
    container: bool = False


@dataclass
class Granted(Event):
    """Read access to relations (``targets``) was given to ``grantee``.

    ``securable`` is the object as written (``public.customer``, ``ALL TABLES IN SCHEMA public``,
    ``bank.*``); ``graded`` the plaintext graded columns it opens; ``wider`` the graded view columns
    whose base columns the grantee could not read directly; ``implicit`` when a standing grant
    (default privileges, ``db.*``) reached a table created by this statement.
    """

    securable: str
    grantee: Grantee
    privileges: frozenset[str]
    targets: list[str]
    graded: list[GradedColumn]
    wider: list[tuple[GradedColumn, str]] = field(default_factory=list)
    implicit_via: str | None = None


@dataclass
class DefaultPrivilegesGranted(Event):
    schemas: tuple[str | None, ...]
    grantee: Grantee
    privileges: frozenset[str]
    graded: list[GradedColumn]


@dataclass
class RowSecurityChanged(Event):
    relation: str
    action: str  # "enable" | "disable" | "force" | "no force"
    graded: list[GradedColumn]


@dataclass
class PolicyDropped(Event):
    relation: str
    policy: str
    remaining: int
    rls: bool
    restrictive: bool
    graded: list[GradedColumn]


@dataclass
class NotAnalysed(Event):
    """A statement sqlglot could not read. ``relevant`` when its kind can create, widen or grant what
    the rules judge (a table, view, grant, policy): the gate cannot vouch for it."""

    reason: str
    kind: str
    relevant: bool


@dataclass(frozen=True)
class Note:
    """Something the analysis could not judge (unknown table, unsupported statement)."""

    statement: Statement
    message: str
