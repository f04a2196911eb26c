"""PostgreSQL: which columns hold graded personal data, whether they are protected, who can read them.

Safe on production by construction:

* every session is read-only from its first statement: ``default_transaction_read_only = on`` is
  passed as a startup option (PostgreSQL docs, "Client Connection Defaults"), with
  ``statement_timeout`` and ``lock_timeout`` so a scan never waits behind DDL or runs away;
* identifiers are composed with :mod:`psycopg.sql` (never string formatting);
* sampling is bounded (``ScanOptions.extra['sample_rows']``, default 200 rows per table); large
  tables use ``TABLESAMPLE SYSTEM``/``BERNOULLI`` with ``REPEATABLE (seed)`` (docs, "SELECT",
  TABLESAMPLE clause) so two runs sample the same rows;
* passwords come from libpq itself (``PGPASSWORD``, ``~/.pgpass``, docs "The Password File"),
  never from output: :attr:`display_target` and every resource URI omit them;
* TLS: libpq's ``sslmode`` from the target or ``PGSSLMODE``; otherwise ``verify-full`` against the
  system CA store (``sslrootcert=system``, libpq 16+), i.e. verification on by default.

Grants are read from the catalogs, not from ``information_schema`` (which hides PUBLIC and grants
to roles the scanning user is not a member of): ``relacl``/``attacl``/``nspacl`` through
``aclexplode`` (docs, "Privileges" and "System Information Functions"), role membership from
``pg_auth_members`` with the path and the member's ``rolinherit``, superusers, ``BYPASSRLS``,
predefined ``pg_read_all_data``, default privileges (``pg_default_acl``) and row-level security
flags (``relrowsecurity``/``relforcerowsecurity``). They become typed facts (:mod:`scanner.facts`) that the rules in
``scanner/rules/databases`` join with the column classifications.

With ``--state`` a table is sampled again only when its description or its statistics changed
(:meth:`PostgreSQLConnector._row_stats`); grants, RLS flags and server settings are read on every run.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
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
from scanner.facts import DefaultPrivilege, HbaLine, Observation, ReadAccess, TableSecurity, Transport
from scanner.model import Level, Notification, Resource
from scanner.registry import CONNECTORS

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
#: above this many estimated rows, sample with TABLESAMPLE instead of reading the first rows
TABLESAMPLE_MIN_ROWS = 10_000
#: above this, SYSTEM (page-level) sampling: BERNOULLI reads every page
SYSTEM_SAMPLE_MIN_ROWS = 1_000_000
READ_ALL_ROLES = ("pg_read_all_data",)
#: relations whose statistics follow their rows (tables with their partitions and children, materialized views)
#: get a change key; a view or a foreign table is sampled on every run (its rows live elsewhere)
STATS_RELKINDS = ("r", "p", "m")


@CONNECTORS.register
class PostgreSQLConnector(SQLConnector):
    """``postgresql://user@host:port/db`` (password from PGPASSWORD or ~/.pgpass)."""

    name = "postgresql"
    labels = {"en": "PostgreSQL", "zh": "PostgreSQL"}
    schemes = ("postgresql", "postgres")
    config_example = "postgresql://auditor@db.internal:5432/core"
    target_options = {**SQLConnector.target_options,
                      "pgpass": TargetOption(FILE_PATH, extra="pgpass", credential="file", path=True)}
    extra = "db"
    requires = ("psycopg",)
    permissions = (
        "CONNECT on the database",
        "USAGE on the scanned schemas",
        "SELECT on the sampled tables and views (or membership in pg_read_all_data)",
        "pg_read_all_settings (to read ssl and hba_file settings)",
        "BYPASSRLS (optional: otherwise tables with row-level security are sampled as the policies allow)",
        "SELECT on pg_hba_file_rules (superuser by default; optional, for non-TLS host lines)",
    )
    description = "PostgreSQL databases: column classification, grants, RLS and transport checks."
    relkinds: ClassVar[tuple[str, ...]] = ("r", "p", "v", "m", "f")
    timeout_setting = "statement_timeout"

    def __init__(self, target: str, options: ScanOptions) -> None:
        super().__init__(target, options)
        parts = urlsplit(target)
        self.host = parts.hostname or os.environ.get("PGHOST") or "localhost"
        self.port = parts.port or int(os.environ.get("PGPORT", "5432"))
        self.database = unquote(parts.path.lstrip("/")) or os.environ.get("PGDATABASE") or "postgres"
        self.query = dict(parse_qsl(parts.query))
        self._conn: Any = None
        self._roles_cache: dict[str, Any] | None = None
        self.tls_fallback = False

    @property
    def display_target(self) -> str:
        return redact_password(self.target)

    # -- connection -----------------------------------------------------------------------------

    def _connect(self) -> Any:
        import psycopg

        if self._conn is not None and not self._conn.closed:
            return self._conn
        extra = self.options.extra
        timeout = statement_timeout_ms(extra)
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": int(extra.get("connect_timeout", 10)),
            "application_name": "privaudit",
            # Read-only and bounded from the first statement of the session.
            "options": f"-c default_transaction_read_only=on -c statement_timeout={timeout} "
                       f"-c lock_timeout={min(timeout, 5000)} -c idle_in_transaction_session_timeout=60000",
        }
        # scan configs name credentials, never hold them: an environment variable or a pgpass file
        if extra.get("password_env"):
            kwargs["password"] = os.environ.get(extra["password_env"], "")
        if extra.get("pgpass"):
            kwargs["passfile"] = extra["pgpass"]
        if "sslmode" not in self.query and not os.environ.get("PGSSLMODE"):
            kwargs["sslmode"] = "verify-full"
            if not os.environ.get("PGSSLROOTCERT") and "sslrootcert" not in self.query:
                kwargs["sslrootcert"] = "system"
        try:
            try:
                conn = psycopg.connect(self.target, **kwargs)
            except psycopg.OperationalError as exc:
                # TLS is used when offered: a server without TLS is still scanned unless the operator asked
                # for an sslmode; the missing TLS is itself reported by db_server_accepts_non_tls.
                if kwargs.get("sslmode") != "verify-full" or "does not support SSL" not in str(exc):
                    raise
                kwargs["sslmode"] = "disable"
                kwargs.pop("sslrootcert", None)
                self.tls_fallback = True
                conn = psycopg.connect(self.target, **kwargs)
        except psycopg.Error as exc:
            raise ReadError(f"cannot connect to {self.display_target}: {_short(exc)}", kind="connection") from None
        conn.execute("SET default_transaction_read_only = on")
        self._conn = conn
        return conn

    def _uri(self, schema: str, table: str) -> str:
        return table_uri("postgresql", self.host, self.port, self.database, schema, table)

    # -- discovery ------------------------------------------------------------------------------

    def discover(self) -> Iterator[Resource | Notification]:
        conn = self._connect()
        rows = conn.execute(
            """
            SELECT c.oid, n.nspname, c.relname, c.relkind, greatest(c.reltuples, 0)::bigint,
                   obj_description(c.oid, 'pg_class'),
                   -- does row-level security filter what *we* see? (docs, "Row Security Policies")
                   c.relrowsecurity
                   AND NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)
                   AND NOT (pg_has_role(c.relowner, 'MEMBER') AND NOT c.relforcerowsecurity)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = ANY(%s) AND NOT c.relispartition
               AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%'
             ORDER BY n.nspname, c.relname
            """,
            (list(self.relkinds), list(SYSTEM_SCHEMAS)),
        ).fetchall()
        tables = [r for r in rows if selected(r[1], r[2], self.options.include, self.options.exclude)]
        columns: dict[int, list[ColumnInfo]] = {}
        if tables:
            for oid, name, typ, comment, binary, numeric, readable, enum in conn.execute(
                """
                SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod),
                       col_description(a.attrelid, a.attnum),
                       a.atttypid = 'bytea'::regtype, t.typcategory = 'N',
                       has_column_privilege(a.attrelid, a.attnum, 'SELECT'), t.typtype = 'e'
                  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                 WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attrelid, a.attnum
                """,
                ([t[0] for t in tables],),
            ):
                columns.setdefault(oid, []).append(
                    ColumnInfo(name, typ, comment, bool(binary), bool(numeric), bool(readable), bool(enum)))
        kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized-view", "f": "foreign-table"}
        stats = self._row_stats(conn, [t[0] for t in tables if t[3] in STATS_RELKINDS])
        for oid, schema, table, relkind, estimate, comment, rls_applies in tables:
            resource = table_resource(
                self.name, self._uri(schema, table), self.database, schema, table, kinds[relkind],
                columns.get(oid, []), row_estimate=int(estimate), comment=comment, relkind=relkind,
                rls_applies=bool(rls_applies),
            )
            yield with_change(resource, stats.get(oid), self.options.extra)

    @staticmethod
    def _row_stats(conn: Any, oids: list[int]) -> dict[int, list[list[Any]]]:
        """What says a relation's rows changed, for its change key (:func:`connectors._sql.with_change`): per
        relation and every partition or inheritance child its sample reads (``pg_inherits``, recursively),
        the row estimate (``pg_class.reltuples``), the statistics' last-analysed time
        (``greatest(last_analyze, last_autoanalyze)``), the cumulative insert/update/delete counters of
        ``pg_stat_all_tables`` (so rows written but not yet analysed are seen too) and ``relfilenode``
        (TRUNCATE, VACUUM FULL and REFRESH MATERIALIZED VIEW give the relation a new file; docs "Database
        File Layout"). The counters reach the view when a session flushes its statistics, after its
        transaction: a run that reads the catalog in between samples the new rows under the old key, and
        the next run reads the table again — never the other way round."""
        if not oids:
            return {}
        stats: dict[int, list[list[Any]]] = {}
        for root, *row in conn.execute(
            """
            WITH RECURSIVE tree (root, rel) AS (
                SELECT oid, oid FROM pg_class WHERE oid = ANY(%s)
                UNION
                SELECT t.root, i.inhrelid FROM tree t JOIN pg_inherits i ON i.inhparent = t.rel
            )
            SELECT t.root, c.oid, c.relfilenode, c.reltuples, s.n_tup_ins, s.n_tup_upd, s.n_tup_del,
                   greatest(s.last_analyze, s.last_autoanalyze)
              FROM tree t JOIN pg_class c ON c.oid = t.rel LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
             ORDER BY t.root, c.oid
            """,
            (oids,),
        ):
            stats.setdefault(root, []).append([int(row[0]), int(row[1]), float(row[2]),
                                               *(None if v is None else int(v) for v in row[3:6]),
                                               None if row[6] is None else row[6].isoformat()])
        return stats

    # -- sampling -------------------------------------------------------------------------------

    def _sample_query(self, resource: Resource, columns: list[ColumnInfo]) -> tuple[Any, tuple]:
        from psycopg import sql

        limit = sample_rows(self.options.extra)
        estimate = int(resource.metadata.get("row_estimate", 0))
        selects = [
            sql.Identifier(c.name) if c.binary else sql.SQL("{}::text").format(sql.Identifier(c.name))
            for c in columns
        ]
        relation = sql.Identifier(resource.metadata["schema"], resource.metadata["table"])
        sample = sql.SQL("")
        params: tuple = ()
        if resource.metadata.get("relkind") in ("r", "m") and estimate > TABLESAMPLE_MIN_ROWS:
            method = "SYSTEM" if estimate > SYSTEM_SAMPLE_MIN_ROWS else "BERNOULLI"
            percent = min(100.0, 100.0 * limit * 3 / estimate)
            sample = sql.SQL(" TABLESAMPLE {} (%s) REPEATABLE (%s)").format(sql.SQL(method))
            params = (percent, SAMPLE_SEED)
        query = sql.SQL("SELECT {} FROM {}{} LIMIT %s").format(sql.SQL(", ").join(selects), relation, sample)
        return query, (*params, limit)

    def _sample(self, conn: Any, resource: Resource, columns: list[ColumnInfo]) -> list[tuple]:
        query, params = self._sample_query(resource, columns)
        return conn.execute(query, params).fetchall()

    def _sampling_failure(self, exc: Exception) -> str | None:
        import psycopg

        if isinstance(exc, psycopg.errors.UndefinedTable):
            return "vanished"
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            return "permission"
        if isinstance(exc, psycopg.errors.QueryCanceled):  # an OperationalError: tested first
            return "timeout"
        if isinstance(exc, psycopg.OperationalError):
            return "connection"
        return "unreadable" if isinstance(exc, psycopg.Error) else None

    def _error_text(self, exc: Exception) -> str:
        return _short(exc)

    def _sample_notes(self, resource: Resource, columns: Sequence[ColumnInfo],
                      rows: Sequence[Sequence[Any]]) -> list[Notification]:
        notes = super()._sample_notes(resource, columns, rows)
        if resource.metadata.get("rls_applies"):
            notes.append(Notification(
                f"{resource.display_name}: row-level security filters the rows the scanning role sees "
                f"({len(rows)} sampled); give it BYPASSRLS for a representative sample.",
                resource.uri, level=Level.NOTE, kind="rls"))
        return notes

    # -- facts: transport, roles, grants, RLS ---------------------------------------------------------

    def facts(self) -> Iterator[Observation | Notification]:
        conn = self._connect()
        if self.tls_fallback:
            yield no_tls_note(self.display_target)
        yield from self._transport_facts(conn)
        yield from self._access_facts(conn)

    def _transport_facts(self, conn: Any) -> Iterator[Observation | Notification]:
        import psycopg

        ssl = conn.execute("SELECT current_setting('ssl')").fetchone()[0] == "on"
        encrypted = None
        with contextlib.suppress(psycopg.Error):
            row = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
            encrypted = bool(row and row[0])
        non_tls: list[dict[str, Any]] = []
        hba_readable = True
        try:
            for line, typ, databases, users, address, method in conn.execute(
                "SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules "
                "WHERE error IS NULL ORDER BY line_number"
            ):
                # "host" matches SSL and non-SSL TCP connections, "hostnossl" only non-SSL (pg_hba.conf docs).
                if typ in ("host", "hostnossl") and method != "reject":
                    non_tls.append(HbaLine(line=line, type=typ, database=",".join(databases or []),
                                           user=",".join(users or []), address=address, method=method))
        except psycopg.Error:
            hba_readable = False
            yield Notification(
                f"{self.display_target}: pg_hba_file_rules is not readable by the scanning role; non-TLS host "
                "lines were not checked (ssl setting only).",
                self.display_target, level=Level.NOTE, kind="permission",
            )
        server = f"postgresql://{self.host}:{self.port}/{self.database}"
        yield Transport(resource_uri=server, server="postgresql", target=server, ssl=ssl, hba_readable=hba_readable,
                        non_tls_rules=tuple(non_tls), connection_encrypted=encrypted,
                        accepts_non_tls=(not ssl) or bool(non_tls))

    def _roles(self, conn: Any) -> dict[str, Any]:
        if self._roles_cache is not None:
            return self._roles_cache
        roles = {}
        for oid, name, superuser, inherit, login, bypassrls in conn.execute(
            "SELECT oid, rolname, rolsuper, rolinherit, rolcanlogin, rolbypassrls FROM pg_roles"
        ):
            roles[oid] = {"name": name, "superuser": superuser, "inherit": inherit, "login": login,
                          "bypassrls": bypassrls}
        # member -> [granted role]; PG16 adds per-grant inherit_option, older servers use rolinherit.
        has_inherit_option = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'pg_auth_members'::regclass "
            "AND attname = 'inherit_option')"
        ).fetchone()[0]
        query = ("SELECT member, roleid, inherit_option FROM pg_auth_members" if has_inherit_option
                 else "SELECT member, roleid, NULL FROM pg_auth_members")
        granted: dict[int, list[int]] = {}
        for member, roleid, inherit_option in conn.execute(query):
            inherits = inherit_option if inherit_option is not None else roles.get(member, {}).get("inherit", True)
            if inherits:
                granted.setdefault(member, []).append(roleid)
        self._roles_cache = {"roles": roles, "granted": granted}
        return self._roles_cache

    @staticmethod
    def _paths(start: int, granted: dict[int, list[int]]) -> dict[int, list[int]]:
        """Shortest inheritance path from ``start`` to every role whose privileges it inherits."""
        paths = {start: [start]}
        queue = deque([start])
        while queue:
            role = queue.popleft()
            for parent in granted.get(role, ()):
                if parent not in paths:
                    paths[parent] = [*paths[role], parent]
                    queue.append(parent)
        return paths

    def _access_facts(self, conn: Any) -> Iterator[Observation]:
        """Who can read each selected table (and column), its row security, and default privileges,
        resolved from the catalogs as PostgreSQL resolves them (role membership with INHERIT, USAGE on
        the schema, table and column ACLs, PUBLIC, superusers and pg_read_all_data)."""
        info = self._roles(conn)
        acl = _Acl.read(conn, self.relkinds, self.options)
        names = {oid: r["name"] for oid, r in info["roles"].items()}
        yield from self._table_security(acl, names)
        read_all = {oid for oid, r in info["roles"].items() if r["name"] in READ_ALL_ROLES}
        for oid, role in sorted(info["roles"].items(), key=lambda item: item[1]["name"]):
            if not role["name"].startswith("pg_"):  # predefined roles: reported through their members
                yield from self._role_access(role, self._paths(oid, info["granted"]), acl, names, read_all)
        yield from self._public_access(acl)
        yield from self._default_privileges(conn, names)

    def _table_security(self, acl: _Acl, names: dict[int, str]) -> Iterator[TableSecurity]:
        for (schema, table), (oid, rls, force, owner, relkind) in sorted(acl.tables.items()):
            yield TableSecurity(
                resource_uri=self._uri(schema, table), object=f"{schema}.{table}", schema=schema, table=table,
                relkind=relkind, rls=rls, force_rls=force, rls_policies=int(acl.policies.get(oid, 0)),
                owner=names.get(owner), column_grants=bool(acl.column_grants.get(oid)),
                table_grantees=tuple(sorted("PUBLIC" if g == 0 else names.get(g, str(g))
                                            for g in acl.table_grants.get(oid, ()) if g != owner)),
            )

    def _role_access(self, role: dict[str, Any], paths: dict[int, list[int]], acl: _Acl, names: dict[int, str],
                     read_all: set[int]) -> Iterator[ReadAccess]:
        """What one role can read, table by table: everything as a superuser or through pg_read_all_data,
        else what a table grant held on its membership path opens, else its column grants."""
        for (schema, table), (toid, rls, force, owner, _kind) in sorted(acl.tables.items()):
            obj = f"{schema}.{table}"
            bypass = role["bypassrls"] or role["superuser"] or (owner in paths and not force)
            base = {"resource_uri": self._uri(schema, table), "grantee": role["name"], "grantee_kind": "role",
                    "privilege": "SELECT", "schema": schema, "table": table, "login": role["login"],
                    "bypassrls": role["bypassrls"] or role["superuser"], "owner": owner in paths,
                    "rows_limited_by_rls": bool(rls) and not bypass}
            if role["superuser"]:
                yield ReadAccess(**base, object=obj, column=None, via="superuser", path=(role["name"],))
                continue
            holder = next((r for r in read_all if r in paths), None)
            if holder is None:
                schema_usage = acl.usage.get(schema, set())
                if 0 not in schema_usage and not (schema_usage & set(paths)):
                    continue
                holder = self._best(paths, acl.table_grants.get(toid, set()))
            if holder is not None:
                path = tuple(names[p] for p in paths[holder])
                direct = len(path) == 1 and holder not in read_all
                yield ReadAccess(**base, object=obj, column=None, via="direct" if direct else " → ".join(path),
                                 path=path)
                continue
            for grantee, cols in sorted(acl.column_grants.get(toid, {}).items()):
                if grantee in paths:
                    path = tuple(names[p] for p in paths[grantee])
                    for column in sorted(cols):
                        yield ReadAccess(**base, object=f"{obj}.{column}", column=column,
                                         via="direct column grant" if len(path) == 1 else " → ".join(path),
                                         path=path)

    def _public_access(self, acl: _Acl) -> Iterator[ReadAccess]:
        """PUBLIC (every role, present and future): the grantee 0 in aclexplode."""
        for (schema, table), (toid, rls, _force, _owner, _kind) in sorted(acl.tables.items()):
            if 0 not in acl.usage.get(schema, set()):
                continue
            base = {"resource_uri": self._uri(schema, table), "grantee": "PUBLIC", "grantee_kind": "public",
                    "privilege": "SELECT", "schema": schema, "table": table, "path": ("PUBLIC",),
                    "rows_limited_by_rls": bool(rls)}
            if 0 in acl.table_grants.get(toid, set()):
                yield ReadAccess(**base, object=f"{schema}.{table}", column=None, via="GRANT SELECT ... TO PUBLIC")
                continue
            for column in sorted(acl.column_grants.get(toid, {}).get(0, ())):
                yield ReadAccess(**base, object=f"{schema}.{table}.{column}", column=column,
                                 via="GRANT SELECT (column) ... TO PUBLIC")

    def _default_privileges(self, conn: Any, names: dict[int, str]) -> Iterator[DefaultPrivilege]:
        for owner, schema, _objtype, grantee, privilege in conn.execute(
            "SELECT d.defaclrole::regrole::text, n.nspname, d.defaclobjtype, a.grantee, a.privilege_type "
            "FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a "
            "WHERE d.defaclobjtype = 'r' AND a.privilege_type = 'SELECT'"
        ):
            where = f"#{schema}" if schema else ""
            yield DefaultPrivilege(
                resource_uri=f"postgresql://{self.host}:{self.port}/{self.database}{where}", owner=owner,
                schema=schema, object_type="table", privilege=privilege,
                grantee="PUBLIC" if grantee == 0 else names.get(grantee, str(grantee)),
            )

    @staticmethod
    def _best(paths: dict[int, list[int]], grantees: set[int]) -> int | None:
        """The grant holder reachable by the shortest path (the role itself first)."""
        found = [g for g in grantees if g in paths]
        return min(found, key=lambda g: len(paths[g])) if found else None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@dataclass
