"""What connectors tell rules, typed: frozen records of what a data store says about itself.

A connector observes; a rule judges. Between them travel these records (never a connector object,
never a dict of string keys), so a rule reads ``access.grantee`` and a misspelt field fails at once
instead of reading ``None``; facts pickle across worker processes and carry no personal value (names
of roles, schemas and tables only, masked like every name when reported).

Each record names the resource it is about (``resource_uri``) and its ``kind``; rules select facts by
type (:func:`of_type`). A plug-in connector may add its own record types here or in its module; the
untyped :class:`scanner.model.Fact` remains for observations no rule reads yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, TypeVar

F = TypeVar("F", bound="Observation")


@dataclass(frozen=True, kw_only=True)
class Observation:
    """Base of typed facts: the resource it is about."""

    kind: ClassVar[str]
    resource_uri: str

    def properties(self, *leave_out: str) -> dict[str, Any]:
        """The fields as SARIF result properties (lists for tuples), without ``resource_uri``."""
        return {k: _plain(v) for k, v in asdict(self).items() if k != "resource_uri" and k not in leave_out}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def of_type(facts: Iterable[Any], fact_type: type[F]) -> list[F]:
    """The facts of one type, in the order the connector reported them."""
    return [f for f in facts if isinstance(f, fact_type)]


# -- databases ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class HbaLine:
    """A pg_hba.conf line that accepts TCP connections without TLS (``host``/``hostnossl``)."""

    line: int
    type: str
    database: str
    user: str
    address: str | None
    method: str


@dataclass(frozen=True, kw_only=True)
class Transport(Observation):
    """Whether a database server accepts connections without TLS (obligation 8: encryption in transit).

    PostgreSQL: the ``ssl`` setting and pg_hba.conf's non-TLS host lines (``hba_readable`` False when the
    scanning role may not read them); MySQL/MariaDB: ``require_secure_transport`` and ``have_ssl``.
    """

    kind = "transport"
    server: str  # postgresql | mysql | mariadb
    target: str
    accepts_non_tls: bool
    connection_encrypted: bool | None
    ssl: bool | None = None
    hba_readable: bool | None = None
    non_tls_rules: tuple[HbaLine, ...] = ()
    require_secure_transport: str | None = None
    have_ssl: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReadAccess(Observation):
    """Who can read a table or one of its columns, and how (resolved through role membership).

    ``grantee_kind``: ``role`` (PostgreSQL), ``public`` (PostgreSQL's PUBLIC: every role, present and
    future) or ``account`` (MySQL ``'user'@'host'``). ``path``: the chain of roles from the grantee to the
    grant's holder; ``via`` says it in words. ``column`` is None when the whole table is readable.
    """

    kind = "access"
    grantee: str
    grantee_kind: str
    privilege: str
    schema: str
    table: str
    object: str
    column: str | None
    via: str
    path: tuple[str, ...] = ()
    login: bool = True
    bypassrls: bool = False
    owner: bool = False
    rows_limited_by_rls: bool = False
    user: str | None = None  # MySQL account parts
    host: str | None = None
    wildcard_host: bool = False


@dataclass(frozen=True, kw_only=True)
class TableSecurity(Observation):
    """A PostgreSQL table's row-level security and who holds table-level SELECT on it."""

    kind = "table_security"
    object: str
    schema: str
    table: str
    relkind: str
    rls: bool
    force_rls: bool
    rls_policies: int
    owner: str | None
    column_grants: bool
    table_grantees: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class DefaultPrivilege(Observation):
    """``ALTER DEFAULT PRIVILEGES``: what tables created later will grant (schema None: every schema)."""

    kind = "default_privilege"
    owner: str
    schema: str | None
    object_type: str
    privilege: str
    grantee: str


@dataclass(frozen=True, kw_only=True)
class DatabaseFile(Observation):
    """A database file's (or its journal's) permission bits, owner and group (SQLite)."""

    kind = "file"
    path: str
    mode: int
    owner: str | None
    group: str | None


@dataclass(frozen=True, kw_only=True)
class ColumnVerdict(Observation):
    """What one sampled column holds (``resource_uri``: its table), as evidence for the database rules.

    ``classes``: field classes its name, comment or table suggest; ``entities``: values found per entity
    type in the sample; ``holds``: the types most values are; ``basis``: what the verdict rests on
    (``name``, ``content``, ``name+content``, ``free-text``, ``none``); ``protection``: ``plaintext``,
    ``protected`` (hashes, ciphertext, unreadable binary) or ``masked``; ``shares``: the share of
    non-null sampled values per entity type.
    """

    kind = "column"
    column: str
    logical_name: str
    data_type: str
    classes: tuple[str, ...] = ()
    name_entities: tuple[str, ...] = ()
    entities: dict[str, int] = field(default_factory=dict)
    holds: tuple[str, ...] = ()
    basis: str = "none"
    confidence: float = 0.0
    protection: str = "plaintext"
    protection_label: str | None = None
    sampled_rows: int = 0
    non_null: int = 0
    shares: dict[str, float] = field(default_factory=dict)
