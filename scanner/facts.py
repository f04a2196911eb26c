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

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, TypeVar
from urllib.parse import unquote

F = TypeVar("F", bound="Observation")


@dataclass(frozen=True, kw_only=True)
class Observation:
    """Base of typed facts: the resource it is about."""

    kind: ClassVar[str]
    resource_uri: str

    @classmethod
    def from_record(cls: type[F], resource_uri: str, record: Mapping[str, Any]) -> F:
        """From a connector's working record or a state file's (lists become tuples; keys the record does
        not have keep their defaults; keys the type does not have are left out)."""
        names = set(cls.__dataclass_fields__)
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in record.items() if k in names}
        return cls(resource_uri=resource_uri, **values)

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


# -- object storage -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BucketPosture(Observation):
    """An S3 bucket's access and encryption posture, decided in S3's own order: Block Public Access
    (account and bucket, combined in ``effective_bpa``), then Object Ownership (whether ACLs count),
    then ACL grants and policy statements (``public_via`` names each), then default encryption.

    ``unknown`` lists the permissions whose calls were denied, so a reviewer knows what was not seen;
    ``missing`` marks a bucket that does not exist. Object counts are the sampling's.
    """

    kind = "s3_bucket"
    bucket: str
    uri: str
    account: str | None = None
    region: str | None = None
    missing: bool = False
    account_bpa: dict[str, bool] | None = None
    bucket_bpa: dict[str, bool] | None = None
    effective_bpa: dict[str, bool] = field(default_factory=dict)
    object_ownership: str | None = None
    acls_enabled: bool | None = None
    acl_public: tuple[str, ...] = ()
    acl_public_effective: bool = False
    policy_public: tuple[str, ...] = ()
    policy_restricted: tuple[str, ...] = ()
    policy_organizations: tuple[str, ...] = ()
    policy_public_effective: bool = False
    public: bool = False
    public_via: tuple[str, ...] = ()
    cross_account: dict[str, list[str]] = field(default_factory=dict)
    encryption: str = "unknown"  # none | SSE-S3 | SSE-KMS | DSSE-KMS | unknown
    kms_key: str | None = None
    unknown: tuple[str, ...] = ()
    objects_listed: int = 0
    objects_sampled: int = 0

    @classmethod
    def from_posture(cls, posture: dict[str, Any]) -> BucketPosture:
        """From the connector's working record of the bucket."""
        return cls.from_record(f"s3://{posture['bucket']}", posture)


@dataclass(frozen=True, kw_only=True)
class ObjectPosture(Observation):
    """A sampled S3 object's encryption and, when it holds personal data and ACLs count, its public
    ACL grants (``acl_public`` None: the ACL could not be read)."""

    kind = "s3_object"
    #: fields the state does not keep: they are the resource URI's (``s3://bucket/<key, percent-encoded>``)
    from_uri: ClassVar[tuple[str, ...]] = ("bucket", "key")
    bucket: str
    key: str

    @staticmethod
    def uri_fields(resource_uri: str) -> dict[str, str]:
        """``bucket`` and ``key`` as the object's resource URI names them."""
        bucket, _, path = resource_uri.removeprefix("s3://").partition("/")
        return {"bucket": bucket, "key": unquote(path)}
    encryption: str | None = None
    kms_key: str | None = None
    truncated: bool = False
    acl_public: tuple[str, ...] | None = None
    acl_public_effective: bool = False


# -- Windows file shares (SMB) ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SmbReader:
    """A principal that can read a file's data: its SID, display name, the broad principal it is (None
    for a named account or group), the principal of the ACE that lets it (``via``), how (an
    ``explicit`` ACE on the file, one ``inherited`` from
    ``source`` — a folder below the share root, ``""`` for the root, None when it came from above the
    share or a folder on the way could not be read — or a ``null-dacl``), the deciding ACE in SDDL, and
    whether the share's own permissions let it in (None: they could not be read)."""

    sid: str
    name: str
    broad: str | None
    via: str  # the principal of the deciding ACE (Everyone's ACE lets Authenticated Users read)
    how: str
    source: str | None
    ace: str
    share_allows: bool | None


