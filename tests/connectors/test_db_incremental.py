"""``--state`` on databases (issue 14): a table whose schema and statistics are unchanged since the last run
is not sampled again, its results are carried; grants and server settings are read on every run.

Real PostgreSQL and MariaDB servers (tests.servers) and a SQLite file, each with its own small database:
``customers`` (names, resident IDs, mobiles), ``orders`` (nothing personal) and ``notes_log`` (free text
with a few IDs). Which tables a run samples is seen at the connectors' sampling call (``--jobs 1`` runs in
this process) and in the summary's state-reused count.

A SQLite file has no per-table statistics of writes: its tables are keyed by the file's own change key
(device, inode, size, mtime_ns, ctime_ns) and their schema SQL, so any write to the file, or a chmod
(ctime), reads every table of it again.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from connectors import mysql as mysql_connector
from connectors._sql import SQLConnector
from scanner.connector import ScanOptions
from scanner.model import Resource
from scanner.output import render_report
from scanner.scan import run_scan
from tests.connectors import dbfixtures as fx

ROWS = 12
TABLES = {"customers", "orders", "notes_log"}
PG_DB = "ps_incremental"
MY_DB = "incr_db"
MY_WILDCARD = "'incr_any'@'%'"

SCHEMA = [
    "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(64), id_card_no VARCHAR(18), mobile VARCHAR(11))",
    "CREATE TABLE orders (order_no VARCHAR(18) PRIMARY KEY, amount DECIMAL(12,2))",
    "CREATE TABLE notes_log (id INT PRIMARY KEY, notes VARCHAR(200))",
]


def _rows() -> list[tuple[str, list[tuple[Any, ...]]]]:
    notes = [(n, f"客户来电, 身份证 {fx.resident_id(n)} 已核实" if n % 4 == 0 else f"客户来电咨询第{n}号业务")
             for n in range(ROWS)]
    return [
        ("INSERT INTO customers VALUES (%s, %s, %s, %s)",
         [(n, f"客户{n}", fx.resident_id(n), fx.mobile(n)) for n in range(ROWS)]),
        ("INSERT INTO orders VALUES (%s, %s)", [(fx.order_no(n), n * 10) for n in range(ROWS)]),
        ("INSERT INTO notes_log VALUES (%s, %s)", notes),
    ]


@dataclass
class Engine:
    """One database under test: its scan target and how to change it between runs."""

    name: str
    target: str
    execute: Callable[[list[str], list[tuple[str, list[tuple[Any, ...]]]]], None]
    #: False for SQLite: a change to the file reads every table of it again
    per_table: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def change(self, statements: list[str], rows: list[tuple[str, list[tuple[Any, ...]]]] | None = None) -> None:
        self.execute(statements, rows or [])


# -- the three engines ------------------------------------------------------------------------------


@contextlib.contextmanager
def _postgres(server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    import psycopg

    monkeypatch.setenv("PGPASSWORD", server.password)
    monkeypatch.setenv("PGSSLMODE", "disable")
    with server.admin_connect() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_DB}"')

    def execute(statements: list[str], rows: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        with psycopg.connect(server.dsn(PG_DB), password=server.password, autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)
            for sql, values in rows:
                conn.cursor().executemany(sql, values)
            # the cumulative counters reach pg_stat_all_tables when a session flushes its statistics: at
            # once here, before the next run reads them (the statement's own end flushes them)
            conn.execute("SELECT pg_stat_force_next_flush()")

    engine = Engine("postgresql", server.dsn(PG_DB), execute)
    engine.change(SCHEMA, _rows())
    engine.change(["ANALYZE"])
    yield engine


@contextlib.contextmanager
def _mariadb(server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("MYSQL_PWD", server.password)
    conn = server.admin_connect()

    def execute(statements: list[str], rows: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
                cur.fetchall()
            for sql, values in rows:
                cur.executemany(sql, values)
        # a table written within HOT_SECONDS gets no key (UPDATE_TIME counts whole seconds) and is read
        # again anyway: wait until the key alone decides
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with conn.cursor() as cur:
                cur.execute("SELECT COALESCE(MAX(UPDATE_TIME >= NOW() - INTERVAL %s SECOND), 0) "
                            "FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
                            (mysql_connector.HOT_SECONDS, MY_DB))
                if not cur.fetchone()[0]:
                    return
            time.sleep(0.1)
        raise AssertionError(f"{MY_DB}: tables still written {mysql_connector.HOT_SECONDS} s after the change")

    try:
        execute([f"DROP DATABASE IF EXISTS {MY_DB}", f"DROP USER IF EXISTS {MY_WILDCARD}",
                 f"CREATE DATABASE {MY_DB}", f"USE {MY_DB}", *SCHEMA], _rows())
        execute([f"ANALYZE TABLE {', '.join(sorted(TABLES))}"], [])
        yield Engine("mariadb", f"mysql://root@{server.host}:{server.port}/{MY_DB}", execute)
    finally:
        conn.close()


@contextlib.contextmanager
def _sqlite(tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "app.db"

    def execute(statements: list[str], rows: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        conn = sqlite3.connect(path)
        try:
            with conn:
                for sql in statements:
                    conn.execute(sql)
                for sql, values in rows:
                    conn.executemany(sql.replace("%s", "?"), values)
        finally:
            conn.close()

    execute(SCHEMA, _rows())
    execute(["ANALYZE"], [])
    path.chmod(0o600)
    yield Engine("sqlite", f"sqlite://{path}", execute, per_table=False, extra={"path": path})


ENGINES = [pytest.param("postgresql", marks=pytest.mark.servers), pytest.param("mariadb", marks=pytest.mark.servers),
           "sqlite"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        manager = _postgres(request.getfixturevalue("postgres_server"), monkeypatch)
    elif request.param == "mariadb":
        manager = _mariadb(request.getfixturevalue("mariadb_server"), monkeypatch)
    else:
        manager = _sqlite(tmp_path)
    with manager as made:
        yield made


# -- running scans --------------------------------------------------------------------------------


@pytest.fixture
def sampled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables the connectors were asked to sample, in order (``--jobs 1``: in this process)."""
    asked: list[str] = []
    fetch = SQLConnector._fetch

    def counting(self: SQLConnector, resource: Resource, columns: Any) -> list[tuple]:
        asked.append(resource.metadata["table"])
        return fetch(self, resource, columns)

    monkeypatch.setattr(SQLConnector, "_fetch", counting)
    return asked


