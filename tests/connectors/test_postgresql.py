"""PostgreSQL connector against a real server (tests.servers.postgres_server)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from connectors.postgresql import PostgreSQLConnector
from scanner.connector import ReadError, ScanOptions
from scanner.detection.engine import Detector
from scanner.model import Notification, Resource
from scanner.scan import run_scan
from tests.connectors import dbfixtures as fx

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def pg(postgres_server: Any) -> Iterator[tuple[Any, str]]:
    """The fixture database, with PGPASSWORD/PGSSLMODE set the way an operator would."""
    target = fx.postgres_fixture_target(postgres_server)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PGPASSWORD", postgres_server.password)
        mp.setenv("PGSSLMODE", "disable")
        yield postgres_server, target


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


def _resources(connector: PostgreSQLConnector) -> dict[str, Resource]:
    return {r.logical_name: r for r in connector.discover() if isinstance(r, Resource)}


def _verdicts(connector: PostgreSQLConnector, resource: Resource, detector: Detector) -> dict[str, dict]:
    scan = connector.scan_resource(resource, detector)
    return {f.column: f.properties() for f in scan.facts if f.kind == "column"}


def test_discover_tables_columns_and_uris(pg: tuple[Any, str]) -> None:
    server, target = pg
    connector = PostgreSQLConnector(target, ScanOptions())
    try:
        found = _resources(connector)
    finally:
        connector.close()
    assert sorted(found) == ["public.contact_log", "public.credentials", "public.customer_contacts",
                             "public.customers", "public.orders"]
    assert found["public.customer_contacts"].kind == "view"
    customers = found["public.customers"]
    assert customers.uri == f"postgresql://127.0.0.1:{server.port}/{fx.PG_DB}#public.customers"
    columns = {c["name"]: c for c in customers.metadata["columns"]}
    assert columns["card_no_enc"]["binary"] is True
    assert columns["name"]["comment"] == "客户姓名"
    assert customers.metadata["row_estimate"] == fx.ROWS


def test_include_exclude(pg: tuple[Any, str]) -> None:
    _server, target = pg
    connector = PostgreSQLConnector(target, ScanOptions(include=("public.c*",), exclude=("credentials",)))
    try:
        assert sorted(_resources(connector)) == ["public.contact_log", "public.customer_contacts", "public.customers"]
    finally:
        connector.close()


def test_column_classification_fuses_name_and_values(pg: tuple[Any, str], detector: Detector) -> None:
    _server, target = pg
    connector = PostgreSQLConnector(target, ScanOptions())
    try:
        tables = _resources(connector)
        customers = _verdicts(connector, tables["public.customers"], detector)
        credentials = _verdicts(connector, tables["public.credentials"], detector)
        log = _verdicts(connector, tables["public.contact_log"], detector)
        orders = connector.scan_resource(tables["public.orders"], detector)
    finally:
        connector.close()
    idc = customers["id_card_no"]
    assert (idc["holds"], idc["basis"], idc["confidence"], idc["protection"]) == (
        ["CN_RESIDENT_ID"], "name+content", 1.0, "plaintext")
    assert customers["mobile"]["holds"] == ["CN_MOBILE_NUMBER"]
    assert (customers["name"]["basis"], customers["name"]["classes"]) == ("name", ["PERSON_NAME"])
    assert (customers["card_no_enc"]["protection"], customers["card_no_enc"]["protection_label"]) == (
        "protected", "pgp-encrypted")
    assert "order_no" not in customers  # checksum-failing 18-digit numbers: nothing
    assert credentials["password"]["protection"] == "plaintext"
    assert credentials["cvv"]["classes"] == ["CARD_VERIFICATION_CODE"]
    assert credentials["password_hash"]["protection"] == "protected"
    assert credentials["password_sha"]["protection"] == "protected"
    assert log["masked_id_card"]["protection"] == "masked"
    notes = log["notes"]
    assert (notes["basis"], notes["entities"]) == ("free-text", {"CN_RESIDENT_ID": fx.ROWS // 8})
    assert orders.facts == [] and orders.occurrences == {}
    assert orders.items_examined == fx.ROWS


def test_access_facts_from_catalogs(pg: tuple[Any, str]) -> None:
    _server, target = pg
    connector = PostgreSQLConnector(target, ScanOptions())
    try:
        facts = list(connector.facts())
    finally:
        connector.close()
    access = {(f.grantee, f.object): f.properties() for f in facts if getattr(f, "kind", "") == "access"}
    alice = access[("ps_alice", "public.customers")]
    assert alice["rows_limited_by_rls"] is True  # RLS on, no policy: default deny for non-owners
    assert access[("ps_scanner", "public.customers")]["rows_limited_by_rls"] is True
    assert access[("postgres", "public.customers")]["rows_limited_by_rls"] is False
    assert (alice["via"], alice["path"]) == ("ps_alice → ps_analyst_group", ["ps_alice", "ps_analyst_group"])
    assert access[("ps_analyst_group", "public.customers")]["via"] == "direct"
    assert not any(g == "ps_noinherit" for g, _ in access)  # NOINHERIT: needs SET ROLE, not effective
    assert {o for g, o in access if g == "ps_support"} == {"public.customers.name", "public.customers.mobile"}
    assert access[("PUBLIC", "public.contact_log")]["grantee_kind"] == "public"
    assert not any(g == "PUBLIC" and o != "public.contact_log" for g, o in access)
    assert access[("ps_scanner", "public.credentials")]["via"] == "ps_scanner → pg_read_all_data"
    assert access[("postgres", "public.credentials")]["via"] == "superuser"
    security = {f.object: f.properties() for f in facts if getattr(f, "kind", "") == "table_security"}
    assert security["public.customers"]["rls"] is True
    assert security["public.credentials"]["rls"] is False
    assert security["public.credentials"]["table_grantees"] == ["ps_auth"]
    defaults = [f.properties() for f in facts if getattr(f, "kind", "") == "default_privilege"]
    assert [(d["schema"], d["grantee"], d["privilege"]) for d in defaults] == [("public", "PUBLIC", "SELECT")]
    assert access[("ps_alice", "public.customer_contacts")]["via"] == "direct"
    transport = next(f.properties() for f in facts if getattr(f, "kind", "") == "transport")
    assert (transport["ssl"], transport["accepts_non_tls"], transport["hba_readable"]) == (False, True, True)
    assert [r["type"] for r in transport["non_tls_rules"]] == ["host"]


def test_tls_used_when_offered_else_noted(pg: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    _server, target = pg
    monkeypatch.delenv("PGSSLMODE")  # default: verify-full when the server offers TLS
    connector = PostgreSQLConnector(target, ScanOptions())
    try:
        notes = [f for f in connector.facts() if isinstance(f, Notification)]
        assert connector.tls_fallback is True
        assert any(n.kind == "transport" and "offers no TLS" in n.message for n in notes)
    finally:
        connector.close()
    explicit = PostgreSQLConnector(target + "?sslmode=require", ScanOptions())
    with pytest.raises(ReadError, match="does not support SSL"):
        explicit._connect()


def test_session_is_read_only(pg: tuple[Any, str]) -> None:
    _server, target = pg
    connector = PostgreSQLConnector(target, ScanOptions())
    try:
        conn = connector._connect()
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO orders VALUES ('x', 1)")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE should_not_exist (x int)")
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "30s"
    finally:
        connector.close()


@contextlib.contextmanager
def _table_dropped_after_first(server: Any, target: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback that drops ``public.zz_dropped`` (a resident-ID table, last in name order)
    once the first table is scanned: between crawl and sample, as a migration running mid-scan would."""
    with psycopg.connect(target, password=server.password, autocommit=True) as admin:
        admin.execute("CREATE TABLE zz_dropped (id_card_no text)")
        admin.execute("INSERT INTO zz_dropped VALUES (%s)", (fx.resident_id(1),))

        def drop_after_first(done: int, total: int) -> None:
            if done == 1:
                admin.execute("DROP TABLE IF EXISTS zz_dropped")

        try:
            yield drop_after_first
        finally:
            admin.execute("DROP TABLE IF EXISTS zz_dropped")