@dataclass(frozen=True, kw_only=True)
class SmbFileAccess(Observation):
    """Who can read a file on an SMB share, from its security descriptor (owner, DACL), inheritance
    resolved; ``denied``: principals an ACE explicitly refuses reading; ``dacl``: the DACL in SDDL."""

    kind = "smb_access"
    host: str
    share: str
    path: str
    owner: str | None
    owner_name: str | None
    readers: tuple[SmbReader, ...]
    denied: tuple[str, ...] = ()
    protected: bool = False
    dacl: str = ""


@dataclass(frozen=True, kw_only=True)
class SmbShareAccess(Observation):
    """The share and the session: SMB dialect, signing, encryption, and the share-level permissions
    (srvsvc ``NetShareGetInfo`` level 502; ``readers`` None when the account may not read them)."""

    kind = "smb_share"
    host: str
    share: str
    dialect: str
    signing: bool
    encryption: str | None
    readers: tuple[str, ...] | None = None
    acl: str | None = None


# -- the state directory's form of facts ----------------------------------------------------------


def encode_fact(fact: Any) -> list[Any] | None:
    """A typed fact as JSON for the state directory (:mod:`scanner.state`), without its ``resource_uri``
    (the resource's own), or None when it cannot be kept there: not one of these records, or a string in
    it (a column, object key or principal name) that would be masked — the state never holds a raw
    personal value, and a masked name would no longer be the fact, so such a resource is read again."""
    if type(fact) not in _RECORDS:
        return None
    derived = _from_uri(fact)
    try:
        values = _encode({f.name: getattr(fact, f.name) for f in fields(fact)
                          if f.name != "resource_uri" and f.name not in derived})
    except _NotKept:
        return None
    return [type(fact).__name__, values, *(["uri"] if derived else [])]


def decode_fact(resource_uri: str, data: list[Any]) -> Any:
    """The fact :func:`encode_fact` stored, about ``resource_uri``."""
    cls = _RECORDS_BY_NAME[data[0]]
    derived = cls.uri_fields(resource_uri) if data[2:] == ["uri"] else {}
    return cls(resource_uri=resource_uri, **_decode(data[1]), **derived)


def _from_uri(fact: Any) -> dict[str, Any]:
    """The fields of ``fact`` its resource URI gives back exactly (a record's ``from_uri``): not kept, so
    an object named with a customer's ID is still carried without its name in the state."""
    names = getattr(type(fact), "from_uri", ())
    if not names:
        return {}
    derived = type(fact).uri_fields(fact.resource_uri)
    return derived if all(getattr(fact, n) == derived.get(n) for n in names) else {}


class _NotKept(Exception):
    pass


def _encode(value: Any) -> Any:
    from scanner.redaction import mask_text

    if isinstance(value, str):
        if mask_text(value) != value:
            raise _NotKept
        return value
    if type(value) in _RECORDS:
        return {"@": type(value).__name__, **{f.name: _encode(getattr(value, f.name)) for f in fields(value)}}
    if isinstance(value, tuple):
        return {"@t": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {_encode(k): _encode(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float):
        return value
    raise _NotKept


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "@t" in value:
            return tuple(_decode(v) for v in value["@t"])
        if "@" in value:
            return _RECORDS_BY_NAME[value["@"]](**{k: _decode(v) for k, v in value.items() if k != "@"})
        return {k: _decode(v) for k, v in value.items()}
    return value


def _records() -> tuple[type, ...]:
    """Every frozen record of this module (facts and the records inside them), by class."""
    return tuple(v for v in globals().values()
                 if isinstance(v, type) and hasattr(v, "__dataclass_fields__") and v.__module__ == __name__)


_RECORDS = frozenset(_records())
_RECORDS_BY_NAME = {cls.__name__: cls for cls in _RECORDS}
