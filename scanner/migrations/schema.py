"""Schema state replayed across migration files, and how sensitive each column is.

A GRANT, a view or a DISABLE ROW LEVEL SECURITY is only a privacy problem if the table it touches
holds graded personal data, and that is usually decided in an *earlier* migration (or in the live
database, ``--schema-from``). :class:`SchemaState` is that memory: relations (tables and views)
with their columns, types and comments, view lineage (which base columns a view column shows),
grants (table- and column-level), standing grants that reach future tables (PostgreSQL default
privileges, MySQL ``db.*``/``*.*`` grants), row-level security and policies.

Column sensitivity uses the one shared field classifier (:func:`scanner.detection.fields.classify_field`,
English/pinyin/Chinese names and comments, the declared type and the table, as the live connectors
do) plus the column type, because the type is what tells a ciphertext column from a plaintext one:

* booleans are never personal data (``has_mobile boolean`` says nothing about the number);
* binary types (``bytea``, ``varbinary``, ``blob``, ``binary``) hold ciphertext or digests: protected;
* a ``_hash``/``_hashed``/``_enc``/``_encrypted``/``_cipher``/``_ciphertext``/``_digest``/``_hmac``
  name (or ``enc_``/``encrypted_``/``hashed_`` prefix) is protected only with a *matching type*:
  binary, or text long enough for an encoded digest/ciphertext (unbounded, or declared length
  >= 32). ``id_card_enc varchar(18)`` has exactly the plaintext's width and is not trusted;
* a password or credential column whose declared width is exactly a hash encoding's (``VARCHAR(60)``
  bcrypt, 97/98 argon2id, 106 SHA-512-crypt; a fixed-width ``CHAR(64)`` SHA-256 hex, ``CHAR(40)`` SHA-1
  hex: ``varchar(64)`` is as common for plaintext), or whose comment says the application encrypts or
  hashes it, most likely holds the hash: still graded, but ``unconfirmed`` says so and the rules ask
  to confirm (a note) instead of failing the gate; so is a ``password`` column in a schema that hashes
  passwords in SQL (it loads pgcrypto, whose ``crypt()``/``gen_salt()`` are bcrypt, or calls them);
* everything else that the classifier calls personal gets the policy grade of its classes.

JSON columns (``traits``, ``identity_data``, ``raw_user_meta_data jsonb``) are containers the name
says nothing certain about: :func:`personal_container` tells when one in a table of people (or named
for one) may hold contact data, for a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from scanner.detection.fields import classify_field, is_person_table
from scanner.policy import Grade, Policy

BINARY_TYPES = frozenset({"VARBINARY", "BINARY", "BLOB", "LONGBLOB", "MEDIUMBLOB", "TINYBLOB", "BYTEA", "IMAGE"})
BOOLEAN_TYPES = frozenset({"BOOLEAN", "BOOL"})
STRING_TYPES = frozenset({
    "CHAR", "VARCHAR", "NCHAR", "NVARCHAR", "TEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "CITEXT", "BPCHAR",
    "NAME", "STRING", "CLOB",
})
PROTECTED_SUFFIXES = ("hash", "hashed", "enc", "encrypted", "cipher", "ciphertext", "digest", "hmac", "crypt",
                      "sha256", "sha512", "sm3", "sm4")
PROTECTED_PREFIXES = ("enc", "encrypted", "hashed", "cipher")
MIN_ENCODED_LENGTH = 32
MASKING_FUNCTIONS = ("mask", "md5", "sha", "digest", "hmac", "encrypt", "crypt", "hash", "overlay", "substr",
                     "left", "right", "regexp_replace", "sm3", "sm4")

DEFAULT_SCHEMA = {"postgres": "public", "sqlite": "main", "mysql": None}

#: widths no one gives a plaintext column: a column this wide most likely holds that hash
HASH_WIDTHS = {60: "a bcrypt hash", 97: "an argon2id hash", 98: "an argon2id hash", 106: "a SHA-512-crypt hash"}
#: digest widths, also common for plaintext (varchar(64)): trusted only in a fixed-width CHAR(n) column
DIGEST_WIDTHS = {
    32: "an MD5 hex digest", 40: "a SHA-1 hex digest", 44: "a base64 SHA-256 digest", 56: "a SHA-224 hex digest",
    64: "a SHA-256 hex digest or HMAC", 88: "a base64 SHA-512 digest", 96: "a SHA-384 hex digest",
    128: "a SHA-512 hex digest",
}
FIXED_WIDTH_TYPES = ("CHAR", "BPCHAR", "NCHAR", "CHARACTER(")
AUTHENTICATION_CLASSES = frozenset({"PASSWORD", "CREDENTIAL"})
#: a column comment (or the ``--`` comment on its line) saying the application protects the value
_SAYS_PROTECTED = re.compile(r"\b(?:encrypted|encrypts?|hashed|hash|digest|bcrypt|argon2|scrypt|hmac|ciphertext)\b|"
                             r"加密|哈希|密文|摘要", re.IGNORECASE)
_SAYS_PLAIN = re.compile(r"\b(?:not|un(?:encrypted|hashed)|plain(?:text)?|raw|clear(?:text)?)\b|明文|未加密",
                         re.IGNORECASE)
JSON_TYPES = ("JSON", "JSONB", "HSTORE")
#: JSON column names that hold settings, not facts about a person
_CONTAINER_NOT_PERSONAL = re.compile(
    r"(?:^|_)(?:settings?|config(?:uration)?|prefs?|preferences?|options?|flags?|features?|permissions?|"
    r"roles?|scopes?|state|status|stats|counters?|schema|layout|theme|filters?|query|params|parameters|"
    r"headers|rules?|policy|policies|template|translations?|i18n|cache|index|keys|mapping|tags|app)(?:$|_)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ColumnType:
    """A column's declared type: ``family`` is binary/boolean/string/other/unknown."""

    sql: str | None
    family: str
    length: int | None = None

    @classmethod
    def unknown(cls) -> ColumnType:
        return cls(None, "unknown")


