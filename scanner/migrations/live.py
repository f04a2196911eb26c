"""``--schema-from``: start the replay from a live database's schema.

A migration that only says ``GRANT SELECT ON customer TO PUBLIC`` is harmless or a breach depending
on what ``customer`` holds, which was decided long ago and lives in the database, not in the pull
request. This module reads just the catalog (never a row of data) and loads it into the
:class:`~scanner.migrations.schema.SchemaState` before the migrations are replayed:

* tables and their columns, declared types and comments;
* views with their definitions (for lineage through views);
* table- and column-level grants including PUBLIC (PostgreSQL ``relacl``/``attacl`` through
  ``aclexplode``, not ``information_schema`` which hides grants to roles the connecting user is not
  a member of); MySQL/MariaDB ``information_schema.*_PRIVILEGES`` with ``db.*``/``*.*`` grants;
* row-level security flags and policies, and PostgreSQL default privileges.

Safety as in the database connectors: PostgreSQL sessions are read-only from the first statement
(``default_transaction_read_only``) with statement and lock timeouts; TLS is verified by default
(``sslmode=verify-full``; add ``?sslmode=...`` or set ``PGSSLMODE`` to change it; MySQL
``?ssl=disable|require|verify``). Passwords come from the client libraries' environment and files
(``PGPASSWORD``/``~/.pgpass``, ``MYSQL_PWD``/``~/.my.cnf``) and are never printed.
``sqlite:///path`` opens the file read-only and replays ``sqlite_master``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from connectors._sql import redact_password as redact
from scanner.migrations.schema import Column, ColumnType, Grantee, Relation, StandingGrant

LIVE_ORIGIN = "live schema"


class SchemaSourceError(ValueError):
    """``--schema-from`` could not be used; the message says how to fix it."""


@dataclass
class LiveSchema:
    """Catalog facts, dialect-neutral; ``schema`` None means the default/current schema."""

    tables: list[tuple[str | None, str, list[tuple[str, str, str | None]]]] = field(default_factory=list)
    views: list[tuple[str | None, str, str]] = field(default_factory=list)
    grants: list[tuple[str | None, str, Grantee, str, str | None]] = field(default_factory=list)
    standing: list[StandingGrant] = field(default_factory=list)
    rls: list[tuple[str | None, str]] = field(default_factory=list)
    policies: list[tuple[str | None, str, str, bool]] = field(default_factory=list)
    statements_sql: str = ""  # SQLite: the schema as DDL


def column_type_from_text(type_sql: str) -> ColumnType:
    """ColumnType from a catalog type name (``character varying(18)``, ``varbinary(64)``, ``tinyint(1)``)."""
    text = type_sql.strip().lower()
    match = re.search(r"\((\d+)", text)
    length = int(match.group(1)) if match else None
    if text.startswith(("bytea", "varbinary", "binary", "blob", "tinyblob", "mediumblob", "longblob")):
        return ColumnType(type_sql, "binary", length)
    if text in ("boolean", "bool", "bit", "bit(1)") or text.startswith("tinyint(1)"):
        return ColumnType(type_sql, "boolean", length)
    if text.startswith(("character", "char", "varchar", "text", "tinytext", "mediumtext", "longtext", "citext",
                        "nvarchar", "nchar", "bpchar", "name")):
        return ColumnType(type_sql, "string", length)
    return ColumnType(type_sql, "other", length)


def load_into(analyzer: Any, live: LiveSchema) -> list[str]:
    """Populate ``analyzer.state`` from ``live``; returns problems (views whose SQL did not parse)."""
    from scanner.migrations.parsing import parse_sql

    state = analyzer.state
    problems: list[str] = []
    for schema, name, columns in live.tables:
        relation = Relation(schema, name, "table", origin=LIVE_ORIGIN)
        for col_name, type_sql, comment in columns:
            relation.columns[col_name] = Column(col_name, column_type_from_text(type_sql), comment or None)
        state.add(relation)
    for schema, name, definition in live.views:
        qualified = f'"{schema}"."{name}"' if schema else f'"{name}"'
        if analyzer.dialect == "mysql":
            qualified = qualified.replace('"', "`")
        parsed = parse_sql(f"CREATE VIEW {qualified} AS {definition.rstrip().rstrip(';')};", analyzer.dialect,
                           "<schema-from>")
        if parsed.problems or not parsed.statements:
            problems.append(f"view {schema + '.' if schema else ''}{name}: definition not understood; "
                            "grants on it are judged without its lineage")
            state.add(Relation(schema, name, "view", origin=LIVE_ORIGIN))
            continue
        analyzer.apply(parsed.statements[0], emit=False)
    for schema, name, grantee, privilege, column in live.grants:
        relation = state.find(schema, name)
        if relation is None:
            continue
        if column is None:
            relation.grants.setdefault(grantee.key, set()).add(privilege)
        else:
            relation.column_grants.setdefault(grantee.key, {}).setdefault(column, set()).add(privilege)
    for schema, name in live.rls:
        relation = state.find(schema, name)
        if relation is not None:
            relation.rls = True
    for schema, name, policy, restrictive in live.policies:
        relation = state.find(schema, name)
        if relation is not None:
            relation.policies.add(policy)
            if restrictive:
                relation.restrictive_policies.add(policy)
    state.standing.extend(live.standing)
    return problems


def _require(module: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise SchemaSourceError(f"--schema-from needs {module}: install the db extra, pip install 'privaudit[db]'")


def read_live_schema(uri: str, dialect: str) -> LiveSchema:
    """Read the catalog behind ``uri`` (sqlite:///, postgresql://, mysql://)."""
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme == "sqlite":
        return _sqlite(uri)
    if scheme in ("postgresql", "postgres"):
        if dialect != "postgres":
            raise SchemaSourceError(f"--schema-from {scheme}:// needs --dialect postgres")
        _require("psycopg")
        return _postgres(uri)
    if scheme in ("mysql", "mariadb"):
        if dialect != "mysql":
            raise SchemaSourceError(f"--schema-from {scheme}:// needs --dialect mysql")
        _require("pymysql")
        return _mysql(uri)
    raise SchemaSourceError(f"--schema-from {uri!r}: use postgresql://user@host/db, mysql://user@host/db or "
                            "sqlite:///path.db (passwords from PGPASSWORD/~/.pgpass or MYSQL_PWD/~/.my.cnf)")


# -- SQLite ------------------------------------------------------------------------------------------


def _sqlite(uri: str) -> LiveSchema:
    import sqlite3

    # SQLAlchemy convention: sqlite:///relative.db, sqlite:////absolute/path.db
    path = uri[len("sqlite://"):]
    path = path[1:] if path.startswith("/") else path
    if not path or not os.path.exists(path):
        raise SchemaSourceError(f"--schema-from {uri}: no SQLite database at {path!r}; "
                                "use sqlite:///relative/path.db or sqlite:////absolute/path.db")
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = conn.execute(
                "SELECT sql FROM sqlite_master WHERE type IN ('table', 'view') AND sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise SchemaSourceError(f"--schema-from {uri}: cannot read the schema: {exc}") from None
    return LiveSchema(statements_sql="".join(f"{row[0]};\n" for row in rows))


# -- PostgreSQL --------------------------------------------------------------------------------------

_PG_NOT_SYSTEM = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'"


def _pg_schema(name: str) -> str | None:
    return None if name == "public" else name


def _pg_grantee(name: str | None) -> Grantee:
    return Grantee("public") if not name else Grantee(name)


def _postgres(uri: str) -> LiveSchema:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - a declared dependency
        raise SchemaSourceError("--schema-from postgresql:// needs psycopg (pip install 'psycopg[binary]')") from None
    query = dict(parse_qsl(urlsplit(uri).query))
    kwargs: dict[str, Any] = {
        "autocommit": True, "connect_timeout": 10, "application_name": "privaudit check-migrations",
        "options": "-c default_transaction_read_only=on -c statement_timeout=30000 -c lock_timeout=5000",
    }
    if "sslmode" not in query and not os.environ.get("PGSSLMODE"):
        kwargs["sslmode"] = "verify-full"
        if "sslrootcert" not in query and not os.environ.get("PGSSLROOTCERT"):
            kwargs["sslrootcert"] = "system"
    try:
        conn = psycopg.connect(uri, **kwargs)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SchemaSourceError(f"--schema-from {redact(uri)}: cannot connect: {first} (password from PGPASSWORD "
                                "or ~/.pgpass; add ?sslmode=disable only for a local test server)") from None
    live = LiveSchema()
    try:
        rows = conn.execute(
            "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), "
            "col_description(c.oid, a.attnum) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            f"WHERE c.relkind IN ('r', 'p', 'f') AND {_PG_NOT_SYSTEM} ORDER BY 1, 2, a.attnum"
        ).fetchall()
        tables: dict[tuple[str, str], list[tuple[str, str, str | None]]] = {}
        for schema, table, column, type_sql, comment in rows:
            tables.setdefault((schema, table), []).append((column, type_sql, comment))
        live.tables = [(_pg_schema(s), t, cols) for (s, t), cols in tables.items()]
        live.views = [
            (_pg_schema(s), v, d) for s, v, d in conn.execute(
                "SELECT n.nspname, c.relname, pg_get_viewdef(c.oid, true) FROM pg_class c "
                f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') AND {_PG_NOT_SYSTEM}"
            ).fetchall()
        ]
        for schema, table, grantee, privilege in conn.execute(
            "SELECT n.nspname, c.relname, CASE WHEN x.grantee = 0 THEN NULL ELSE pg_get_userbyid(x.grantee) END, "
            "x.privilege_type FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) x "
            f"WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {_PG_NOT_SYSTEM}"
        ).fetchall():
            live.grants.append((_pg_schema(schema), table, _pg_grantee(grantee), privilege, None))
        for schema, table, column, grantee, privilege in conn.execute(
            "SELECT n.nspname, c.relname, a.attname, CASE WHEN x.grantee = 0 THEN NULL ELSE "
            "pg_get_userbyid(x.grantee) END, x.privilege_type FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid "
            "AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL, aclexplode(a.attacl) x "
            f"WHERE {_PG_NOT_SYSTEM}"
        ).fetchall():
            live.grants.append((_pg_schema(schema), table, _pg_grantee(grantee), privilege, column))
        live.rls = [
            (_pg_schema(s), t) for s, t in conn.execute(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                f"WHERE c.relrowsecurity AND {_PG_NOT_SYSTEM}"
            ).fetchall()
        ]
        live.policies = [
            (_pg_schema(s), t, p, not permissive) for s, t, p, permissive in conn.execute(
                "SELECT n.nspname, c.relname, p.polname, p.polpermissive FROM pg_policy p "
                "JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            ).fetchall()
        ]
        for schema, grantee, privilege in conn.execute(
            "SELECT n.nspname, CASE WHEN x.grantee = 0 THEN NULL ELSE pg_get_userbyid(x.grantee) END, "
            "x.privilege_type FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, "
            "aclexplode(d.defaclacl) x WHERE d.defaclobjtype = 'r'"
        ).fetchall():
            live.standing.append(StandingGrant(schema, _pg_grantee(grantee), frozenset({privilege}), LIVE_ORIGIN,
                                               "default privileges"))
    except psycopg.Error as exc:
        raise SchemaSourceError(f"--schema-from {redact(uri)}: cannot read the catalog: {exc}") from None
    finally:
        conn.close()
    return live


# -- MySQL / MariaDB ---------------------------------------------------------------------------------

_MYSQL_SYSTEM = ("mysql", "information_schema", "performance_schema", "sys")


def _mysql(uri: str) -> LiveSchema:
    import ssl

    import pymysql

    parts = urlsplit(uri)
    query = dict(parse_qsl(parts.query))
    database = unquote(parts.path.lstrip("/")) or None
    kwargs: dict[str, Any] = {
        "host": parts.hostname or "localhost", "port": parts.port or 3306,
        "user": unquote(parts.username) if parts.username else os.environ.get("USER", "root"),
        "connect_timeout": 10, "read_timeout": 30, "charset": "utf8mb4",
    }
    password = unquote(parts.password) if parts.password else os.environ.get("MYSQL_PWD")
    if password is not None:
        kwargs["password"] = password
    my_cnf = Path.home() / ".my.cnf"
    if my_cnf.is_file():
        kwargs["read_default_file"] = str(my_cnf)
    mode = query.get("ssl", "verify").lower()
    if mode == "verify":
        kwargs["ssl"] = {"ca": ssl.get_default_verify_paths().cafile}
        kwargs["ssl_verify_cert"] = True
        kwargs["ssl_verify_identity"] = True
    elif mode == "require":
        kwargs["ssl"] = {"check_hostname": False}
        kwargs["ssl_verify_cert"] = False
    elif mode != "disable":
        raise SchemaSourceError(f"--schema-from: ssl={mode!r}; use ssl=verify (default), require or disable")
    try:
        conn = pymysql.connect(**kwargs)
    except pymysql.MySQLError as exc:
        raise SchemaSourceError(f"--schema-from {redact(uri)}: cannot connect: {exc} (password from MYSQL_PWD or "
                                "~/.my.cnf; add ?ssl=disable only for a local test server)") from None

    def schema_of(name: str) -> str | None:
        return None if database is not None and name == database else name

    live = LiveSchema()
    where = "TABLE_SCHEMA = %s" if database else "TABLE_SCHEMA NOT IN %s"
    arg: Any = database if database else _MYSQL_SYSTEM
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION READ ONLY")
            cur.execute(
                "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.COLUMN_COMMENT "
                "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA "
                f"AND t.TABLE_NAME = c.TABLE_NAME WHERE t.TABLE_TYPE = 'BASE TABLE' AND c.{where} "
                "ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION", (arg,))
            tables: dict[tuple[str, str], list[tuple[str, str, str | None]]] = {}
            for schema, table, column, type_sql, comment in cur.fetchall():
                tables.setdefault((schema, table), []).append((column, type_sql, comment))
            live.tables = [(schema_of(s), t, cols) for (s, t), cols in tables.items()]
            cur.execute(f"SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE {where}",
                        (arg,))
            live.views = [(schema_of(s), v, d) for s, v, d in cur.fetchall() if d]
            cur.execute(f"SELECT GRANTEE, TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE FROM "
                        f"information_schema.TABLE_PRIVILEGES WHERE {where}", (arg,))
            for grantee, schema, table, privilege in cur.fetchall():
                live.grants.append((schema_of(schema), table, _mysql_grantee(grantee), privilege, None))
            cur.execute(f"SELECT GRANTEE, TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, PRIVILEGE_TYPE FROM "
                        f"information_schema.COLUMN_PRIVILEGES WHERE {where}", (arg,))
            for grantee, schema, table, column, privilege in cur.fetchall():
                live.grants.append((schema_of(schema), table, _mysql_grantee(grantee), privilege, column))
            cur.execute(f"SELECT GRANTEE, TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES "
                        f"WHERE {where}", (arg,))
            for grantee, schema, privilege in cur.fetchall():
                live.standing.append(StandingGrant(schema_of(schema) or database, _mysql_grantee(grantee),
                                                   frozenset({privilege}), LIVE_ORIGIN, "database-wide grant"))
            cur.execute("SELECT GRANTEE, PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES "
                        "WHERE PRIVILEGE_TYPE = 'SELECT'")
            for grantee, privilege in cur.fetchall():
                live.standing.append(StandingGrant(None, _mysql_grantee(grantee), frozenset({privilege}), LIVE_ORIGIN,
                                                   "database-wide grant"))
    except pymysql.MySQLError as exc:
        raise SchemaSourceError(f"--schema-from {redact(uri)}: cannot read the catalog: {exc}") from None
    finally:
        conn.close()
    return live


def _mysql_grantee(text: str) -> Grantee:
    from scanner.migrations.analysis import parse_grantee

    return parse_grantee(text, "mysql") or Grantee(text)