def test_table_dropped_mid_scan_becomes_notification(pg: tuple[Any, str]) -> None:
    server, target = pg
    with _table_dropped_after_first(server, target) as drop_after_first:
        report = run_scan([target], ScanOptions(jobs=1), progress=drop_after_first)
    vanished = [n for n in report.notifications if n.kind == "vanished"]
    assert [n.resource_uri.rsplit("#", 1)[1] for n in vanished] == ["public.zz_dropped"]
    assert report.targets[0].resources == 6 and not report.targets[0].failed
    assert any(f.rule_id == "db_plaintext_pii_column" for f in report.findings)


def test_lost_connection_is_notified_then_reconnects(pg: tuple[Any, str], detector: Detector) -> None:
    server, target = pg
    connector = PostgreSQLConnector(target, ScanOptions())
    try:
        tables = _resources(connector)
        pid = connector._connect().info.backend_pid
        with server.admin_connect() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        lost = connector.scan_resource(tables["public.orders"], detector)
        assert [n.kind for n in lost.notifications] == ["connection"]
        again = connector.scan_resource(tables["public.orders"], detector)
        assert again.notifications == [] and again.items_examined == fx.ROWS
    finally:
        connector.close()


def test_large_table_sampled_with_tablesample_repeatably(pg: tuple[Any, str], detector: Detector) -> None:
    server, target = pg
    with psycopg.connect(target, password=server.password, autocommit=True) as admin:
        admin.execute("DROP TABLE IF EXISTS big_sample")
        admin.execute("CREATE TABLE big_sample AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 30000) g")
        admin.execute("ANALYZE big_sample")
    try:
        counts = []
        for _ in range(2):
            connector = PostgreSQLConnector(target, ScanOptions(include=("big_sample",), extra={"sample_rows": 50}))
            try:
                (resource,) = _resources(connector).values()
                query, _params = connector._sample_query(resource, [])
                assert "TABLESAMPLE BERNOULLI" in query.as_string(connector._connect())
                rows = connector._fetch(resource, [c for c in _columns(resource)])
                counts.append([r[0] for r in rows])
                scan = connector.scan_resource(resource, detector)
                assert scan.items_examined == 50
            finally:
                connector.close()
        assert counts[0] == counts[1] and len(counts[0]) == 50
    finally:
        with psycopg.connect(target, password=server.password, autocommit=True) as admin:
            admin.execute("DROP TABLE big_sample")