@dataclass
class Column:
    name: str
    type: ColumnType
    comment: str | None = None
    # view / CREATE TABLE AS columns: the base (relation key, column name) they show, and whether a
    # masking or hashing function is applied on the way
    sources: tuple[tuple[str, str], ...] = ()
    masked: bool = False
    #: the ``--`` comment on the column's line when it was defined (dropped when its type changes)
    line_comment: str | None = None


@dataclass(frozen=True)
class Sensitivity:
    """What a column holds: its highest policy grade, the classifier's classes, and protection."""

    grade: Grade
    classes: tuple[str, ...]
    protected: bool
    reason: str
    #: why the plaintext type may hold a hash after all ("its width, 60, is a bcrypt hash's"): confirm, not fail
    unconfirmed: str | None = None

    @property
    def credential_only(self) -> bool:
        """Tokens, secrets and keys only (no password, card code or personal class): their own rule."""
        return bool(self.classes) and all(c == "CREDENTIAL" for c in self.classes)


@dataclass
class Relation:
    """A table or view in the replayed schema."""

    schema: str | None
    name: str
    kind: str  # "table" | "view"
    columns: dict[str, Column] = field(default_factory=dict)
    rls: bool = False
    policies: set[str] = field(default_factory=set)
    restrictive_policies: set[str] = field(default_factory=set)
    grants: dict[str, set[str]] = field(default_factory=dict)  # grantee key -> privileges
    column_grants: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # grantee -> column -> privs
    origin: str = "migration"

    @property
    def display(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


_ANY_NETMASK = re.compile(r"^(?:0+\.0+\.0+\.0+/(?:0+\.0+\.0+\.0+|0+)|::/0+)$")


def mysql_any_host(host: str) -> bool:
    """Whether a MySQL/MariaDB account's host part lets it log in from any host (MySQL docs "Specifying
    Account Names"): ``%`` or empty; a pattern whose only literal characters are dots (``%.%.%.%``, any
    dotted address); the netmask ``0.0.0.0/0.0.0.0`` or CIDR ``0.0.0.0/0``/``::/0`` (MySQL 8.0.23+).
    ``10.0.0.%``, ``192.168.1.0/255.255.255.0`` and ``%.example.com`` restrict the client to a subnet or
    domain: a narrower exposure, not "any host". The live connector and check-migrations both ask here."""
    text = host.strip()
    if not text.strip("%"):
        return True
    if not text.replace("%", "").replace(".", "") and "%" in text:
        return True
    return bool(_ANY_NETMASK.match(text))


@dataclass(frozen=True)
class Grantee:
    """A role or account a privilege is given to. ``host`` is the MySQL host part (``%`` = any)."""

    name: str
    host: str | None = None

    @property
    def key(self) -> str:
        return f"{self.name}@{self.host}" if self.host is not None else self.name

    @property
    def is_public(self) -> bool:
        return self.host is None and self.name == "public"

    @property
    def wildcard_host(self) -> bool:
        """Any-host MySQL accounts (:func:`mysql_any_host`); subnet patterns such as ``10.0.0.%`` are not."""
        return self.host is not None and mysql_any_host(self.host)

    @property
    def display(self) -> str:
        if self.is_public:
            return "PUBLIC"
        return f"'{self.name}'@'{self.host}'" if self.host is not None else self.name


@dataclass
class StandingGrant:
    """A grant that also reaches tables created later (default privileges, MySQL ``db.*``)."""

    schema: str | None  # None: every schema/database
    grantee: Grantee
    privileges: frozenset[str]
    origin: str  # "file:line" of the statement that made it
    via: str  # "default privileges" | "database-wide grant"


READ_PRIVILEGES = frozenset({"SELECT", "ALL", "ALL PRIVILEGES"})


def column_type(dtype: Any) -> ColumnType:
    """ColumnType from a sqlglot ``DataType`` (or None when the column has no declared type)."""
    if dtype is None:
        return ColumnType.unknown()
    name = dtype.this.name if hasattr(dtype.this, "name") else str(dtype.this)
    sql = dtype.sql()
    params = [p.name for p in dtype.expressions if hasattr(p, "name")]
    length = int(params[0]) if params and params[0].isdigit() else None
    upper_sql = sql.upper()
    if name in BINARY_TYPES or upper_sql.startswith(("BYTEA", "VARBINARY", "BLOB", "BINARY")):
        return ColumnType(sql, "binary", length)
    if name in BOOLEAN_TYPES or (name == "TINYINT" and length == 1) or (name == "BIT" and length in (None, 1)):
        return ColumnType(sql, "boolean", length)
    if name in STRING_TYPES:
        return ColumnType(sql, "string", length)
    return ColumnType(sql, "other", length)


def protected_name(name: str) -> bool:
    """``password_hash``, ``id_card_enc``, ``encrypted_mobile``: a name saying the value is hashed or encrypted."""
    parts = [p for p in name.replace("-", "_").lower().split("_") if p]
    if len(parts) < 2:
        return False
    return parts[-1] in PROTECTED_SUFFIXES or parts[0] in PROTECTED_PREFIXES


def classify_column(name: str, ctype: ColumnType, comment: str | None, policy: Policy,
                    table: str | None = None, line_comment: str | None = None,
                    hashing: str | None = None) -> Sensitivity | None:
    """The sensitivity of a stored column, or None when it holds no graded personal data.

    The live connectors ask the same classifier with the same evidence (name, comment, declared type,
    table): ``phone_confirmed_at timestamptz`` or ``address_type`` is no phone or address, and a bare
    ``name`` is a person's only in a table of people (migrations have no values to say otherwise)."""
    if ctype.family == "boolean":
        return None
    hint = classify_field(name, comment, ctype.sql, table)
    if not hint.personal:
        return None
    grade = policy.highest_grade([*hint.classes, *hint.entities])
    if grade is None:
        return None
    if ctype.family == "binary":
        return Sensitivity(grade, hint.classes, True, f"binary type {ctype.sql} (ciphertext or digest)")
    if protected_name(name):
        matching = ctype.family == "string" and (ctype.length is None or ctype.length >= MIN_ENCODED_LENGTH)
        if matching:
            return Sensitivity(grade, hint.classes, True, f"hashed/encrypted column of type {ctype.sql}")
    unconfirmed = None
    said = " ".join(c for c in (comment, line_comment) if c)
    if said and _SAYS_PROTECTED.search(said) and not _SAYS_PLAIN.search(said):
        unconfirmed = "its comment says the application encrypts or hashes it"
    elif hashing and hint.classes == ("PASSWORD",) and re.search(r"pass|pwd|mima|密码|口令", name, re.IGNORECASE):
        unconfirmed = hashing
    elif ctype.family == "string" and ctype.length is not None and set(hint.classes) <= AUTHENTICATION_CLASSES:
        fixed = (ctype.sql or "").upper().startswith(FIXED_WIDTH_TYPES)
        widths = {**HASH_WIDTHS, **DIGEST_WIDTHS} if fixed else HASH_WIDTHS
        if ctype.length in widths:
            unconfirmed = (f"its width, {ctype.length}, is exactly that of {widths[ctype.length]}, which it most "
                           "likely holds")
    return Sensitivity(grade, hint.classes, False, f"plaintext {ctype.sql or 'untyped'} column", unconfirmed)


def personal_container(name: str, ctype: ColumnType, table: str | None) -> bool:
    """Whether a JSON column may hold a person's contact data: a JSON/JSONB/HSTORE column in a table of
    people (``auth.users.raw_user_meta_data``, Kratos ``identities.traits``) or named for people
    (``identity_data``, ``user_metadata``), unless its name says settings, state or configuration."""
    if ctype.sql is None or not ctype.sql.upper().startswith(JSON_TYPES):
        return False
    if _CONTAINER_NOT_PERSONAL.search(name):
        return False
    return is_person_table(table) or is_person_table(name)


class SchemaState:
    """Relations, grants and row-level security as the migrations so far have left them."""

    def __init__(self, dialect: str, policy: Policy) -> None:
        self.dialect = dialect
        self.policy = policy
        self.default_schema = DEFAULT_SCHEMA.get(dialect)
        self.relations: dict[str, Relation] = {}
        # indexes kept by add/remove: keys by relation name (find's fallback), keys of relations with
        # derived columns (views, CREATE TABLE AS), whose lineage a rename must update
        self._by_name: dict[str, set[str]] = {}
        self.derived: set[str] = set()
        #: why the schema's passwords are most likely hashed in SQL (pgcrypto loaded, crypt() called)
        self.hashing: str | None = None
        self.standing: list[StandingGrant] = []

    # -- names -----------------------------------------------------------------------------------

    def key(self, schema: str | None, name: str) -> str:
        schema = schema or None
        if schema is None or schema == self.default_schema:
            return name
        return f"{schema}.{name}"

    def find(self, schema: str | None, name: str) -> Relation | None:
        """Exact match first; else the one relation of that name (MySQL ``db.t`` vs ``t``)."""
        exact = self.relations.get(self.key(schema, name))
        if exact is not None:
            return exact
        same_name = [self.relations[k] for k in self._by_name.get(name, ())]
        if len(same_name) == 1 and (schema is None or same_name[0].schema is None):
            return same_name[0]
        return None

    def effective_schema(self, relation: Relation) -> str | None:
        return relation.schema or self.default_schema

    def in_schema(self, schema: str | None) -> list[Relation]:
        """Relations in ``schema`` (None: all). In MySQL unqualified tables live in the current database,
        which every ``db.*`` might be, so they are included."""
        if schema is None:
            return list(self.relations.values())
        return [
            r for r in self.relations.values()
            if self.effective_schema(r) == schema or (self.dialect == "mysql" and r.schema is None)
        ]

    def add(self, relation: Relation) -> None:
        key = self.key(relation.schema, relation.name)
        if key in self.relations:
            self.remove(self.relations[key])
        self.relations[key] = relation
        self._by_name.setdefault(relation.name, set()).add(key)
        if any(c.sources for c in relation.columns.values()):
            self.derived.add(key)

    def remove(self, relation: Relation) -> None:
        key = self.key(relation.schema, relation.name)
        if self.relations.pop(key, None) is not None:
            self._by_name.get(relation.name, set()).discard(key)
            self.derived.discard(key)

    def rename(self, relation: Relation, schema: str | None, name: str) -> None:
        old_key = self.key(relation.schema, relation.name)
        self.remove(relation)
        relation.schema = schema if schema is not None else relation.schema
        relation.name = name
        new_key = self.key(relation.schema, relation.name)
        for other in [self.relations[k] for k in self.derived]:  # keep view lineage pointing at the renamed table
            for column in other.columns.values():
                if any(src == old_key for src, _ in column.sources):
                    column.sources = tuple((new_key if s == old_key else s, c) for s, c in column.sources)
        self.add(relation)

    # -- sensitivity -----------------------------------------------------------------------------

    def sensitivity(self, relation: Relation, column: Column, _depth: int = 0) -> Sensitivity | None:
        """A stored column's own sensitivity; a view column's is that of what it shows."""
        own = (classify_column(column.name, column.type, column.comment, self.policy, relation.name,
                               column.line_comment, self.hashing) if not column.sources else None)
        if not column.sources or _depth > 8:
            return own
        found: list[Sensitivity] = []
        for source_key, source_column in column.sources:
            base = self.relations.get(source_key)
            base_column = base.columns.get(source_column) if base else None
            if base is None or base_column is None:
                continue
            sens = self.sensitivity(base, base_column, _depth + 1)
            if sens is not None:
                found.append(sens)
        if not found:
            return None
        plaintext = [s for s in found if not s.protected]
        pool = plaintext or found
        best = max(pool, key=lambda s: s.grade.rank)
        if column.masked and not best.protected:
            return Sensitivity(best.grade, best.classes, True, "masked or hashed in the view")
        return best

    def graded_plaintext(self, relation: Relation, columns: set[str] | None = None) -> list[tuple[str, Sensitivity]]:
        """(column, sensitivity) of the plaintext graded columns of ``relation`` (limited to ``columns``)."""
        out: list[tuple[str, Sensitivity]] = []
        for name, column in relation.columns.items():
            if columns is not None and name not in columns:
                continue
            sens = self.sensitivity(relation, column)
            if sens is not None and not sens.protected:
                out.append((name, sens))
        return out

    def can_read(self, grantee: Grantee, relation: Relation, column: str) -> bool:
        """Whether ``grantee`` (or PUBLIC) already may SELECT ``relation.column`` directly."""
        keys = {grantee.key, "public"}
        for key in keys:
            if relation.grants.get(key, set()) & READ_PRIVILEGES:
                return True
            if relation.column_grants.get(key, {}).get(column, set()) & READ_PRIVILEGES:
                return True
        for standing in self.standing:
            if standing.via == "database-wide grant" and standing.grantee.key in keys and (
                standing.privileges & READ_PRIVILEGES
            ) and (standing.schema is None or standing.schema == self.effective_schema(relation)
                   or relation.schema is None):
                return True
        return False

