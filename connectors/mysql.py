"""MySQL and MariaDB: graded columns, whether they are protected, which accounts can read them.

Safe on production:

* sessions are read-only (``SET SESSION TRANSACTION READ ONLY`` and every sample inside
  ``START TRANSACTION READ ONLY``, MySQL docs "START TRANSACTION") with a per-statement limit
  (MySQL ``max_execution_time`` in ms, MariaDB ``max_statement_time`` in s);
* identifiers are quoted by sqlglot's MySQL dialect, never by string formatting;
* sampling is bounded (``sample_rows``, default 200) and uses primary-key ranges from a seeded
  start on large tables instead of ``ORDER BY RAND()`` (which sorts the whole table);
* passwords come from ``MYSQL_PWD`` or option files (``~/.my.cnf`` ``[client]``, read by PyMySQL
  through ``read_default_file``), never from output;
* TLS: used whenever the server offers it; ``ssl-mode`` in the target query (MySQL client names:
  DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY) defaults to VERIFY_IDENTITY.

Privileges come from the grant tables (``mysql.user``/``db``/``tables_priv``/``columns_priv``,
MySQL docs "Grant Tables"), so they cover every account, not just the scanning one; roles from
``mysql.roles_mapping`` (MariaDB) or ``mysql.role_edges`` (MySQL 8). Accounts whose host part lets
them log in from any host (``%``, ``0.0.0.0/0``; not a subnet such as ``10.0.0.%``) are marked, by the
same test check-migrations uses (:func:`scanner.migrations.schema.mysql_any_host`).

With ``--state`` a table is sampled again only when its description or its statistics changed
(:meth:`MySQLConnector._row_stats`); the grant tables and server variables are read on every run.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import random
import ssl
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from connectors._sql import (
    SAMPLE_SEED,
    ColumnInfo,
    SQLConnector,
    no_tls_note,
    redact_password,
    sample_rows,
    selected,
    statement_timeout_ms,
    table_resource,
    table_uri,
    with_change,
)
from scanner.connector import FILE_PATH, ReadError, ScanOptions, TargetOption
from scanner.facts import Observation, ReadAccess, Transport
from scanner.migrations.schema import mysql_any_host
from scanner.model import Level, Notification, Resource
from scanner.registry import CONNECTORS

SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys")
BINARY_TYPES = ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob")
NUMERIC_TYPES = ("tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric", "float",
                 "double", "bit")
INTEGER_TYPES = ("tinyint", "smallint", "mediumint", "int", "integer", "bigint")
PK_RANGE_MIN_ROWS = 10_000
VANISHED_ERRORS = (1146, 1049)  # ER_NO_SUCH_TABLE, ER_BAD_DB_ERROR
DENIED_ERRORS = (1142, 1143)  # ER_TABLEACCESS_DENIED_ERROR, ER_COLUMNACCESS_DENIED_ERROR
TIMEOUT_ERRORS = (1969, 3024)  # MariaDB max_statement_time, MySQL max_execution_time exceeded
#: a table written this recently gets no change key (UPDATE_TIME counts whole seconds: see _row_stats)
HOT_SECONDS = 1


def _q(*parts: str) -> str:
    """Quoted, dotted identifier (sqlglot MySQL dialect: backticks, embedded backticks doubled)."""
    from sqlglot import exp

    return ".".join(exp.to_identifier(p, quoted=True).sql(dialect="mysql") for p in parts)


def _wildcard(host: str) -> bool:
    """Any-host accounts, decided as check-migrations decides them: ``'%'`` yes, ``'10.0.0.%'`` (a subnet) no."""
    return mysql_any_host(host)


def _pattern(db_pattern: str) -> str:
    r"""A mysql.db ``Db`` LIKE pattern (``%``, ``_``, ``\_``) as an fnmatch pattern."""
    out, escaped = [], False
    for ch in db_pattern:
        if escaped:
            out.append("[" + ch + "]" if ch in "*?[" else ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        else:
            out.append("[" + ch + "]" if ch in "*?[" else ch)
    return "".join(out)


@CONNECTORS.register
class MySQLConnector(SQLConnector):
    """``mysql://user@host:port/db`` for MySQL and MariaDB (password from MYSQL_PWD or ~/.my.cnf)."""

    name = "mysql"
    labels = {"en": "MySQL / MariaDB", "zh": "MySQL / MariaDB"}
    schemes = ("mysql", "mariadb")
    config_example = "mysql://auditor@db.internal/core"
    target_options = {**SQLConnector.target_options,
                      "mysql_option_file": TargetOption(FILE_PATH, extra="mysql_option_file", credential="file",
                                                        path=True)}
    extra = "db"
    requires = ("pymysql",)
    permissions = (
        "SELECT on the sampled tables (e.g. GRANT SELECT ON app.* TO scanner)",
        "SELECT on mysql.user, mysql.db, mysql.tables_priv, mysql.columns_priv, mysql.roles_mapping "
        "(or mysql.role_edges on MySQL 8) to read every account's privileges",
    )
    description = "MySQL/MariaDB databases: column classification, account privileges and transport checks."
    scanning_identity = "account"

    def __init__(self, target: str, options: ScanOptions) -> None:
        super().__init__(target, options)
        parts = urlsplit(target)
        self.host = parts.hostname or "localhost"
        self.port = parts.port or 3306
        self.user = unquote(parts.username) if parts.username else os.environ.get("USER", "")
        self.url_password = unquote(parts.password) if parts.password is not None else None
        self.database = unquote(parts.path.lstrip("/"))
        self.query = {k.lower().replace("_", "-"): v for k, v in parse_qsl(parts.query)}
        self._conn: Any = None
        self._mariadb = False
        self.tls_fallback = False

    @property
    def display_target(self) -> str:
        return redact_password(self.target)

    # -- connection -----------------------------------------------------------------------------

    def _ssl_mode_given(self) -> bool:
        return "ssl-mode" in self.query or "mysql_ssl_mode" in self.options.extra

    def _ssl(self) -> ssl.SSLContext | None:
        mode = (self.query.get("ssl-mode") or self.options.extra.get("mysql_ssl_mode") or "VERIFY_IDENTITY").upper()
        if mode == "DISABLED":
            return None
        ca = self.query.get("ssl-ca")
        context = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
        if mode in ("PREFERRED", "REQUIRED"):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif mode == "VERIFY_CA":
            context.check_hostname = False
        return context

    def _connect(self) -> Any:
        import pymysql

        if self._conn is not None and self._conn.open:
            return self._conn
        kwargs: dict[str, Any] = {
            "host": self.host, "port": self.port, "user": self.user, "database": self.database or None,
            "charset": "utf8mb4", "autocommit": True,
            "connect_timeout": int(self.options.extra.get("connect_timeout", 10)),
            "read_timeout": statement_timeout_ms(self.options.extra) // 1000 + 30,
        }
        password = self.url_password if self.url_password is not None else os.environ.get(
            self.options.extra.get("password_env") or "MYSQL_PWD")
        if password is not None:
            kwargs["password"] = password
        else:
            option_file = Path(self.options.extra.get("mysql_option_file")
                               or os.environ.get("MYSQL_OPTION_FILE", Path.home() / ".my.cnf"))
            if option_file.is_file():
                kwargs["read_default_file"] = str(option_file)
                if not urlsplit(self.target).username:
                    del kwargs["user"]  # the option file's user
        context = self._ssl()
        if context is not None:
            kwargs["ssl"] = context  # PyMySQL only starts TLS if the server offers it
        try:
            try:
                conn = pymysql.connect(**kwargs)
            except pymysql.err.OperationalError as exc:
                # 2026: the server offers no TLS. Unless the operator demanded it (ssl-mode given), scan
                # anyway: the missing TLS is itself reported by db_server_accepts_non_tls.
                if not (exc.args and exc.args[0] == 2026 and "ssl" in kwargs and not self._ssl_mode_given()):
                    raise
                del kwargs["ssl"]
                self.tls_fallback = True
                conn = pymysql.connect(**kwargs)
        except pymysql.MySQLError as exc:
            raise ReadError(f"cannot connect to {self.display_target}: {_short(exc)}", kind="connection") from None
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            self._mariadb = "mariadb" in cur.fetchone()[0].lower()
            timeout = statement_timeout_ms(self.options.extra)
            if self._mariadb:
                cur.execute("SET SESSION max_statement_time = %s", (timeout / 1000,))
            else:
                cur.execute("SET SESSION max_execution_time = %s", (timeout,))
                # MySQL 8 caches TABLE_ROWS/UPDATE_TIME/AUTO_INCREMENT for a day (information_schema_stats_expiry):
                # the change keys need them as they are now
                with contextlib.suppress(pymysql.MySQLError):
                    cur.execute("SET SESSION information_schema_stats_expiry = 0")
            cur.execute("SET SESSION TRANSACTION READ ONLY")
        self._conn = conn
        return conn

    def _uri(self, schema: str, table: str) -> str:
        return table_uri("mysql", self.host, self.port, schema, schema, table)

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._connect().cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    # -- discovery ------------------------------------------------------------------------------

    def _schemas_clause(self) -> tuple[str, tuple]:
        if self.database:
            return "TABLE_SCHEMA = %s", (self.database,)
        marks = ", ".join(["%s"] * len(SYSTEM_SCHEMAS))
        return f"TABLE_SCHEMA NOT IN ({marks})", SYSTEM_SCHEMAS

    def _tables(self) -> list[tuple]:
        """Schema, name, type, row estimate and comment of the selected tables, then what says their rows
        changed (:meth:`_row_stats`)."""
        where, params = self._schemas_clause()
        rows = self._rows(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, COALESCE(TABLE_ROWS, 0), TABLE_COMMENT, "
            "ENGINE, CREATE_OPTIONS, CREATE_TIME, UPDATE_TIME, DATA_LENGTH, AUTO_INCREMENT, "
            f"COALESCE(UPDATE_TIME >= NOW() - INTERVAL {HOT_SECONDS} SECOND, 0) "
            f"FROM information_schema.TABLES WHERE {where} ORDER BY TABLE_SCHEMA, TABLE_NAME", params)
        return [r for r in rows if selected(r[0], r[1], self.options.include, self.options.exclude)]

    def _innodb_stats(self) -> dict[tuple[str, str], list[list[Any]]]:
        """``mysql.innodb_table_stats`` (persistent statistics: ``last_update``, ``n_rows``) by table, its
        partitions (``t#P#p0``) folded into it; empty when the account may not read it."""
        import pymysql

        where, params = self._schemas_clause()
        stats: dict[tuple[str, str], list[list[Any]]] = {}
        with contextlib.suppress(pymysql.MySQLError):
            for schema, table, last_update, n_rows in self._rows(
                "SELECT database_name, table_name, last_update, n_rows FROM mysql.innodb_table_stats "
                f"WHERE {where.replace('TABLE_SCHEMA', 'database_name')} ORDER BY database_name, table_name",
                params,
            ):
                stats.setdefault((schema, table.split("#P#")[0].split("#p#")[0]), []).append(
                    [table, str(last_update), int(n_rows)])
        return stats

    @staticmethod
    def _row_stats(row: tuple, innodb: list[list[Any]] | None) -> list[Any] | None:
        """What says a table's rows changed, for its change key (:func:`connectors._sql.with_change`):
        ``information_schema.TABLES`` ``TABLE_ROWS``, ``DATA_LENGTH``, ``AUTO_INCREMENT`` (moves on every
        insert), ``CREATE_TIME`` (TRUNCATE and ALTER make the table again), ``UPDATE_TIME`` (last insert,
        update or delete; InnoDB keeps it in memory, so it is NULL again after a restart), engine and
        options, and the persistent statistics' ``last_update``. None, i.e. no key and sampled on every
        run, for a view (its rows live in other tables) and for a table written in the last
        :data:`HOT_SECONDS` seconds: ``UPDATE_TIME`` counts whole seconds, so a write later in the same
        second as the sample would leave the key as it was."""
        table_type, hot = row[2], row[11]
        if table_type == "VIEW" or hot:
            return None
        return [int(row[3]), *row[5:11], innodb or []]

    def discover(self) -> Iterator[Resource | Notification]:
        tables = self._tables()
        where, params = self._schemas_clause()
        columns: dict[tuple[str, str], list[ColumnInfo]] = {}
        keys: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, name, column_type, data_type, comment, key in self._rows(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, COLUMN_COMMENT, COLUMN_KEY "
            f"FROM information_schema.COLUMNS WHERE {where} ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
            params,
        ):
            data_type = data_type.lower()
            columns.setdefault((schema, table), []).append(
                ColumnInfo(name, column_type, comment or None, data_type in BINARY_TYPES, data_type in NUMERIC_TYPES))
            if key == "PRI":
                keys.setdefault((schema, table), []).append((name, data_type))
        innodb = self._innodb_stats() if tables else {}
        for row in tables:
            schema, table, table_type, estimate, comment = row[:5]
            pk = keys.get((schema, table), [])
            integer_pk = pk[0][0] if len(pk) == 1 and pk[0][1] in INTEGER_TYPES else None
            resource = table_resource(
                self.name, self._uri(schema, table), schema, schema, table,
                "view" if table_type == "VIEW" else "table", columns.get((schema, table), []),
                row_estimate=int(estimate), comment=comment or None, integer_pk=integer_pk,
            )
            yield with_change(resource, self._row_stats(row, innodb.get((schema, table))), self.options.extra)

    # -- sampling -------------------------------------------------------------------------------

    def _sample(self, conn: Any, resource: Resource, columns: list[ColumnInfo]) -> list[tuple]:
        """Inside ``START TRANSACTION READ ONLY``: the first rows, or a primary-key range on large tables."""
        limit = sample_rows(self.options.extra)
        meta = resource.metadata
        relation = _q(meta["schema"], meta["table"])
        select = ", ".join(_q(c.name) for c in columns)
        pk = meta.get("integer_pk")
        with conn.cursor() as cur:
            cur.execute("START TRANSACTION READ ONLY")
            try:
                if pk and int(meta.get("row_estimate", 0)) > PK_RANGE_MIN_ROWS:
                    return self._pk_range(cur, relation, select, _q(pk), limit)
                cur.execute(f"SELECT {select} FROM {relation} LIMIT %s", (limit,))
                return list(cur.fetchall())
            finally:
                cur.execute("COMMIT")

    def _sampling_failure(self, exc: Exception) -> str | None:
        import pymysql

        code = exc.args[0] if exc.args else 0
        if isinstance(exc, pymysql.err.ProgrammingError):
            return "vanished" if code in VANISHED_ERRORS else "unreadable"
        if isinstance(exc, pymysql.err.OperationalError):
            if code in DENIED_ERRORS:
                return "permission"
            return "timeout" if code in TIMEOUT_ERRORS else "connection"
        return "unreadable" if isinstance(exc, pymysql.MySQLError) else None

    def _error_text(self, exc: Exception) -> str:
        return _short(exc)

    @staticmethod
    def _pk_range(cur: Any, relation: str, select: str, pk: str, limit: int) -> list[tuple]:
        """``limit`` rows from a seeded point in the key range, wrapping around: an index range scan."""
        cur.execute(f"SELECT MIN({pk}), MAX({pk}) FROM {relation}")
        low, high = cur.fetchone()
        if low is None:
            return []
        start = low + int(random.Random(SAMPLE_SEED).random() * max(0, high - low))
        cur.execute(f"SELECT {select} FROM {relation} WHERE {pk} >= %s ORDER BY {pk} LIMIT %s", (start, limit))
        rows = list(cur.fetchall())
        if len(rows) < limit:
            cur.execute(f"SELECT {select} FROM {relation} WHERE {pk} < %s ORDER BY {pk} LIMIT %s",
                        (start, limit - len(rows)))
            rows.extend(cur.fetchall())
        return rows

    # -- facts ----------------------------------------------------------------------------------

    def facts(self) -> Iterator[Observation | Notification]:
        self._connect()
        if self.tls_fallback:
            yield no_tls_note(self.display_target)
        yield from self._transport()
        yield from self._access()

    def _transport(self) -> Iterator[Observation]:
        variables = dict(self._rows(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('require_secure_transport', 'have_ssl', 'have_openssl')"))
        require = variables.get("require_secure_transport", "OFF")
        have_ssl = variables.get("have_ssl", "DISABLED")
        encrypted = None
        with contextlib.suppress(Exception):
            status = dict(self._rows("SHOW SESSION STATUS LIKE 'Ssl_cipher'"))
            encrypted = bool(status.get("Ssl_cipher"))
        server = f"mysql://{self.host}:{self.port}/{self.database}"
        yield Transport(resource_uri=server, server="mariadb" if self._mariadb else "mysql", target=server,
                        require_secure_transport=require, have_ssl=have_ssl, connection_encrypted=encrypted,
                        accepts_non_tls=require.upper() not in ("ON", "1"))

    def _access(self) -> Iterator[Observation | Notification]:
        """Who can read each table (and column): global, database, table and column SELECT privileges,
        held by an account directly or through the roles granted to it (MariaDB roles_mapping, MySQL 8
        role_edges)."""
        grants = yield from self._grants()
        tables = [(s, t) for s, t, *_ in self._tables()]
        for user, host, _select, is_role in sorted(grants.users):
            if is_role != "Y":
                yield from self._account_access((user, host), grants, tables)

    def _grants(self) -> Generator[Notification, None, _Grants]:
        """The grant tables, or what information_schema shows the scanning account (with a warning)."""
        import pymysql

        try:
            users = self._rows("SELECT User, Host, Select_priv, "
                               + ("is_role" if self._has_column("user", "is_role") else "'N'") + " FROM mysql.user")
            db_privs = self._rows("SELECT User, Host, Db FROM mysql.db WHERE Select_priv = 'Y'")
            table_privs = self._rows("SELECT User, Host, Db, Table_name FROM mysql.tables_priv "
                                     "WHERE FIND_IN_SET('Select', Table_priv)")
            column_privs = self._rows("SELECT User, Host, Db, Table_name, Column_name FROM mysql.columns_priv "
                                      "WHERE FIND_IN_SET('Select', Column_priv)")
        except pymysql.MySQLError as exc:
            yield Notification(
                f"{self.display_target}: the grant tables (mysql.user, mysql.db, ...) are not readable by the scanning "
                f"account ({_short(exc)}); only the privileges information_schema shows to it were checked "
                "(grant SELECT ON mysql.* for a complete audit).",
                self.display_target, level=Level.WARNING, kind="permission")
            users, db_privs, table_privs, column_privs = self._information_schema_grants()
        return _Grants.of(users, db_privs, table_privs, column_privs, self._role_edges())

    def _role_edges(self) -> list[tuple[str, str, str, str]]:
        """(member user, member host, role user, role host) of every role grant the server records."""
        import pymysql

        with contextlib.suppress(pymysql.MySQLError):
            if self._has_table("roles_mapping"):
                return [(u, h, r, "") for u, h, r in self._rows("SELECT User, Host, Role FROM mysql.roles_mapping")]
            if self._has_table("role_edges"):
                return [(tu, th, fu, fh) for fu, fh, tu, th in self._rows(
                    "SELECT FROM_USER, FROM_HOST, TO_USER, TO_HOST FROM mysql.role_edges")]
        return []

    def _account_access(self, account: tuple[str, str], grants: _Grants,
                        tables: list[tuple[str, str]]) -> Iterator[ReadAccess]:
        user, host = account
        paths = grants.paths(account)
        for schema, table in tables:
            base = {"resource_uri": self._uri(schema, table), "grantee": grants.label(account),
                    "grantee_kind": "account", "user": user, "host": host, "wildcard_host": _wildcard(host),
                    "privilege": "SELECT", "schema": schema, "table": table}
            via = self._table_via(paths, grants.global_select, grants.db, grants.table, schema, table)
            if via is not None:
                holder, how = via
                path = tuple(grants.label(a) for a in paths[holder])
                yield ReadAccess(**base, object=f"{schema}.{table}", column=None,
                                 via=how if len(path) == 1 else f"{' → '.join(path)} ({how})", path=path)
                continue
            for holder, path_accounts in paths.items():
                for column in sorted(grants.column.get(holder, {}).get((schema, table), ())):
                    path = tuple(grants.label(a) for a in path_accounts)
                    how = f"GRANT SELECT ({column}) ON {schema}.{table}"
                    yield ReadAccess(**base, object=f"{schema}.{table}.{column}", column=column,
                                     via=how if len(path) == 1 else f"{' → '.join(path)} ({how})", path=path)

    def _information_schema_grants(self) -> tuple[list, list, list, list]:
        """Fallback: information_schema.*_PRIVILEGES (MySQL docs: rows for the grants the current account can see)."""
        def split(grantee: str) -> tuple[str, str]:
            user, _, host = grantee.partition("@")
            return user.strip("'"), host.strip("'")

        globals_ = {split(g) for (g,) in self._rows(
            "SELECT GRANTEE FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'SELECT'")}
        db_privs = [(*split(g), db) for g, db in self._rows(
            "SELECT GRANTEE, TABLE_SCHEMA FROM information_schema.SCHEMA_PRIVILEGES WHERE PRIVILEGE_TYPE = 'SELECT'")]
        table_privs = [(*split(g), db, t) for g, db, t in self._rows(
            "SELECT GRANTEE, TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLE_PRIVILEGES "
            "WHERE PRIVILEGE_TYPE = 'SELECT'")]
        column_privs = [(*split(g), db, t, c) for g, db, t, c in self._rows(
            "SELECT GRANTEE, TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMN_PRIVILEGES "
            "WHERE PRIVILEGE_TYPE = 'SELECT'")]
        accounts = globals_ | {(u, h) for u, h, *_ in (*db_privs, *table_privs, *column_privs)}
        users = [(u, h, "Y" if (u, h) in globals_ else "N", "N") for u, h in sorted(accounts)]
        return users, db_privs, table_privs, column_privs

    @staticmethod
    def _table_via(paths: dict, global_select: set, db_grants: dict, table_grants: dict, schema: str,
                   table: str) -> tuple[tuple[str, str], str] | None:
        for holder in sorted(paths, key=lambda a: len(paths[a])):
            if holder in global_select:
                return holder, "GRANT SELECT ON *.*"
            for db in db_grants.get(holder, ()):
                if fnmatch.fnmatchcase(schema, _pattern(db)):
                    return holder, f"GRANT SELECT ON {db}.*"
            if (schema, table) in table_grants.get(holder, set()):
                return holder, f"GRANT SELECT ON {schema}.{table}"
        return None

    def _has_table(self, name: str) -> bool:
        return bool(self._rows("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mysql' "
                               "AND TABLE_NAME = %s", (name,)))

    def _has_column(self, table: str, column: str) -> bool:
        return bool(self._rows("SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'mysql' "
                               "AND TABLE_NAME = %s AND COLUMN_NAME = %s", (table, column)))


def _short(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    if len(args) >= 2:
        return f"({args[0]}) {args[1]}"
    return str(exc) or type(exc).__name__


Account = tuple[str, str]


@dataclass
class _Grants:
    """SELECT privileges by account (user, host), and which roles each account holds."""

    users: list[tuple[str, str, str, str]]  # user, host, Select_priv, is_role
    roles: set[Account]
    granted: dict[Account, list[Account]]
    global_select: set[Account]
    db: dict[Account, list[str]]
    table: dict[Account, set[tuple[str, str]]]
    column: dict[Account, dict[tuple[str, str], set[str]]]

    @classmethod
    def of(cls, users: list, db_privs: list, table_privs: list, column_privs: list,
           role_edges: list[tuple[str, str, str, str]]) -> _Grants:
        granted: dict[Account, list[Account]] = {}
        for mu, mh, ru, rh in role_edges:
            granted.setdefault((mu, mh), []).append((ru, rh))
        db: dict[Account, list[str]] = {}
        for u, h, name in db_privs:
            db.setdefault((u, h), []).append(name)
        table: dict[Account, set[tuple[str, str]]] = {}
        for u, h, name, tbl in table_privs:
            table.setdefault((u, h), set()).add((name, tbl))
        column: dict[Account, dict[tuple[str, str], set[str]]] = {}
        for u, h, name, tbl, col in column_privs:
            column.setdefault((u, h), {}).setdefault((name, tbl), set()).add(col)
        return cls(users=list(users), roles={(u, h) for u, h, _s, r in users if r == "Y"}, granted=granted,
                   global_select={(u, h) for u, h, s, _r in users if s == "Y"}, db=db, table=table, column=column)

    def label(self, account: Account) -> str:
        return account[0] if account in self.roles else f"'{account[0]}'@'{account[1]}'"

    def paths(self, account: Account) -> dict[Account, list[Account]]:
        """Each account or role whose privileges ``account`` holds, with the chain of role grants to it."""
        paths = {account: [account]}
        queue = deque([account])
        while queue:
            current = queue.popleft()
            for role in self.granted.get(current, ()):
                if role not in paths:
                    paths[role] = [*paths[current], role]
                    queue.append(role)
        return paths
