"""The scan survives what a hostile estate does to the process running it: workers that die, a
fingerprint key that is empty, short, exposed or raced for, and names that are not UTF-8.

Worker deaths are real: a resource kills the forked worker scanning it with SIGKILL (as the
out-of-memory killer does); the patch of the connector is inherited by the forked workers.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import scanner.fingerprint as fingerprint
from connectors.files import FilesConnector
from scanner.connector import ScanOptions
from scanner.demo import resident_id
from scanner.scan import run_scan

RID = resident_id("11010519850312001")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def killing_connector(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Files named ``killer*`` kill their worker every time, ``flaky*`` the first time only."""
    marks = tmp_path / "marks"
    marks.mkdir()
    original = FilesConnector.scan_resource

    def scan_resource(self, resource, detector, part=None):  # type: ignore[no-untyped-def]
        name = resource.display_name
        first_time = not (marks / name).exists()
        (marks / name).touch()
        if name.startswith("killer") or (name.startswith("flaky") and first_time):
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, resource, detector, part)

    monkeypatch.setattr(FilesConnector, "scan_resource", scan_resource)
    return tmp_path


def test_a_worker_killed_twice_loses_one_resource_and_the_scan_finishes(killing_connector: Path) -> None:
    share = killing_connector / "share"
    share.mkdir()
    for i in range(12):
        (share / f"export{i:02d}.csv").write_text(f"id_card\n{RID}\n")
    (share / "killer.csv").write_text(f"id_card\n{RID}\n")
    (share / "flaky.csv").write_text(f"id_card\n{RID}\n")
    report = run_scan([str(share)], ScanOptions(jobs=2))
    scanned = {f.resource.display_name for f in report.findings if f.entity_type == "CN_RESIDENT_ID"}
    assert scanned == {f"export{i:02d}.csv" for i in range(12)} | {"flaky.csv"}
    lost = [n for n in report.notifications if n.kind == "worker-lost"]
    assert len(lost) == 1 and lost[0].message.startswith("killer.csv: the worker process scanning it died twice")
    assert report.targets[0].resources == 14


def test_the_cli_writes_every_output_when_a_worker_dies(killing_connector: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import main

    share = tmp_path / "share"
    share.mkdir()
    (share / "killer.log").write_text(f"id_card={RID}\n")
    (share / "ok.csv").write_text(f"id_card\n{RID}\n")
    out = tmp_path / "out.sarif"
    result = CliRunner().invoke(main, ["scan", str(share), "-j", "2", "-o", str(out)])
    assert result.exit_code == 1, result.output
    log = json.loads(out.read_text("utf-8"))
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("died twice" in n["message"]["text"] for n in notes)
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]
            if r["ruleId"] == "pii_in_file"] == ["ok.csv"]


# -- the fingerprint key -------------------------------------------------------------------------


@pytest.fixture
def fresh_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv(fingerprint.ENV_KEY, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    fingerprint.load_key.cache_clear()
    yield tmp_path / "config" / "privaudit" / "fingerprint.key"
    fingerprint.load_key.cache_clear()


@pytest.mark.parametrize("content", [b"", b"\n", b"0123456789abcde"])
def test_an_empty_or_short_key_file_is_refused(fresh_key: Path, content: bytes) -> None:
    fresh_key.parent.mkdir(parents=True)
    fresh_key.write_bytes(content)
    with pytest.raises(fingerprint.FingerprintKeyError, match="fewer than the 16 needed; delete the file"):
        fingerprint.load_key()


def test_a_short_key_in_the_environment_exits_2(fresh_key: Path, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n")
    env = {**os.environ, fingerprint.ENV_KEY: "secret", "XDG_CONFIG_HOME": str(fresh_key.parents[1])}
    result = subprocess.run([sys.executable, "-m", "scanner", "scan", str(tmp_path / "a.csv")], env=env,
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "fingerprint key in $PRIVAUDIT_FINGERPRINT_KEY is 6 bytes" in result.stderr


def test_a_key_readable_by_others_is_a_warning_in_the_report(fresh_key: Path, tmp_path: Path) -> None:
    fingerprint.load_key()
    fresh_key.chmod(0o644)
    (tmp_path / "a.csv").write_text("x\n")
    report = run_scan([str(tmp_path / "a.csv")], ScanOptions(jobs=1))
    (note,) = [n for n in report.notifications if n.kind == "key-exposed"]
    assert "readable by others (mode 644)" in note.message and "chmod 600" in note.message


def _first_key(config: str, start: multiprocessing.synchronize.Event, results: multiprocessing.Queue) -> None:
    os.environ["XDG_CONFIG_HOME"] = config
    fingerprint.load_key.cache_clear()
    start.wait()
    results.put(fingerprint.load_key())


def test_processes_racing_to_create_the_key_all_get_the_same_complete_key(fresh_key: Path) -> None:
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    workers = [context.Process(target=_first_key, args=(str(fresh_key.parents[1]), start, results))
               for _ in range(8)]
    for worker in workers:
        worker.start()
    start.set()
    keys = {results.get(timeout=30) for _ in workers}
    for worker in workers:
        worker.join(10)
    assert keys == {fresh_key.read_bytes()} and len(fresh_key.read_bytes()) == 64
    assert sorted(p.name for p in fresh_key.parent.iterdir()) == ["fingerprint.key"]  # no file left aside


# -- names that are not UTF-8 --------------------------------------------------------------------


def test_a_name_with_invalid_utf8_is_scanned_and_every_output_is_utf8(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    raw_name = b"\xff\xfe" + "客户".encode("gb18030") + b".csv"
    with open(os.path.join(os.fsencode(share), raw_name), "wb") as handle:
        handle.write(f"id_card\n{RID}\n".encode())
    outputs = {}
    for fmt in ("sarif", "json", "text"):
        result = subprocess.run([sys.executable, "-m", "scanner", "scan", str(share), "--format", fmt, "-j", "1"],
                                capture_output=True, cwd=REPO, timeout=120)
        assert result.returncode == 1 and b"Traceback" not in result.stderr, result.stderr
        outputs[fmt] = result.stdout.decode("utf-8")  # strict: raises on anything but UTF-8
    results = json.loads(outputs["sarif"])["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"%FF%FE%BF%CD%BB%A7.csv"}  # the exact bytes, percent-encoded: the file can be found
    assert "\\xff\\xfe" in outputs["text"]
