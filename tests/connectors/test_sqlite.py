"""SQLite connector: read-only open, column classification and file permission facts."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
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
        verdicts = {f.column: f.properties() for f in scan.facts}
        assert verdicts["id_card_no"]["holds"] == ["CN_RESIDENT_ID"] and verdicts["id_card_no"]["confidence"] == 1.0
        assert verdicts["pin_code"]["protection"] == "protected"
        assert verdicts["card_enc"]["protection"] == "protected"
        assert scan.items_examined == fx.ROWS
        odd = connector.scan_resource(resources['main.odd "name"'], Detector())
        assert odd.facts == [] and odd.notifications == [] and odd.items_examined == fx.ROWS
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
            connector._connect().execute("DELETE FROM customers")
        facts = list(connector.facts())
        assert facts[0].mode == 0o600
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


# -- never writes next to the database -------------------------------------------------------------


def listing(directory: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry of ``directory``: size, mtime (ns) and mode — what a scan must leave as it was."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_mode) for p in sorted(directory.iterdir())}


def wal_database(directory: Path, *, live_wal: bool) -> tuple[Path, sqlite3.Connection | None]:
    """A WAL-mode database; with ``live_wal`` a writer stays connected with one committed customer
    only in the write-ahead log (checkpointing off), as on a running application server."""
    path = directory / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, id_card_no TEXT, mobile TEXT)")
    conn.execute("INSERT INTO customers (id_card_no, mobile) VALUES (?, ?)", (fx.resident_id(1), fx.mobile(1)))
    conn.commit()
    conn.close()  # the last connection checkpoints and removes -wal and -shm
    if not live_wal:
        return path, None
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE customers SET mobile = ?", (fx.mobile(2),))
    writer.commit()
    return path, writer


@contextlib.contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """``directory`` made read-only for us: mode 0555, and for root (which ignores modes) the immutable
    attribute (chattr, from e2fsprogs, which .ci/install-system-deps.sh installs); a failure where neither
    holds, since the case would then prove nothing."""
    directory.chmod(0o555)
    immutable = os.geteuid() == 0 and subprocess.run(["chattr", "+i", str(directory)], capture_output=True,
                                                      check=False).returncode == 0
    try:
        try:
            (directory / "probe").touch()
        except OSError:
            pass
        else:
            (directory / "probe").unlink()
            pytest.fail("this user can write to a directory of mode 0555 and chattr +i did not take: install "
                        "e2fsprogs (bash .ci/install-system-deps.sh) and keep the test tree on a file system "
                        "with inode attributes")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
        directory.chmod(0o755)


@pytest.mark.parametrize("live_wal", [False, True], ids=["checkpointed", "rows-only-in-the-wal"])
@pytest.mark.parametrize("read_only_dir", [False, True], ids=["writable-dir", "read-only-dir"])
@pytest.mark.parametrize("through", ["sqlite", "files"], ids=["sqlite-target", "directory-target"])
def test_a_wal_database_is_read_without_creating_anything_beside_it(tmp_path: Path, live_wal: bool,
                                                                     read_only_dir: bool, through: str) -> None:
    """Through its own ``sqlite://`` target, or found on a share by the files connector (which takes
    it for binary by its magic bytes and never opens it as a database), the directory is unchanged."""
    directory = tmp_path / "data"
    directory.mkdir()
    path, writer = wal_database(directory, live_wal=live_wal)
    try:
        with read_only(directory) if read_only_dir else contextlib.nullcontext():
            before = listing(directory)
            report = run_scan([f"sqlite://{path}" if through == "sqlite" else str(directory)], ScanOptions(jobs=1))
            assert listing(directory) == before
        assert not [n for n in report.notifications if n.level.value == "error"], report.notifications
        if through == "sqlite":
            entities = {f.entity_type for f in report.findings if f.rule_id.startswith("db_")}
            assert {"CN_RESIDENT_ID", "CN_MOBILE_NUMBER"} <= entities
    finally:
        if writer is not None:
            writer.close()


def test_rows_committed_only_in_the_wal_are_sampled(tmp_path: Path) -> None:
    path, writer = wal_database(tmp_path, live_wal=True)
    try:
        assert (tmp_path / "app.db-wal").stat().st_size > 0
        connector = SQLiteConnector(f"sqlite://{path}", ScanOptions())
        try:
            (resource,) = [r for r in connector.discover() if isinstance(r, Resource)]
            scan = connector.scan_resource(resource, Detector())
            private = connector._private
            assert private is not None and Path(private).stat().st_mode & 0o777 == 0o700
        finally:
            connector.close()
        hashes = {m.value_hash for m in scan.matches if m.entity_type == "CN_MOBILE_NUMBER"}
        from scanner.fingerprint import value_hash

        assert hashes == {value_hash("CN_MOBILE_NUMBER", fx.mobile(2))}  # the value in the WAL, not the old one
        assert not Path(private).exists()  # the private copy is gone
    finally:
        writer.close()
