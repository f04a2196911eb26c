"""Replay migration statements against :class:`SchemaState` and report privacy-relevant changes.

Each statement updates the state and yields *events* (a column became personal data in plaintext,
a relation holding graded data was granted, RLS was disabled, ...). Events carry a snapshot of what
mattered at that moment (names, graded columns) because later statements may rename or drop
things. Rules (``scanner/rules/migrations``) turn events into findings; they never parse SQL.

sqlglot gives proper trees for CREATE/ALTER/DROP/COMMENT and views; statements it only knows as an
opaque ``exp.Command`` are read here with small grammars over the comment-free statement text:

* ``GRANT``/``REVOKE`` (sqlglot parses only a subset into ``exp.Grant``, so every GRANT/REVOKE goes
  through one grammar: privilege lists with column lists, ``ON [TABLE] a, b``,
  ``ON ALL TABLES IN SCHEMA s``, MySQL ``ON *.*``/``db.*``/``db.t``, grantees ``PUBLIC``, roles,
  ``'user'@'host'``; a MySQL account without host is ``'user'@'%'``);
* ``ALTER DEFAULT PRIVILEGES [FOR ROLE r] [IN SCHEMA s] GRANT|REVOKE ... ON TABLES TO|FROM ...``;
* ``ALTER TABLE t ENABLE|DISABLE|[NO] FORCE ROW LEVEL SECURITY``;
* ``CREATE POLICY p ON t ...`` / ``DROP POLICY [IF EXISTS] p ON t``;
* MySQL ``RENAME TABLE a TO b[, c TO d]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import ClassVar

import sqlglot
import sqlglot.errors
from sqlglot import exp

from scanner.migrations.events import (
    ColumnChanged,
    DefaultPrivilegesGranted,
    Event,
    GradedColumn,
    Granted,
    NotAnalysed,
    Note,
    PolicyDropped,
    RowSecurityChanged,
)
from scanner.migrations.parsing import Statement
from scanner.migrations.schema import (
    MASKING_FUNCTIONS,
    READ_PRIVILEGES,
    Column,
    ColumnType,
    Grantee,
    Relation,
    SchemaState,
    Sensitivity,
    StandingGrant,
    column_type,
    personal_container,
)
from scanner.policy import Policy

_IDENT = r'(?:"[^"]*"|`[^`]*`|\[[^\]]*\]|[^\s,.;()"`]+)'
_QNAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT})*"
_RLS = re.compile(
    rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>{_QNAME})\s+"
    r"(?P<action>ENABLE|DISABLE|FORCE|NO\s+FORCE)\s+ROW\s+LEVEL\s+SECURITY\s*$",
    re.IGNORECASE,
)
_CREATE_POLICY = re.compile(
    rf"^CREATE\s+POLICY\s+(?P<name>{_IDENT})\s+ON\s+(?P<table>{_QNAME})(?P<rest>.*)$", re.IGNORECASE | re.DOTALL
)
_DROP_POLICY = re.compile(
    rf"^DROP\s+POLICY\s+(?:IF\s+EXISTS\s+)?(?P<name>{_IDENT})\s+ON\s+(?P<table>{_QNAME})", re.IGNORECASE
)
_DEFAULT_PRIVILEGES = re.compile(
    r"^ALTER\s+DEFAULT\s+PRIVILEGES(?:\s+FOR\s+(?:ROLE|USER)\s+(?P<owners>.+?))?"
    r"(?:\s+IN\s+SCHEMA\s+(?P<schemas>.+?))?\s+(?P<verb>GRANT|REVOKE)\s+(?:GRANT\s+OPTION\s+FOR\s+)?"
    r"(?P<privs>.+?)\s+ON\s+(?P<objects>TABLES|SEQUENCES|FUNCTIONS|ROUTINES|TYPES|SCHEMAS)\s+(?:TO|FROM)\s+"
    r"(?P<grantees>.+?)(?:\s+WITH\s+GRANT\s+OPTION)?(?:\s+CASCADE|\s+RESTRICT)?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_GRANT = re.compile(
    r"^(?P<verb>GRANT|REVOKE)\s+(?:GRANT\s+OPTION\s+FOR\s+)?(?P<privs>.+?)\s+ON\s+(?P<target>.+?)\s+"
    r"(?:TO|FROM)\s+(?P<grantees>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_GRANTEE_TAIL = re.compile(
    r"\s+(?:WITH\s+(?:GRANT|ADMIN)\s+OPTION|GRANTED\s+BY|REQUIRE|IDENTIFIED|AS\s|CASCADE|RESTRICT)\b.*$",
    re.IGNORECASE | re.DOTALL,
)
_GRANTEE = re.compile(
    r"^(?:GROUP\s+|ROLE\s+|USER\s+)?(?P<user>'[^']*'|\"[^\"]*\"|`[^`]*`|[^\s@'\"`]+)"
    r"(?:\s*@\s*(?P<host>'[^']*'|\"[^\"]*\"|`[^`]*`|\S+))?$",
    re.IGNORECASE,
)
_RENAME_TABLE = re.compile(r"^RENAME\s+TABLES?\s+(?P<pairs>.+)$", re.IGNORECASE | re.DOTALL)
_RELEVANT_KIND = re.compile(
    r"^(?P<kind>CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP\s+|TEMPORARY\s+|UNLOGGED\s+|"
    r"MATERIALIZED\s+|RECURSIVE\s+)*(?:TABLE|VIEW|POLICY)|ALTER\s+(?:TABLE|VIEW|MATERIALIZED\s+VIEW|"
    r"DEFAULT\s+PRIVILEGES)|GRANT|COMMENT\s+ON\s+COLUMN|RENAME\s+TABLE)\b",
    re.IGNORECASE,
)
# an opaque command (sqlglot's fallback) that may define columns the rules would judge
_RELEVANT_COMMAND = re.compile(
    r"^(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP\s+|TEMPORARY\s+|UNLOGGED\s+|"
    r"MATERIALIZED\s+|RECURSIVE\s+)*(?:TABLE|VIEW)\b"
    r"|ALTER\s+TABLE\b.*\b(?:ADD(?!\s+(?:CONSTRAINT|PRIMARY|UNIQUE|FOREIGN|CHECK|EXCLUDE|INDEX|KEY)\b)|TYPE|"
    r"RENAME(?!\s+CONSTRAINT))\b)",
    re.IGNORECASE | re.DOTALL,
)
_ALTER_HEAD = re.compile(rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>{_QNAME})\s+(?P<actions>.+)$",
                         re.IGNORECASE | re.DOTALL)
# ALTER TABLE actions that change no column's name, type or content
_NO_COLUMN_ACTION = re.compile(
    r"^(?:DROP\s+CONSTRAINT|ADD\s+(?:CONSTRAINT|CHECK|PRIMARY|UNIQUE|FOREIGN|EXCLUDE)|VALIDATE\s+CONSTRAINT|"
    r"ALTER\s+(?:COLUMN\s+)?\S+\s+(?:SET|DROP)\s+(?:DEFAULT|NOT\s+NULL|STATISTICS|STORAGE|EXPRESSION)|"
    r"ALTER\s+(?:COLUMN\s+)?\S+\s+SET\s+DEFAULT|OWNER\s+TO|SET\s|RESET\s|CLUSTER|REPLICA|INHERIT|NO\s+INHERIT|"
    r"ATTACH|DETACH|DROP\s+(?:COLUMN\s+)?)\b",
    re.IGNORECASE,
)
_ADD_COLUMN = re.compile(
    rf"^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_IDENT})\s+(?P<type>.+?)"
    r"(?=\s+(?:NOT|NULL|DEFAULT|UNIQUE|REFERENCES|PRIMARY|CHECK|CONSTRAINT|GENERATED|COLLATE)\b|\s*$)",
    re.IGNORECASE | re.DOTALL,
)
_KIND = re.compile(r"^(?:(?:CREATE|DROP|ALTER)(?:\s+OR\s+REPLACE)?\s+(?:UNIQUE\s+|MATERIALIZED\s+)?\w+|\w+)",
                   re.IGNORECASE)
_DROP_RELATIONS = re.compile(r"^DROP\s+(?:TABLE|VIEW|MATERIALIZED\s+VIEW)\s+(?:IF\s+EXISTS\s+)?(?P<names>.+?)"
                             r"(?:\s+(?:CASCADE|RESTRICT))?$", re.IGNORECASE | re.DOTALL)
_RENAME_RELATION = re.compile(rf"^ALTER\s+(?:TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<old>{_QNAME})\s+"
                              rf"RENAME\s+TO\s+(?P<new>{_IDENT})$", re.IGNORECASE)
# pgcrypto's password hashing (crypt(pw, gen_salt('bf')) is bcrypt), loaded or called
_HASHING = re.compile(r"\bCREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?pgcrypto\b|\b(?:crypt|gen_salt)\s*\(",
                      re.IGNORECASE)
_NON_TABLE_TARGETS = re.compile(
    r"^(?:SCHEMA|DATABASE|SEQUENCE|ALL\s+SEQUENCES|FUNCTION|ALL\s+FUNCTIONS|PROCEDURE|ALL\s+PROCEDURES|ROUTINE|"
    r"ALL\s+ROUTINES|LANGUAGE|LARGE\s+OBJECT|TABLESPACE|TYPE|DOMAIN|FOREIGN\s+DATA\s+WRAPPER|FOREIGN\s+SERVER|"
    r"PARAMETER)\b",
    re.IGNORECASE,
)


# -- helpers ---------------------------------------------------------------------------------------


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] in "\"`'[" and name[-1] in "\"`']":
        return name[1:-1]
    return name.lower()


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside quotes and parentheses."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    current: list[str] = []
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _split_qname(text: str) -> list[str]:
    return [_unquote(p) for p in re.findall(_IDENT, text)]


def _qualified(text: str) -> tuple[str | None, str]:
    parts = _split_qname(text)
    if not parts:
        return None, text
    if len(parts) == 1:
        return None, parts[0]
    return parts[-2], parts[-1]


def _table_name(table: exp.Expression) -> tuple[str | None, str]:
    if isinstance(table, exp.Schema):
        table = table.this
    ident = table.this
    name = ident.this if isinstance(ident, exp.Identifier) and ident.quoted else table.name.lower()
    db = table.args.get("db")
    schema = None
    if isinstance(db, exp.Identifier):
        schema = db.this if db.quoted else db.this.lower()
    elif db is not None:
        schema = str(db.name).lower()
    return schema, name


def _ident_name(node: exp.Expression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Identifier):
        return node.this if node.quoted else node.this.lower()
    if isinstance(node, exp.Column):
        return _ident_name(node.this)
    return node.name.lower()


def _comment_of(coldef: exp.ColumnDef) -> str | None:
    for constraint in coldef.args.get("constraints") or ():
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.CommentColumnConstraint):
            return kind.this.name if kind.this is not None else None
    return None


def parse_grantee(text: str, dialect: str) -> Grantee | None:
    match = _GRANTEE.match(text.strip())
    if not match:
        return None
    user_raw, host_raw = match.group("user"), match.group("host")
    user = _unquote(user_raw) if user_raw[0] in "'\"`" else user_raw.lower()
    if host_raw is not None:
        return Grantee(user, _unquote(host_raw) if host_raw[0] in "'\"`" else host_raw)
    if user == "public" and user_raw[0] not in "'\"`":
        return Grantee("public")
    if dialect == "mysql" and user not in ("current_user", "current_user()"):
        # MySQL: an account name without a host part means 'user'@'%' (any host).
        return Grantee(user, "%")
    return Grantee(user)


def _privileges(text: str) -> tuple[frozenset[str], dict[str, set[str]]]:
    """Table-wide privileges and column privileges (privilege -> columns) of a privilege list."""
    table: set[str] = set()
    columns: dict[str, set[str]] = {}
    for part in _split_top(text):
        match = re.match(r"^(?P<name>[A-Za-z ]+?)\s*(?:\((?P<cols>.*)\))?$", part.strip(), re.DOTALL)
        if not match:
            continue
        name = " ".join(match.group("name").upper().split())
        if name == "ALL PRIVILEGES":
            name = "ALL"
        if match.group("cols"):
            columns.setdefault(name, set()).update(_unquote(c) for c in _split_top(match.group("cols")))
        else:
            table.add(name)
    return frozenset(table), columns


def _readable(privileges: frozenset[str], column_privs: dict[str, set[str]]) -> set[str] | None:
    """Columns a privilege list lets the grantee read: None for all of them."""
    if privileges & READ_PRIVILEGES:
        return None
    readable: set[str] = set()
    for priv, cols in column_privs.items():
        if priv in READ_PRIVILEGES:
            readable |= cols
    return readable


def _is_masking(func: exp.Func) -> bool:
    """A function that masks, hashes or encrypts what it is given (a view column shows no plaintext)."""
    name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
    return any(marker in name for marker in MASKING_FUNCTIONS)


def _column_renames(node: exp.Alter) -> list[exp.Expression]:
    """The ALTER's actions, with PostgreSQL's ``RENAME [COLUMN] a TO b`` read as a column rename.

    ``COLUMN`` is optional in PostgreSQL (``ALTER TABLE person RENAME preferred_username TO
    display_name``); sqlglot reads the form without it as a table rename to ``preferred_username``
    with a stray ``TO display_name`` option, which would make the table disappear.
    """
    actions = list(node.args.get("actions") or ())
    to_table = [o for o in node.args.get("options") or () if isinstance(o, exp.ToTableProperty)]
    if len(actions) == 1 and isinstance(actions[0], exp.AlterRename) and len(to_table) == 1:
        old = actions[0].this.this if isinstance(actions[0].this, exp.Table) else actions[0].this
        new = to_table[0].this.this if isinstance(to_table[0].this, exp.Table) else to_table[0].this
        return [exp.RenameColumn(this=exp.Column(this=old.copy()), to=exp.Column(this=new.copy()))]
    return actions


# -- the analyzer ----------------------------------------------------------------------------------


class Analyzer:
    """Applies statements in order; ``apply`` returns the events one statement caused."""

    def __init__(self, dialect: str, policy: Policy) -> None:
        self.dialect = dialect
        self.policy = policy
        self.state = SchemaState(dialect, policy)
        self.notes: list[Note] = []

    # public ---------------------------------------------------------------------------------

    def apply(self, stmt: Statement, emit: bool = True) -> list[Event]:
        """Update the state with ``stmt``; its events, or none when only replaying (``emit=False``,
        the live schema), which also keeps that replay's notes out of the report."""
        notes = len(self.notes)
        events = list(self._apply(stmt))
        if not emit:
            del self.notes[notes:]
            return []
        return events

    def _apply(self, stmt: Statement) -> Iterator[Event]:
        node = stmt.expression
        if self.state.hashing is None and _HASHING.search(stmt.text):
            self.state.hashing = (f"the schema hashes passwords in SQL ({stmt.file}:{stmt.start_line} loads pgcrypto "
                                  "or calls crypt()/gen_salt())")
        if node is None:
            if stmt.unparsed is not None:
                yield from self._unparsed(stmt)
            return
        if isinstance(node, exp.Grant | exp.Revoke) or (
            isinstance(node, exp.Command) and str(node.this).upper() in ("GRANT", "REVOKE")
        ):
            yield from self._grant(stmt)
        elif isinstance(node, exp.Command):
            yield from self._command(stmt)
        elif isinstance(node, exp.Create):
            yield from self._create(stmt, node)
        elif isinstance(node, exp.Alter):
            yield from self._alter(stmt, node)
        elif isinstance(node, exp.Drop):
            self._drop(node)
        elif isinstance(node, exp.Comment):
            yield from self._comment(stmt, node)

    def _unparsed(self, stmt: Statement) -> Iterator[Event]:
        """A statement sqlglot cannot read: keep the state right from its text where that is safe
        (``DROP TABLE a, b``, ``ALTER TABLE a RENAME TO b``) and report it."""
        text = stmt.text
        drop = _DROP_RELATIONS.match(text)
        if drop:
            for item in _split_top(drop.group("names")):
                relation = self.state.find(*_qualified(item))
                if relation is not None:
                    self.state.remove(relation)
        rename = _RENAME_RELATION.match(text)
        if rename:
            relation = self.state.find(*_qualified(rename.group("old")))
            if relation is not None:
                self.state.rename(relation, None, _unquote(rename.group("new")))
        kind = _KIND.match(text)
        relevant = _RELEVANT_KIND.match(text)
        yield NotAnalysed(stmt, stmt.unparsed or "", " ".join((relevant or kind).group(0).upper().split())
                          if (relevant or kind) else "", relevant is not None and not rename)

    # graded snapshots ----------------------------------------------------------------------

    def _graded(self, relation: Relation, columns: set[str] | None = None) -> list[GradedColumn]:
        schema = self.state.effective_schema(relation)
        prefix = f"{schema}.{relation.name}" if schema else relation.name
        return [GradedColumn(relation.display, c, s, f"{prefix}.{c}")
                for c, s in self.state.graded_plaintext(relation, columns)]

    def _column_event(self, stmt: Statement, relation: Relation, column: Column, action: str,
                      before: Sensitivity | None) -> ColumnChanged:
        line, number = stmt.positions.get(column.name, (None, None))
        container = not column.sources and personal_container(column.name, column.type, relation.name)
        return ColumnChanged(stmt, relation.display, column.name, column.type.sql, action, before,
                             self.state.sensitivity(relation, column), line, number, container)

    # CREATE ---------------------------------------------------------------------------------

    def _create(self, stmt: Statement, node: exp.Create) -> Iterator[Event]:
        kind = str(node.args.get("kind") or "").upper()
        if kind not in ("TABLE", "VIEW"):
            return
        target = node.this
        schema, name = _table_name(target)
        existing = self.state.find(schema, name)
        if existing is not None and node.args.get("exists") and kind == "TABLE":
            return  # CREATE TABLE IF NOT EXISTS on a known table: no change
        relation = Relation(schema, name, kind.lower())
        if existing is not None:
            # CREATE OR REPLACE VIEW keeps grants and policies
            relation.grants, relation.column_grants = existing.grants, existing.column_grants
            relation.rls, relation.policies = existing.rls, existing.policies
            relation.restrictive_policies = existing.restrictive_policies
            self.state.remove(existing)
        query = node.expression
        if isinstance(target, exp.Schema):
            for coldef in target.expressions:
                if isinstance(coldef, exp.ColumnDef):
                    col = Column(_ident_name(coldef.this), column_type(coldef.args.get("kind")), _comment_of(coldef))
                    col.line_comment = stmt.line_comments.get(col.name)
                    relation.columns[col.name] = col
        elif isinstance(query, exp.Query):
            for col in self._lineage(query):
                relation.columns[col.name] = col
        self.state.add(relation)
        if kind == "TABLE":
            for col in relation.columns.values():
                yield self._column_event(stmt, relation, col, "create", None)
            yield from self._standing_grants(stmt, relation)

    def _lineage(self, query: exp.Query) -> list[Column]:
        """Output columns of a view query with the base columns each one shows."""
        aliases: dict[str, str] = {}
        tables: list[str] = []
        for table in query.find_all(exp.Table):
            schema, name = _table_name(table)
            relation = self.state.find(schema, name)
            if relation is None:
                continue
            key = self.state.key(relation.schema, relation.name)
            tables.append(key)
            aliases[name] = key
            if table.alias:
                aliases[table.alias.lower()] = key
        out: list[Column] = []
        select = query if isinstance(query, exp.Select) else query.find(exp.Select)
        if select is None:
            return out
        for projection in select.expressions:
            if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column)
                                                    and isinstance(projection.this, exp.Star)):
                qualifier = projection.table.lower() if isinstance(projection, exp.Column) else ""
                keys = [aliases[qualifier]] if qualifier and qualifier in aliases else tables
                for key in keys:
                    for base_col in self.state.relations[key].columns.values():
                        out.append(Column(base_col.name, base_col.type, base_col.comment, ((key, base_col.name),)))
                continue
            output = projection.alias_or_name.lower() if projection.alias_or_name else f"col{len(out) + 1}"
            sources: list[tuple[str, str]] = []
            for column in projection.find_all(exp.Column):
                col_name = _ident_name(column.this)
                qualifier = column.table.lower()
                candidates = [aliases[qualifier]] if qualifier in aliases else tables
                for key in candidates:
                    if col_name in self.state.relations[key].columns:
                        sources.append((key, col_name))
                        break
            masked = any(_is_masking(f) for f in projection.find_all(exp.Func))
            out.append(Column(output, ColumnType.unknown(), None, tuple(sources), masked))
        return out

    def _standing_grants(self, stmt: Statement, relation: Relation) -> Iterator[Event]:
        """Default privileges / database-wide grants reach a newly created table (one event per grantee)."""
        reaching: dict[Grantee, list[StandingGrant]] = {}
        for standing in self.state.standing:
            if standing.schema is not None and standing.schema != self.state.effective_schema(relation) and not (
                self.dialect == "mysql" and relation.schema is None
            ):
                continue
            if standing.via == "default privileges":
                relation.grants.setdefault(standing.grantee.key, set()).update(standing.privileges)
            reaching.setdefault(standing.grantee, []).append(standing)
        for grantee, grants in reaching.items():
            privileges = frozenset().union(*(g.privileges for g in grants))
            if privileges & READ_PRIVILEGES:
                via = "; ".join(f"{g.via} ({g.origin})" for g in grants)
                yield Granted(stmt, relation.display, grantee, privileges, [relation.display],
                              self._graded(relation), implicit_via=via)

    # ALTER ----------------------------------------------------------------------------------

    def _alter(self, stmt: Statement, node: exp.Alter) -> Iterator[Event]:
        schema, name = _table_name(node.this)
        relation = self.state.find(schema, name)
        for action in _column_renames(node):
            if isinstance(action, exp.AlterRename):
                if relation is not None:
                    self.state.rename(relation, *_table_name(action.this))
                continue
            if relation is None:
                if not isinstance(action, exp.ColumnDef | exp.RenameColumn | exp.ModifyColumn):
                    continue
                relation = self._unknown_table(stmt, schema, name)
            handler = next((h for kind, h in self._ALTER_ACTIONS if isinstance(action, kind)), None)
            if handler is not None:
                yield from handler(self, stmt, relation, action)
            elif isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
                for dropped in action.expressions or action.args.get("tables") or ():
                    relation.columns.pop(_ident_name(dropped), None)

    def _unknown_table(self, stmt: Statement, schema: str | None, name: str) -> Relation:
        """A table created before these migrations: its new columns are still judged."""
        relation = Relation(schema, name, "table", origin="unknown")
        self.state.add(relation)
        self.notes.append(Note(stmt, f"table {relation.display} is not created in these migrations; "
                                     "use --schema-from to judge it against the live schema"))
        return relation

    def _add_column(self, stmt: Statement, relation: Relation, action: exp.ColumnDef) -> Iterator[Event]:
        col = Column(_ident_name(action.this), column_type(action.args.get("kind")), _comment_of(action))
        col.line_comment = stmt.line_comments.get(col.name)
        before = None
        if col.name in relation.columns:
            before = self.state.sensitivity(relation, relation.columns[col.name])
        relation.columns[col.name] = col
        yield self._column_event(stmt, relation, col, "add", before)

    def _rename_column(self, stmt: Statement, relation: Relation, action: exp.RenameColumn) -> Iterator[Event]:
        old, new = _ident_name(action.this), _ident_name(action.args.get("to"))
        col = relation.columns.pop(old, None) or Column(old, ColumnType.unknown())
        before = self.state.sensitivity(relation, col) if col.type.family != "unknown" else None
        col.name = new
        relation.columns[new] = col
        self._rename_column_refs(relation, old, new)
        if col.type.family != "unknown":
            yield self._column_event(stmt, relation, col, "rename", before)

    def _modify_column(self, stmt: Statement, relation: Relation, action: exp.ModifyColumn) -> Iterator[Event]:
        """MySQL MODIFY/CHANGE: a new definition, possibly under a new name."""
        coldef = action.this
        old = _ident_name(action.args.get("rename_from")) or _ident_name(coldef.this)
        previous = relation.columns.pop(old, None)
        before = self.state.sensitivity(relation, previous) if previous is not None else None
        col = Column(_ident_name(coldef.this), column_type(coldef.args.get("kind")), _comment_of(coldef) or None)
        relation.columns[col.name] = col
        if old != col.name:
            self._rename_column_refs(relation, old, col.name)
        if previous is not None or relation.origin == "unknown":
            yield self._column_event(stmt, relation, col, "type", before)

    def _retype_column(self, stmt: Statement, relation: Relation, action: exp.AlterColumn) -> Iterator[Event]:
        """PostgreSQL ALTER COLUMN ... TYPE (other ALTER COLUMN forms do not change what it holds)."""
        col = relation.columns.get(_ident_name(action.this))
        dtype = action.args.get("dtype")
        if dtype is None or col is None:
            return
        before = self.state.sensitivity(relation, col)
        col.type = column_type(dtype)
        col.line_comment = None  # it described the old type
        yield self._column_event(stmt, relation, col, "type", before)

    #: ALTER TABLE actions that change a column, in the order they are tried
    _ALTER_ACTIONS: ClassVar[tuple[tuple[type, Callable[..., Iterator[Event]]], ...]] = (
        (exp.ColumnDef, _add_column),
        (exp.RenameColumn, _rename_column),
        (exp.ModifyColumn, _modify_column),
        (exp.AlterColumn, _retype_column),
    )

    def _rename_column_refs(self, relation: Relation, old: str, new: str) -> None:
        key = self.state.key(relation.schema, relation.name)
        for other in [self.state.relations[k] for k in self.state.derived]:
            for column in other.columns.values():
                if (key, old) in column.sources:
                    column.sources = tuple((s, new if (s, c) == (key, old) else c) for s, c in column.sources)
        for privileges in relation.column_grants.values():
            if old in privileges:
                privileges[new] = privileges.pop(old)

    # DROP / COMMENT -------------------------------------------------------------------------

    def _drop(self, node: exp.Drop) -> None:
        if str(node.args.get("kind") or "").upper() not in ("TABLE", "VIEW"):
            return
        for table in node.expressions or node.args.get("tables") or ([node.this] if node.this else []):
            if isinstance(table, exp.Table):
                relation = self.state.find(*_table_name(table))
                if relation is not None:
                    self.state.remove(relation)

    def _comment(self, stmt: Statement, node: exp.Comment) -> Iterator[Event]:
        if str(node.args.get("kind") or "").upper() != "COLUMN":
            return
        target = node.this
        if not isinstance(target, exp.Column):
            return
        names = [_ident_name(p) for p in target.parts]
        column_name = names[-1]
        schema = names[-3] if len(names) >= 3 else None
        table = names[-2] if len(names) >= 2 else ""
        relation = self.state.find(schema, table)
        if relation is None or column_name not in relation.columns:
            return
        col = relation.columns[column_name]
        before = self.state.sensitivity(relation, col)
        expression = node.args.get("expression")
        col.comment = expression.name if expression is not None else None
        yield self._column_event(stmt, relation, col, "comment", before)

    # GRANT / REVOKE -------------------------------------------------------------------------

    def _grant(self, stmt: Statement) -> Iterator[Event]:
        match = _GRANT.match(stmt.text)
        if not match:
            return  # role membership (GRANT role TO user) or a form without ON: no table access
        revoke = match.group("verb").upper() == "REVOKE"
        privileges, column_privs = _privileges(match.group("privs"))
        target = match.group("target").strip()
        grantee_text = _GRANTEE_TAIL.sub("", match.group("grantees"))
        grantees = [g for g in (parse_grantee(t, self.dialect) for t in _split_top(grantee_text)) if g is not None]
        if _NON_TABLE_TARGETS.match(target):
            return
        relations = self._grant_targets(stmt, target, grantees, privileges, revoke)
        for grantee in grantees:
            for securable, targets in relations:
                if revoke:
                    for relation in targets:
                        self._revoke(relation, grantee, privileges, column_privs)
                    continue
                event = self._granted(stmt, securable, grantee, targets, privileges, column_privs)
                if event is not None:
                    yield event

    def _grant_targets(self, stmt: Statement, target: str, grantees: list[Grantee], privileges: frozenset[str],
                       revoke: bool) -> list[tuple[str, list[Relation]]]:
        """The relations a GRANT/REVOKE names, each with how the statement names it: ALL TABLES IN SCHEMA,
        MySQL ``db.*``/``*.*`` (also recorded as standing grants for tables created later), or tables."""
        all_in_schema = re.match(r"^ALL\s+TABLES\s+IN\s+SCHEMA\s+(?P<schemas>.+)$", target, re.IGNORECASE)
        if all_in_schema:
            return [(f"ALL TABLES IN SCHEMA {schema}", self.state.in_schema(schema))
                    for schema in (_unquote(t) for t in _split_top(all_in_schema.group("schemas")))]
        mysql_wild = re.match(rf"^(?:(?P<db>{_IDENT})\s*\.\s*)?\*(?:\s*\.\s*\*)?$", target)
        if mysql_wild:
            return [self._database_wide(stmt, mysql_wild, target, grantees, privileges, revoke)]
        relations = []
        for item in _split_top(re.sub(r"^TABLE\s+", "", target, flags=re.IGNORECASE)):
            schema, name = _qualified(item)
            relation = self.state.find(schema, name)
            if relation is not None:
                relations.append((relation.display, [relation]))
            elif not revoke:
                shown = f"{schema}.{name}" if schema else name
                self.notes.append(Note(stmt, f"GRANT on {shown}, which is not created in these migrations; "
                                             "use --schema-from to judge it against the live schema"))
        return relations

    def _database_wide(self, stmt: Statement, match: re.Match[str], target: str, grantees: list[Grantee],
                       privileges: frozenset[str], revoke: bool) -> tuple[str, list[Relation]]:
        """MySQL ``db.*`` / ``*.*``: today's tables, and a standing grant for the ones created later."""
        db = _unquote(match.group("db")) if match.group("db") else None
        everything = target.replace(" ", "") == "*.*"
        scope = None if everything else db
        label = "*.*" if everything else (f"{db}.*" if db else "*")
        for grantee in grantees:
            if revoke:
                self.state.standing = [s for s in self.state.standing
                                       if not (s.grantee == grantee and s.schema == scope
                                               and s.via == "database-wide grant")]
            else:
                self.state.standing.append(StandingGrant(scope, grantee, privileges, f"{stmt.file}:"
                                                         f"{stmt.start_line}", "database-wide grant"))
        return label, self.state.in_schema(scope) if scope else list(self.state.relations.values())

    def _granted(self, stmt: Statement, securable: str, grantee: Grantee, targets: list[Relation],
                 privileges: frozenset[str], column_privs: dict[str, set[str]]) -> Granted | None:
        """Record a grant on ``targets``; the event when it lets ``grantee`` read, with the graded columns
        it opens and the views it makes readable more widely than their base tables."""
        graded: list[GradedColumn] = []
        wider: list[tuple[GradedColumn, str]] = []
        for relation in targets:
            # wider-than-base is judged before this grant is recorded
            if relation.kind == "view":
                wider.extend(self._wider(relation, grantee, privileges, column_privs))
            self._record(relation, grantee, privileges, column_privs)
            readable = _readable(privileges, column_privs)
            if readable is None or readable:
                graded.extend(self._graded(relation, readable))
        all_privs = privileges | frozenset(column_privs)
        if not all_privs & READ_PRIVILEGES:
            return None
        return Granted(stmt, securable, grantee, all_privs, [r.display for r in targets], graded, wider)

    def _record(self, relation: Relation, grantee: Grantee, privileges: frozenset[str],
                column_privs: dict[str, set[str]]) -> None:
        if privileges:
            relation.grants.setdefault(grantee.key, set()).update(privileges)
        for priv, cols in column_privs.items():
            per_column = relation.column_grants.setdefault(grantee.key, {})
            for col in cols:
                per_column.setdefault(col, set()).add(priv)

    def _revoke(self, relation: Relation, grantee: Grantee, privileges: frozenset[str],
                column_privs: dict[str, set[str]]) -> None:
        held = relation.grants.get(grantee.key)
        if held is not None:
            held.difference_update(held if "ALL" in privileges else privileges)
        per_column = relation.column_grants.get(grantee.key, {})
        for priv, cols in column_privs.items():
            for col in cols:
                per_column.get(col, set()).discard(priv)

    def _wider(self, view: Relation, grantee: Grantee, privileges: frozenset[str],
               column_privs: dict[str, set[str]]) -> Iterator[tuple[GradedColumn, str]]:
        readable = _readable(privileges, column_privs)
        for name, column in view.columns.items():
            if readable is not None and name not in readable:
                continue
            sens = self.state.sensitivity(view, column)
            if sens is None or sens.protected:
                continue
            for source_key, source_col in column.sources:
                base = self.state.relations.get(source_key)
                if base is None or base.kind == "view":
                    continue
                if not self.state.can_read(grantee, base, source_col):
                    yield GradedColumn(view.display, name, sens), f"{base.display}.{source_col}"
                    break

    # Commands -------------------------------------------------------------------------------

    def _command(self, stmt: Statement) -> Iterator[Event]:
        """Statements sqlglot keeps as opaque text, by the first form that matches; a table-changing one
        nothing matches is listed as not analysed."""
        for pattern, handler in self._COMMANDS:
            match = pattern.match(stmt.text)
            if match:
                yield from handler(self, stmt, match)
                return
        if _RELEVANT_COMMAND.match(stmt.text):
            # sqlglot fell back to opaque text: the columns of this table were not read, unless every
            # action is an ADD COLUMN whose name and type can be read on their own
            recovered = self._added_columns(stmt.text)
            if recovered is not None:
                yield from self._alter(stmt, recovered)
                return
            kind = _KIND.match(stmt.text)
            yield NotAnalysed(stmt, "the parser reads it only as opaque text",
                              " ".join(kind.group(0).upper().split()) if kind else "", True)

    def _row_security(self, stmt: Statement, match: re.Match[str]) -> Iterator[Event]:
        relation = self.state.find(*_qualified(match.group("table")))
        if relation is None:
            return
        action = " ".join(match.group("action").lower().split())
        if action == "enable":
            relation.rls = True
        elif action == "disable":
            relation.rls = False
        yield RowSecurityChanged(stmt, relation.display, action, self._graded(relation))

    def _create_policy(self, stmt: Statement, match: re.Match[str]) -> Iterator[Event]:
        relation = self.state.find(*_qualified(match.group("table")))
        if relation is not None:
            name = _unquote(match.group("name"))
            relation.policies.add(name)
            if re.match(r"^\s*AS\s+RESTRICTIVE\b", match.group("rest"), re.IGNORECASE):
                relation.restrictive_policies.add(name)
        return iter(())

    def _drop_policy(self, stmt: Statement, match: re.Match[str]) -> Iterator[Event]:
        relation = self.state.find(*_qualified(match.group("table")))
        if relation is None:
            return
        policy = _unquote(match.group("name"))
        restrictive = policy in relation.restrictive_policies
        relation.policies.discard(policy)
        relation.restrictive_policies.discard(policy)
        yield PolicyDropped(stmt, relation.display, policy, len(relation.policies), relation.rls, restrictive,
                            self._graded(relation))

    def _rename_tables(self, stmt: Statement, match: re.Match[str]) -> Iterator[Event]:
        """MySQL ``RENAME TABLE a TO b, c TO d``."""
        for pair in _split_top(match.group("pairs")):
            names = re.split(r"\s+TO\s+", pair, flags=re.IGNORECASE)
            if len(names) == 2:
                relation = self.state.find(*_qualified(names[0]))
                if relation is not None:
                    self.state.rename(relation, *_qualified(names[1]))
        return iter(())

    #: opaque statements understood, in the order they are tried
    _COMMANDS: ClassVar[tuple[tuple[re.Pattern[str], Callable[..., Iterator[Event]]], ...]] = (
        (_RLS, _row_security),
        (_CREATE_POLICY, _create_policy),
        (_DROP_POLICY, _drop_policy),
        (_DEFAULT_PRIVILEGES, lambda self, stmt, match: self._default_privileges(stmt, match)),
        (_RENAME_TABLE, _rename_tables),
    )

    def _added_columns(self, text: str) -> exp.Alter | None:
        """``ALTER TABLE t ADD COLUMN c int UNIQUE REFERENCES x ON UPDATE CASCADE, ...`` that sqlglot reads only
        as text: the same statement with each column's name and type alone, or None when any action is
        something else."""
        head = _ALTER_HEAD.match(text)
        if head is None:
            return None
        columns = []
        for action in _split_top(head.group("actions")):
            if re.match(r"^DROP\s+(?:COLUMN\s+)?(?!CONSTRAINT\b)", action, re.IGNORECASE):
                columns.append(action)  # sqlglot reads a DROP COLUMN
                continue
            if _NO_COLUMN_ACTION.match(action):
                continue
            added = _ADD_COLUMN.match(action)
            if added is None:
                return None
            columns.append(f"ADD COLUMN {added.group('name')} {added.group('type')}")
        if not columns:
            return None
        try:
            node = sqlglot.parse_one(f"ALTER TABLE {head.group('table')} {', '.join(columns)}", read=self.dialect)
        except sqlglot.errors.SqlglotError:
            return None
        return node if isinstance(node, exp.Alter) else None

    def _default_privileges(self, stmt: Statement, match: re.Match[str]) -> Iterator[Event]:
        if match.group("objects").upper() != "TABLES":
            return
        schemas: tuple[str | None, ...] = tuple(
            _unquote(s) for s in _split_top(match.group("schemas") or "")
        ) or (None,)
        privileges, _ = _privileges(match.group("privs"))
        grantees = [g for g in (parse_grantee(t, self.dialect) for t in _split_top(match.group("grantees")))
                    if g is not None]
        revoke = match.group("verb").upper() == "REVOKE"
        for grantee in grantees:
            for schema in schemas:
                if revoke:
                    self.state.standing = [s for s in self.state.standing
                                           if not (s.grantee == grantee and s.schema == schema
                                                   and s.via == "default privileges")]
                else:
                    self.state.standing.append(StandingGrant(schema, grantee, privileges,
                                                             f"{stmt.file}:{stmt.start_line}", "default privileges"))
            if not revoke and privileges & READ_PRIVILEGES:
                graded: list[GradedColumn] = []
                for schema in schemas:
                    for relation in self.state.in_schema(schema):
                        graded.extend(self._graded(relation))
                yield DefaultPrivilegesGranted(stmt, schemas, grantee, privileges, graded)