def scan(engine: Engine, state: Path, sampled: list[str], full: bool = False) -> tuple[Any, set[str]]:
    """One run; the report and the tables it sampled."""
    sampled.clear()
    report = run_scan([engine.target], ScanOptions(jobs=1), state=state, full=full)
    assert not report.targets[0].failed, [n.message for n in report.notifications]
    return report, set(sampled)


def reused(report: Any) -> int:
    return sum(n.count for n in report.notifications if n.kind == "state-reused")


def rendered(report: Any) -> dict[str, Any]:
    """The JSON report without what differs between runs (times, the state's own notes)."""
    data = json.loads(render_report(report, "json"))
    data.pop("started"), data.pop("finished")
    data["notifications"] = [n for n in data["notifications"] if not n["kind"].startswith("state-")]
    return data


def findings(report: Any) -> set[tuple[str, str, str]]:
    """(rule, table, column or grantee) of every finding ("" for a finding about the server)."""
    def table(name: str) -> str:
        return next((t for t in TABLES if f".{t}." in f".{name}."), "")

    return {(f.rule_id, table(f.resource.logical_name or ""),
             str(f.properties.get("grantee") or f.properties.get("column") or "")) for f in report.findings}


# -- the cases --------------------------------------------------------------------------------------


def test_an_unchanged_rerun_samples_no_table_and_reports_the_same(engine: Engine, tmp_path: Path,
                                                                  sampled: list[str]) -> None:
    state = tmp_path / "state"
    first, read = scan(engine, state, sampled)
    assert read == TABLES and reused(first) == 0
    assert {t for _rule, t, _c in findings(first)} >= {"customers", "notes_log"}
    again, read = scan(engine, state, sampled)
    assert read == set() and reused(again) == len(TABLES) == again.targets[0].resources
    assert rendered(again) == rendered(first)
    with contextlib.closing(sqlite3.connect(state / "state.sqlite")) as db:  # the keys name no table
        keys = {change for (change,) in db.execute("SELECT change FROM resources")}
    assert len(keys) == len(TABLES) and all(re.fullmatch(r"table/1:[0-9a-f]{32}", k) for k in keys), keys