def _columns(resource: Resource) -> list[Any]:
    from connectors._sql import columns_from_metadata

    return columns_from_metadata(resource)


def test_password_never_in_output(pg: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from reports.sarif import build_sarif

    server, _target = pg
    monkeypatch.delenv("PGPASSWORD")
    target = server.dsn(fx.PG_DB, user="ps_scanner", password="scanner-secret-pw")
    report = run_scan([target], ScanOptions(jobs=1))
    assert not report.targets[0].failed
    text = json.dumps(build_sarif(report), ensure_ascii=False)
    assert "scanner-secret-pw" not in text
    assert report.targets[0].target == f"postgresql://ps_scanner@127.0.0.1:{server.port}/{fx.PG_DB}"
    # a non-superuser cannot read pg_hba_file_rules: said so, not hidden
    assert any("pg_hba_file_rules" in n.message for n in report.notifications)
    assert any(f.rule_id == "db_plaintext_c3_column" for f in report.findings)


def test_permission_denied_table_is_a_notification(pg: tuple[Any, str], detector: Detector,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    server, _target = pg
    with server.admin_connect() as admin:
        admin.execute("ALTER ROLE ps_support PASSWORD 'support-pw-1'")
    monkeypatch.setenv("PGPASSWORD", "support-pw-1")
    connector = PostgreSQLConnector(server.dsn(fx.PG_DB, user="ps_support"), ScanOptions())
    try:
        tables = _resources(connector)
        scan = connector.scan_resource(tables["public.credentials"], detector)
        assert [n.kind for n in scan.notifications] == ["permission"]
        assert scan.items_examined == 0
        # column grants (name, mobile): those are sampled, the others classified by name only
        # RLS on customers without a policy: default deny, so no rows; said so
        partial = connector.scan_resource(tables["public.customers"], detector)
        assert [n.kind for n in partial.notifications] == ["permission", "rls"]
        assert "id_card_no" in partial.notifications[0].message
        verdicts = {f.column: f.properties() for f in partial.facts}
        assert verdicts["mobile"]["basis"] == "name" and verdicts["id_card_no"]["basis"] == "name"
        assert partial.items_examined == 0
        with server.admin_connect(fx.PG_DB) as admin:
            admin.execute("CREATE POLICY support_all ON customers FOR SELECT TO ps_support USING (true)")
        try:
            partial = connector.scan_resource(tables["public.customers"], detector)
            verdicts = {f.column: f.properties() for f in partial.facts}
            assert verdicts["mobile"]["basis"] == "name+content" and verdicts["id_card_no"]["basis"] == "name"
            assert partial.items_examined == fx.ROWS
        finally:
            with server.admin_connect(fx.PG_DB) as admin:
                admin.execute("DROP POLICY support_all ON customers")
    finally:
        connector.close()


@pytest.mark.parametrize("fmt", ["text", "sarif"])
def test_cli_output_and_stderr_never_show_the_password(pg: tuple[Any, str], monkeypatch: pytest.MonkeyPatch,
                                                       fmt: str) -> None:
    from click.testing import CliRunner

    from scanner.cli import main

    server, _target = pg
    monkeypatch.delenv("PGPASSWORD")
    target = server.dsn(fx.PG_DB, user="ps_scanner", password="scanner-secret-pw")
    result = CliRunner().invoke(main, ["scan", target, "--format", fmt, "--jobs", "1"], prog_name="privaudit",
                                catch_exceptions=False)
    assert "db_plaintext_c3_column" in result.stdout
    assert "scanner-secret-pw" not in result.stdout and "scanner-secret-pw" not in result.stderr
    # the unreadable pg_hba_file_rules notification is also a stderr line
    assert any("pg_hba_file_rules" in line for line in result.stderr.splitlines())


# -- BYPASSRLS: its own schema and roles, dropped afterwards (the tests above assert exact role sets) ------

RLS_SCHEMA = "zz_rls"
RLS_ROLES = {"ps_zz_bypass": "BYPASSRLS", "ps_zz_limited": "NOBYPASSRLS"}
RLS_PASSWORD = "rls-role-pw-1"


def _drop_rls_schema(admin: Any) -> None:
    admin.execute(f"DROP SCHEMA IF EXISTS {RLS_SCHEMA} CASCADE")
    for role in RLS_ROLES:
        admin.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.fixture
def rls_table(pg: tuple[Any, str]) -> Iterator[str]:
    """``zz_rls.accounts``: resident IDs and plaintext passwords, RLS on with a policy showing even ids only.

    Both roles hold the same SELECT grant; only ``ps_zz_bypass`` has BYPASSRLS.
    """
    server, _target = pg
    with server.admin_connect(fx.PG_DB) as admin:
        _drop_rls_schema(admin)
        for role, bypass in RLS_ROLES.items():
            admin.execute(f"CREATE ROLE {role} LOGIN {bypass} PASSWORD '{RLS_PASSWORD}'")
        admin.execute(f"CREATE SCHEMA {RLS_SCHEMA}")
        admin.execute(f"CREATE TABLE {RLS_SCHEMA}.accounts (id int PRIMARY KEY, id_card_no text, password text)")
        for n in range(fx.ROWS):
            admin.execute(f"INSERT INTO {RLS_SCHEMA}.accounts VALUES (%s, %s, %s)",
                          (n, fx.resident_id(n), f"Passw0rd!{n}"))
        admin.execute(f"ALTER TABLE {RLS_SCHEMA}.accounts ENABLE ROW LEVEL SECURITY")
        admin.execute(f"CREATE POLICY even_ids ON {RLS_SCHEMA}.accounts FOR SELECT USING (id % 2 = 0)")
        for role in RLS_ROLES:
            admin.execute(f"GRANT USAGE ON SCHEMA {RLS_SCHEMA} TO {role}")
            admin.execute(f"GRANT SELECT ON {RLS_SCHEMA}.accounts TO {role}")
        admin.execute(f"ANALYZE {RLS_SCHEMA}.accounts")
    try:
        yield f"{RLS_SCHEMA}.accounts"
    finally:
        with server.admin_connect(fx.PG_DB) as admin:
            _drop_rls_schema(admin)


# grantee -> (bypassrls, rows_limited_by_rls, via) on the RLS table
RLS_ACCESS = {
    "ps_zz_bypass": (True, False, "direct"),
    "ps_zz_limited": (False, True, "direct"),
    "postgres": (True, False, "superuser"),
    "ps_scanner": (False, True, "ps_scanner → pg_read_all_data"),
}


def test_bypassrls_role_shows_in_access_facts_and_findings(pg: tuple[Any, str], rls_table: str) -> None:
    _server, target = pg
    connector = PostgreSQLConnector(target, ScanOptions(include=(f"{RLS_SCHEMA}.*",)))
    try:
        facts = [f for f in connector.facts() if getattr(f, "kind", "") == "access"]
    finally:
        connector.close()
    access = {f.properties()["grantee"]: f.properties() for f in facts if f.properties()["object"] == rls_table}
    assert {g: (a["bypassrls"], a["rows_limited_by_rls"], a["via"]) for g, a in access.items()} == RLS_ACCESS

    # end to end (default policy: only named roles read C3): the finding says who bypasses RLS
    report = run_scan([target], ScanOptions(jobs=1, include=(f"{RLS_SCHEMA}.*",)))
    readers = {f.properties["grantee"]: f for f in report.findings if f.rule_id == "db_role_reads_pii_not_allowed"
               and f.resource.logical_name == f"{rls_table}.password"}
    assert {g: (f.properties["bypassRls"], f.properties["rowsLimitedByRls"], f.properties["via"])
            for g, f in readers.items()} == RLS_ACCESS
    assert "ps_zz_bypass can SELECT zz_rls.accounts.password" in readers["ps_zz_bypass"].message
    assert "(bypasses row-level security)" in readers["ps_zz_bypass"].message
    assert "(rows limited by row-level security policies)" in readers["ps_zz_limited"].message
    assert "bypasses" not in readers["ps_zz_limited"].message
    # RLS is on: no "RLS missing" finding for this table
    assert not any(f.rule_id == "pg_rls_missing_on_pii_table" for f in report.findings)


@pytest.mark.parametrize(("role", "sampled", "rls_note"), [
    ("ps_zz_limited", fx.ROWS // 2, True),  # the policy shows even ids only: a biased sample, said so
    ("ps_zz_bypass", fx.ROWS, False),
])
def test_sampling_without_bypassrls_warns_naming_the_table(pg: tuple[Any, str], rls_table: str, detector: Detector,
                                                           monkeypatch: pytest.MonkeyPatch, role: str,
                                                           sampled: int, rls_note: bool) -> None:
    server, _target = pg
    monkeypatch.setenv("PGPASSWORD", RLS_PASSWORD)
    connector = PostgreSQLConnector(server.dsn(fx.PG_DB, user=role), ScanOptions(include=(f"{RLS_SCHEMA}.*",)))
    try:
        (resource,) = _resources(connector).values()
        assert resource.metadata["rls_applies"] is rls_note
        scan = connector.scan_resource(resource, detector)
    finally:
        connector.close()
    assert scan.items_examined == sampled
    notes = [n for n in scan.notifications if n.kind == "rls"]
    if rls_note:
        (note,) = notes
        assert note.message == (f"{fx.PG_DB}:{rls_table}: row-level security filters the rows the scanning role sees "
                                f"({sampled} sampled); give it BYPASSRLS for a representative sample.")
        assert note.resource_uri == resource.uri and note.resource_uri.endswith(f"#{rls_table}")
    else:
        assert scan.notifications == []
    assert {f.column: f.basis for f in scan.facts}["id_card_no"] == "name+content"


# -- the CLI: a vanished table or a dropped connection is one stderr line, and the scan goes on ------------------

def test_cli_table_dropped_mid_scan_is_one_stderr_line(pg: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    server, target = pg
    with _table_dropped_after_first(server, target) as drop_after_first:
        result = fx.cli_scan_with_progress(monkeypatch, target, drop_after_first)
    assert result.stderr.splitlines() == [
        f"privaudit: warning: {fx.PG_DB}:public.zz_dropped: the table no longer exists (dropped during the scan)."]
    located, notes, summary = fx.sarif_results(result.stdout)
    assert [(n["level"], n["properties"]["kind"], n["properties"]["resource"].rsplit("#", 1)[1]) for n in notes] == [
        ("warning", "vanished", "public.zz_dropped")]
    # the other tables are still sampled and reported
    assert {"public.customers.id_card_no", "public.credentials.password", "public.contact_log.notes"} <= located
    assert not any(name.startswith("public.zz_dropped") for name in located)
    assert (summary["resources"], summary["itemsExamined"], summary["failed"]) == (6, 5 * fx.ROWS, False)
    assert result.exit_code == 1  # error-level findings (plaintext C3 and C2 under financial-cn)


def test_cli_dropped_connection_is_one_stderr_line(pg: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    server, target = pg
    with server.admin_connect(fx.PG_DB) as admin:

        def terminate_after_first(done: int, total: int) -> None:
            if done == 1:  # every privaudit session of the fixture database (not this admin one)
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                              "AND application_name = 'privaudit' AND pid <> pg_backend_pid()", (fx.PG_DB,))

        result = fx.cli_scan_with_progress(monkeypatch, target, terminate_after_first)
    # the table sampled on the lost session (the 2nd in name order) is the one notified; the rest reconnects
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"privaudit: warning: {fx.PG_DB}:public.credentials: connection lost: ")
    located, notes, summary = fx.sarif_results(result.stdout)
    assert [(n["properties"]["kind"], n["properties"]["resource"].rsplit("#", 1)[1]) for n in notes] == [
        ("connection", "public.credentials")]
    assert {"public.customers.id_card_no", "public.customers.mobile", "public.contact_log.notes"} <= located
    # the unsampled table still exists: its columns are judged by name, so who may read them is still checked;
    # a hashed-by-name column of a digest-wide type is taken as protected, as check-migrations takes it
    assert {"public.credentials.password", "public.credentials.cvv"} <= located
    assert "public.credentials.password_hash" not in located
    assert (summary["resources"], summary["itemsExamined"], summary["failed"]) == (5, 4 * fx.ROWS, False)
    assert result.exit_code == 1  # error-level findings on the tables scanned after the reconnect
