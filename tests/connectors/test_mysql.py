"""MySQL/MariaDB connector against a real MariaDB (tests.servers.mariadb_server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from connectors.mysql import MySQLConnector, _pattern, _q
from scanner.connector import ScanOptions
from scanner.detection.engine import Detector
from scanner.model import Resource
from scanner.scan import run_scan
from tests.connectors import dbfixtures as fx

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def my(mariadb_server: Any) -> Iterator[tuple[Any, str]]:
    target = fx.mariadb_fixture_target(mariadb_server)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MYSQL_PWD", fx.MY_SCAN_PASSWORD)
        yield mariadb_server, target


def _resources(connector: MySQLConnector) -> dict[str, Resource]:
    return {r.logical_name: r for r in connector.discover() if isinstance(r, Resource)}


def test_identifier_quoting_and_db_patterns() -> None:
    assert _q("app", "we`ird") == "`app`.`we``ird`"
    assert _pattern(r"ps\_app%") == "ps_app*"
    assert _pattern("ps_app") == "ps?app"


def test_discover_and_classify(my: tuple[Any, str]) -> None:
    server, target = my
    connector = MySQLConnector(target, ScanOptions())
    try:
        tables = _resources(connector)
        assert sorted(tables) == ["ps_app.credentials", "ps_app.customers", "ps_app.orders"]
        assert tables["ps_app.customers"].uri == f"mysql://127.0.0.1:{server.port}/ps_app#ps_app.customers"
        detector = Detector()
        scan = connector.scan_resource(tables["ps_app.customers"], detector)
        verdicts = {f.column: f.properties() for f in scan.facts}
        assert verdicts["id_card_no"]["basis"] == "name+content"
        assert verdicts["card_enc"]["protection"] == "protected"
        assert verdicts["id_masked"]["protection"] == "masked"
        assert verdicts["notes"]["basis"] == "free-text"
        assert verdicts["name"]["classes"] == ["PERSON_NAME"]
        assert scan.items_examined == fx.ROWS
        credentials = connector.scan_resource(tables["ps_app.credentials"], detector)
        creds = {f.column: f.properties() for f in credentials.facts}
        assert creds["password"]["protection"] == "plaintext"
        assert creds["password_hash"]["protection"] == "protected"
        assert connector.scan_resource(tables["ps_app.orders"], detector).facts == []
    finally:
        connector.close()


def test_grants_roles_wildcards(my: tuple[Any, str]) -> None:
    _server, target = my
    connector = MySQLConnector(target, ScanOptions())
    try:
        facts = [f for f in connector.facts() if getattr(f, "kind", "") == "access"]
    finally:
        connector.close()
    access = {(f.properties()["grantee"], f.properties()["object"]): f.properties() for f in facts}
    app = access[("'ps_app'@'%'", "ps_app.customers")]
    assert app["wildcard_host"] is True and app["via"] == "GRANT SELECT ON ps_app.*"
    report = access[("'ps_report'@'10.0.0.5'", "ps_app.customers")]
    assert report["path"] == ["'ps_report'@'10.0.0.5'", "ps_pii_role"]
    assert report["via"] == "'ps_report'@'10.0.0.5' → ps_pii_role (GRANT SELECT ON ps_app.customers)"
    assert ("'ps_report'@'10.0.0.5'", "ps_app.credentials") not in access
    assert {o for g, o in access if g == "'ps_cols'@'127.0.0.1'"} == {"ps_app.customers.mobile"}
    assert {o for g, o in access if g == "'ps_batch'@'10.0.0.%'"} == {"ps_app.orders"}
    # 10.0.0.% is a subnet, not any host: the connector and check-migrations agree (mysql_any_host)
    assert access[("'ps_batch'@'10.0.0.%'", "ps_app.orders")]["wildcard_host"] is False


def test_read_only_session(my: tuple[Any, str]) -> None:
    server, target = my
    with server.admin_connect() as admin, admin.cursor() as cur:
        cur.execute("GRANT INSERT ON ps_app.orders TO 'ps_scan'@'127.0.0.1'")
    connector = MySQLConnector(target, ScanOptions())
    try:
        with connector._connect().cursor() as cur, pytest.raises(pymysql.err.OperationalError, match="READ ONLY"):
            cur.execute("INSERT INTO ps_app.orders VALUES ('x', 1)")
    finally:
        connector.close()
        with server.admin_connect() as admin, admin.cursor() as cur:
            cur.execute("REVOKE INSERT ON ps_app.orders FROM 'ps_scan'@'127.0.0.1'")


def test_statement_timeout_and_killed_session_is_notified_then_reconnects(my: tuple[Any, str]) -> None:
    server, target = my
    connector = MySQLConnector(target, ScanOptions())
    try:
        tables = _resources(connector)
        with connector._connect().cursor() as cur:
            cur.execute("SELECT @@session.max_statement_time, CONNECTION_ID()")
            timeout, session_id = cur.fetchone()
        assert float(timeout) == 30.0
        with server.admin_connect() as admin, admin.cursor() as cur:
            cur.execute("KILL %s", (session_id,))
        lost = connector.scan_resource(tables["ps_app.orders"], Detector())
        assert [n.kind for n in lost.notifications] == ["connection"]
        again = connector.scan_resource(tables["ps_app.orders"], Detector())
        assert again.notifications == [] and again.items_examined == fx.ROWS
    finally:
        connector.close()


def test_dropped_table_and_password_never_in_output(my: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from reports.sarif import build_sarif

    server, target = my
    monkeypatch.delenv("MYSQL_PWD")
    with server.admin_connect() as admin, admin.cursor() as cur:
        cur.execute("CREATE TABLE ps_app.zz_gone (mobile VARCHAR(20))")

    def drop(done: int, total: int) -> None:
        if done == 1:
            with server.admin_connect() as admin, admin.cursor() as cur:
                cur.execute("DROP TABLE IF EXISTS ps_app.zz_gone")

    with_password = target.replace("ps_scan@", f"ps_scan:{fx.MY_SCAN_PASSWORD}@")
    report = run_scan([with_password], ScanOptions(jobs=1), progress=drop)
    assert [n.kind for n in report.notifications if n.kind == "vanished"] == ["vanished"]
    assert report.targets[0].target == target
    text = json.dumps(build_sarif(report), ensure_ascii=False)
    assert fx.MY_SCAN_PASSWORD not in text
    rules = {(f.rule_id, f.resource.logical_name, f.properties.get("grantee")) for f in report.findings}
    assert ("mysql_wildcard_host_reads_pii", "ps_app.customers.id_card_no", "'ps_app'@'%'") in rules


def test_large_table_sampled_by_primary_key_range(my: tuple[Any, str]) -> None:
    server, target = my
    with server.admin_connect() as admin, admin.cursor() as cur:
        cur.execute("CREATE TABLE ps_app.big (id INT PRIMARY KEY, v VARCHAR(32))")
        cur.execute("INSERT INTO ps_app.big SELECT seq, MD5(seq) FROM ps_app.seq_1_to_30000")
        cur.execute("ANALYZE TABLE ps_app.big")
        cur.fetchall()
    try:
        samples = []
        for _ in range(2):
            connector = MySQLConnector(target, ScanOptions(include=("big",), extra={"sample_rows": 50}))
            try:
                (resource,) = _resources(connector).values()
                assert resource.metadata["integer_pk"] == "id" and resource.metadata["row_estimate"] > 10_000
                rows = connector._fetch(resource, [c for c in _columns(resource) if c.name == "id"])
                samples.append([r[0] for r in rows])
                assert connector.scan_resource(resource, Detector()).items_examined == 50
            finally:
                connector.close()
        assert samples[0] == samples[1] and len(samples[0]) == 50
        assert samples[0][0] > 1 and samples[0] == list(range(samples[0][0], samples[0][0] + 50))
    finally:
        with server.admin_connect() as admin, admin.cursor() as cur:
            cur.execute("DROP TABLE ps_app.big")


def _columns(resource: Resource) -> list[Any]:
    from connectors._sql import columns_from_metadata

    return columns_from_metadata(resource)


def test_grant_tables_unreadable_falls_back_to_information_schema(my: tuple[Any, str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _server, target = my
    monkeypatch.setenv("MYSQL_PWD", "cols-pw-1")
    connector = MySQLConnector(target.replace("ps_scan@", "ps_cols@"), ScanOptions())
    try:
        facts = list(connector.facts())
        tables = _resources(connector)
        partial = connector.scan_resource(tables["ps_app.customers"], Detector())
    finally:
        connector.close()
    notes = [f for f in facts if getattr(f, "kind", "") == "permission"]
    assert notes and "information_schema" in notes[0].message
    access = [(f.grantee, f.object) for f in facts if getattr(f, "kind", "") == "access"]
    assert access == [("'ps_cols'@'127.0.0.1'", "ps_app.customers.mobile")]
    # information_schema.COLUMNS shows an account only the columns it may read: those are sampled
    assert [c["name"] for c in tables["ps_app.customers"].metadata["columns"]] == ["mobile"]
    assert sorted(tables) == ["ps_app.customers"]
    assert partial.notifications == [] and partial.items_examined == fx.ROWS


def test_sarif_of_a_mariadb_scan_passes_the_multitool(my: tuple[Any, str], tmp_path: Any) -> None:
    from reports.sarif import build_sarif
    from tests.sarif_multitool import validate_sarif

    _server, target = my
    sarif = build_sarif(run_scan([target], ScanOptions(jobs=1)))
    results = sarif["runs"][0]["results"]
    rules = {r["ruleId"] for r in results}
    # both kinds of findings are in the validated log: personal data at rest and access
    assert {"db_plaintext_pii_column", "db_plaintext_c3_column", "mysql_wildcard_host_reads_pii"} <= rules
    result = next(r for r in results if r["ruleId"] == "mysql_wildcard_host_reads_pii"
                  and r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "ps_app.customers.id_card_no")
    assert result["locations"][0]["logicalLocations"][0]["kind"] == "column"
    assert result["properties"]["grantee"] == "'ps_app'@'%'"
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith(".privaudit/mysql/") and "://" not in uri
    text = json.dumps(sarif, ensure_ascii=False)
    assert fx.resident_id(1) not in text and fx.mobile(1) not in text and fx.MY_SCAN_PASSWORD not in text
    path = tmp_path / "mariadb.sarif"
    path.write_text(text, "utf-8")
    assert validate_sarif(path) == []  # SARIF 2.1.0 + GitHub code scanning rules


# -- the CLI: a vanished table or a killed session is one stderr line, and the scan goes on ----------------------

def _no_tls_line(target: str) -> str:
    """The fixture MariaDB offers no TLS: that transport note is the stderr line every scan of it has."""
    return f"privaudit: note: {target}: the server offers no TLS; the scan connected without it."


def test_cli_table_dropped_mid_scan_is_one_stderr_line(my: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    server, target = my
    with server.admin_connect() as admin, admin.cursor() as cur:
        cur.execute("CREATE TABLE ps_app.zz_gone (mobile VARCHAR(20))")
        cur.execute("INSERT INTO ps_app.zz_gone VALUES (%s)", (fx.mobile(1),))
        admin.commit()

    def drop_after_first(done: int, total: int) -> None:
        if done == 1:
            with server.admin_connect() as admin, admin.cursor() as cur:
                cur.execute("DROP TABLE IF EXISTS ps_app.zz_gone")

    try:
        result = fx.cli_scan_with_progress(monkeypatch, target, drop_after_first)
    finally:
        with server.admin_connect() as admin, admin.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS ps_app.zz_gone")
    assert result.stderr.splitlines() == [
        _no_tls_line(target),
        "privaudit: warning: ps_app:ps_app.zz_gone: the table no longer exists (dropped during the scan)."]
    located, notes, summary = fx.sarif_results(result.stdout)
    assert [(n["level"], n["properties"]["kind"], n["properties"]["resource"]) for n in notes] == [
        ("note", "transport", target),
        ("warning", "vanished", f"mysql://127.0.0.1:{server.port}/ps_app#ps_app.zz_gone")]
    assert {"ps_app.customers.id_card_no", "ps_app.credentials.password"} <= located
    assert not any(name.startswith("ps_app.zz_gone") for name in located)
    assert (summary["resources"], summary["itemsExamined"], summary["failed"]) == (4, 3 * fx.ROWS, False)
    assert result.exit_code == 1


def test_cli_killed_session_is_one_stderr_line(my: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    server, target = my

    def kill_after_first(done: int, total: int) -> None:
        if done == 1:  # every session of the scanning account
            with server.admin_connect() as admin, admin.cursor() as cur:
                cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'ps_scan'")
                for (session_id,) in cur.fetchall():
                    cur.execute("KILL %s", (session_id,))

    result = fx.cli_scan_with_progress(monkeypatch, target, kill_after_first)
    # the table sampled on the killed session (the 2nd in name order) is the one notified; the rest reconnects
    no_tls, line = result.stderr.splitlines()
    assert no_tls == _no_tls_line(target)
    assert line.startswith("privaudit: warning: ps_app:ps_app.customers: connection lost: ")
    located, notes, summary = fx.sarif_results(result.stdout)
    assert [(n["properties"]["kind"], n["properties"]["resource"]) for n in notes] == [
        ("transport", target), ("connection", f"mysql://127.0.0.1:{server.port}/ps_app#ps_app.customers")]
    assert {"ps_app.credentials.password"} <= located
    sarif = json.loads(result.stdout)
    summary = sarif["runs"][0]["invocations"][0]["properties"]["targets"][0]
    assert (summary["resources"], summary["itemsExamined"]) == (3, 2 * fx.ROWS)  # credentials + orders sampled