def test_full_samples_every_table_again(engine: Engine, tmp_path: Path, sampled: list[str]) -> None:
    state = tmp_path / "state"
    first, _ = scan(engine, state, sampled)
    full, read = scan(engine, state, sampled, full=True)
    assert read == TABLES and reused(full) == 0
    assert rendered(full) == rendered(first)


NEW_MOBILE = "ALTER TABLE orders ADD COLUMN contact_mobile VARCHAR(11) DEFAULT '13812345678'"
NEW_NOTES = ("INSERT INTO notes_log VALUES (%s, %s)",
             [(ROWS + n, f"客户来电, 手机 {fx.mobile(n)} 已核实") for n in range(ROWS)])

# (what changes between two runs, statements per engine, rows, the table it changes, a finding it adds)
CHANGES: list[tuple[str, dict[str, list[str]], list[tuple[str, list[tuple[Any, ...]]]], str,
                    tuple[str, str, str] | None]] = [
    ("a personal-data column added (ALTER TABLE ADD COLUMN)",
     {"postgresql": [NEW_MOBILE], "mariadb": [NEW_MOBILE], "sqlite": [NEW_MOBILE]}, [],
     "orders", ("db_plaintext_pii_column", "orders", "contact_mobile")),
    ("rows inserted, then the statistics analysed",
     {"postgresql": ["ANALYZE notes_log"], "mariadb": ["ANALYZE TABLE notes_log"], "sqlite": ["ANALYZE"]},
     [NEW_NOTES], "notes_log", None),
    ("values updated in place, statistics not analysed (same row count)",
     {e: ["UPDATE orders SET amount = amount + 1"] for e in ("postgresql", "mariadb", "sqlite")}, [],
     "orders", None),
]


