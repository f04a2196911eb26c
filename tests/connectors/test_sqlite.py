"""SQLite connector: read-only open, column classification and file permission facts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from connectors.sqlite import SQLiteConnector
from scanner.connector import ScanOptions
from scanner.detection.engine import Detector
from scanner.model import Resource
from scanner.scan import run_scan
from tests.connectors import dbfixtures as fx


def make_db(path: Path, mode: int = 0o600) -> str:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, id_card_no TEXT, mobile TEXT, pin_code TEXT, "
                 "card_enc BLOB, remark TEXT)")
    conn.execute('CREATE TABLE "odd ""name""" (order_no TEXT)')
    for n in range(fx.ROWS):
        conn.execute("INSERT INTO customers (id_card_no, mobile, pin_code, card_enc, remark) VALUES (?, ?, ?, ?, ?)",
                     (fx.resident_id(n), fx.mobile(n), fx.sha256_hex(n), bytes([0xC3, 0x0D, 4, 9]) + bytes(range(40)),
                      "ok"))
        conn.execute('INSERT INTO "odd ""name""" VALUES (?)', (fx.order_no(n),))
    conn.commit()
    conn.close()
    path.chmod(mode)
    return f"sqlite://{path}"


def test_classification_and_readonly(tmp_path: Path) -> None:
    target = make_db(tmp_path / "app.db")
    connector = SQLiteConnector(target, ScanOptions())
    try:
        resources = {r.logical_name: r for r in connector.discover() if isinstance(r, Resource)}
        assert sorted(resources) == ['main.customers', 'main.odd "name"']
        scan = connector.scan_resource(resources["main.customers"], Detector())
        verdicts = {f.data["column"]: f.data for f in scan.facts}
        assert verdicts["id_card_no"]["holds"] == ["CN_RESIDENT_ID"] and verdicts["id_card_no"]["confidence"] == 1.0
        assert verdicts["pin_code"]["protection"] == "protected"
        assert verdicts["card_enc"]["protection"] == "protected"
        assert scan.items_examined == fx.ROWS
        odd = connector.scan_resource(resources['main.odd "name"'], Detector())
        assert odd.facts == [] and odd.notifications == [] and odd.items_examined == fx.ROWS
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
            connector._connect().execute("DELETE FROM customers")
        facts = list(connector.facts())
        assert facts[0].data["mode"] == 0o600
    finally:
        connector.close()


def test_world_readable_file_with_pii_rule(tmp_path: Path) -> None:
    from reports.sarif import build_sarif

    target = make_db(tmp_path / "export.db", mode=0o644)
    report = run_scan([target], ScanOptions(jobs=1))
    found = {(f.rule_id, f.resource.logical_name) for f in report.findings}
    assert ("sqlite_file_world_readable_with_pii", str(tmp_path / "export.db")) in found
    assert ("db_plaintext_pii_column", "main.customers.id_card_no") in found
    assert not any(f.resource.logical_name == "main.customers.pin_code" for f in report.findings)
    sarif = build_sarif(report)
    results = sarif["runs"][0]["results"]
    column = next(r for r in results if r["ruleId"] == "db_plaintext_pii_column"
                  and r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "main.customers.mobile")
    assert column["locations"][0]["logicalLocations"][0]["kind"] == "column"
    assert not column["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("sqlite:")
    assert fx.resident_id(0) not in json.dumps(sarif, ensure_ascii=False)

    (tmp_path / "export.db").chmod(0o600)
    report = run_scan([target], ScanOptions(jobs=1))
    assert not any(f.rule_id == "sqlite_file_world_readable_with_pii" for f in report.findings)


def test_missing_file_fails_target_not_scan(tmp_path: Path) -> None:
    report = run_scan([f"sqlite://{tmp_path}/nope.db"], ScanOptions(jobs=1))
    assert report.targets[0].failed and report.findings == []