class _Acl:
    """The catalog rows access resolution needs, read once per scan: the selected tables (oid, RLS, FORCE,
    owner, relkind by schema and name), their policy counts, USAGE on schemas, table-level SELECT
    grantees and column-level SELECT grants (grantee 0 is PUBLIC)."""

    tables: dict[tuple[str, str], tuple[int, bool, bool, int, str]]
    policies: dict[int, int]
    usage: dict[str, set[int]]
    table_grants: dict[int, set[int]]
    column_grants: dict[int, dict[int, set[str]]]

    @classmethod
    def read(cls, conn: Any, relkinds: Any, options: ScanOptions) -> _Acl:
        tables = {
            (schema, table): (oid, rls, force, owner, relkind)
            for oid, schema, table, rls, force, owner, relkind in conn.execute(
                """
                SELECT c.oid, n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity, c.relowner, c.relkind
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = ANY(%s) AND NOT c.relispartition AND n.nspname <> ALL(%s)
                   AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%'
                """,
                (list(relkinds), list(SYSTEM_SCHEMAS)),
            )
            if selected(schema, table, options.include, options.exclude)
        }
        oids = [v[0] for v in tables.values()]
        policies = dict(conn.execute(
            "SELECT polrelid, count(*) FROM pg_policy WHERE polrelid = ANY(%s) GROUP BY polrelid", (oids,)).fetchall())
        usage: dict[str, set[int]] = {}
        for schema, grantee in conn.execute(
            "SELECT n.nspname, a.grantee FROM pg_namespace n, "
            "aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a WHERE a.privilege_type = 'USAGE'"
        ):
            usage.setdefault(schema, set()).add(grantee)
        table_grants: dict[int, set[int]] = {}
        for oid, grantee in conn.execute(
            "SELECT c.oid, a.grantee FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a "
            "WHERE c.oid = ANY(%s) AND a.privilege_type = 'SELECT'",
            (oids,),
        ):
            table_grants.setdefault(oid, set()).add(grantee)
        column_grants: dict[int, dict[int, set[str]]] = {}
        for oid, column, grantee in conn.execute(
            "SELECT a.attrelid, a.attname, x.grantee FROM pg_attribute a, aclexplode(a.attacl) x "
            "WHERE a.attrelid = ANY(%s) AND a.attacl IS NOT NULL AND x.privilege_type = 'SELECT' "
            "AND NOT a.attisdropped",
            (oids,),
        ):
            column_grants.setdefault(oid, {}).setdefault(grantee, set()).add(column)
        return cls(tables, policies, usage, table_grants, column_grants)