@pytest.mark.parametrize(("what", "statements", "rows", "table", "added"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_changed_table_is_sampled_again(engine: Engine, tmp_path: Path, sampled: list[str], what: str,
                                          statements: dict[str, list[str]],
                                          rows: list[tuple[str, list[tuple[Any, ...]]]], table: str,
                                          added: tuple[str, str, str] | None) -> None:
    state = tmp_path / "state"
    first, _ = scan(engine, state, sampled)
    engine.change(statements[engine.name], rows)
    second, read = scan(engine, state, sampled)
    expected = {table} if engine.per_table else TABLES
    assert read == expected, what
    assert reused(second) == len(TABLES) - len(expected)
    fresh, _ = scan(engine, tmp_path / "fresh-state", sampled)
    assert rendered(second) == rendered(fresh)  # carried tables report what reading them again would
    if added is not None:
        assert added in findings(second) - findings(first)
    again, read = scan(engine, state, sampled)
    assert read == set() and reused(again) == len(TABLES)


def _grant(engine: Engine) -> tuple[str, str, str]:
    """Open ``customers`` to everyone, without touching the table; the finding that says so (for SQLite
    the file's, read by "other")."""
    if engine.name == "postgresql":
        engine.change(["GRANT SELECT ON customers TO PUBLIC"])
        return ("pg_public_select_on_pii", "customers", "PUBLIC")
    if engine.name == "mariadb":
        engine.change([f"CREATE USER {MY_WILDCARD} IDENTIFIED BY 'any-host-pw-1'",
                       f"GRANT SELECT ON {MY_DB}.customers TO {MY_WILDCARD}"])
        return ("mysql_wildcard_host_reads_pii", "customers", MY_WILDCARD)
    engine.extra["path"].chmod(0o644)  # SQLite has no grants: the file's mode is who can read it
    return ("sqlite_file_world_readable_with_pii", "", "other")


def test_a_grant_is_seen_although_the_table_is_carried(engine: Engine, tmp_path: Path, sampled: list[str]) -> None:
    state = tmp_path / "state"
    first, _ = scan(engine, state, sampled)
    expected = _grant(engine)
    second, read = scan(engine, state, sampled)
    # a chmod moves the file's ctime: SQLite tables are read again, database tables are carried
    assert read == (set() if engine.per_table else TABLES)
    new = findings(second) - findings(first)
    assert any(f[:2] == expected[:2] and expected[2] in f[2] for f in new), sorted(new)


def test_a_view_is_sampled_on_every_run(engine: Engine, tmp_path: Path, sampled: list[str]) -> None:
    """A server's view has no statistics of its own (its rows live in other tables): no key, read every run.
    A SQLite view is in the file: carried while the file is unchanged."""
    engine.change(["CREATE VIEW customer_contacts AS SELECT name, mobile FROM customers"])
    state = tmp_path / "state"
    first, read = scan(engine, state, sampled)
    assert read == {*TABLES, "customer_contacts"}
    again, read = scan(engine, state, sampled)
    assert read == ({"customer_contacts"} if engine.per_table else set())
    assert rendered(again) == rendered(first)


def test_sqlite_rows_only_in_the_write_ahead_log_are_seen(tmp_path: Path, sampled: list[str]) -> None:
    """In WAL mode committed rows may live only in ``-wal`` (the database file unchanged until a
    checkpoint): the log's change key is part of the tables' keys."""
    with _sqlite(tmp_path) as engine:
        path = engine.extra["path"]
        writer = sqlite3.connect(path, isolation_level=None)
        try:
            writer.execute("PRAGMA journal_mode = WAL")
            writer.execute("PRAGMA wal_autocheckpoint = 0")
            writer.execute("INSERT INTO orders VALUES ('X1', 1)")
            state = tmp_path / "state"
            first, _ = scan(engine, state, sampled)
            before = path.stat()
            writer.executemany("INSERT INTO notes_log VALUES (?, ?)", NEW_NOTES[1])
            assert (path.stat().st_mtime_ns, path.stat().st_size) == (before.st_mtime_ns, before.st_size)
            second, read = scan(engine, state, sampled)
            assert read == TABLES
            assert second.targets[0].items_examined == first.targets[0].items_examined + ROWS
            fresh, _ = scan(engine, tmp_path / "fresh-state", sampled)
            assert rendered(second) == rendered(fresh)
        finally:
            writer.close()


@pytest.mark.servers
def test_postgresql_rows_written_to_a_partition_read_the_partitioned_table_again(
        postgres_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sampled: list[str]) -> None:
    """A partitioned table has no rows of its own: its key follows its partitions' statistics."""
    with _postgres(postgres_server, monkeypatch) as engine:
        engine.change(["CREATE TABLE events (id INT, mobile VARCHAR(11)) PARTITION BY RANGE (id)",
                       "CREATE TABLE events_low PARTITION OF events FOR VALUES FROM (0) TO (100)",
                       "CREATE TABLE events_high PARTITION OF events FOR VALUES FROM (100) TO (200)"],
                      [("INSERT INTO events VALUES (%s, %s)", [(n, fx.mobile(n)) for n in range(4)])])
        state = tmp_path / "state"
        scan(engine, state, sampled)
        _, read = scan(engine, state, sampled)
        assert read == set()
        engine.change([], [("INSERT INTO events VALUES (%s, %s)", [(150, fx.mobile(150))])])
        _, read = scan(engine, state, sampled)
        assert read == {"events"}
