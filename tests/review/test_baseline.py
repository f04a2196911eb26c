"""Baselines across two scans of a changed estate: new / unchanged / updated / absent by fingerprint,
no churn when lines move or CSV rows are re-ordered, and targets not scanned this time reported as
not covered instead of resolved."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from reports._audit import build_audit
from scanner.model import Level, Notification, ScanReport
from scanner.policy import load_policy
from scanner.review.baseline import BaselineError, compared_state, load_baseline
from scanner.review.pipeline import apply_review, review_exit_code
from tests.review.estate import IDS, app_log, customers_csv, sarif, scan, write, write_sarif
from tests.sarif_multitool import validate_sarif

POLICY = load_policy()


def _estate_v1(root: Path) -> None:
    write(root, "exports/customers.csv", customers_csv())
    write(root, "logs/app.log", app_log())
    write(root, "docs/notes.txt", f"回访客户 身份证 {IDS[4]}\n")
    write(root, "exports/old_contacts.csv", "contact\nzhang.wei@example.com\n")


def _estate_v2(root: Path) -> None:
    write(root, "exports/customers.csv", customers_csv(order=[3, 1, 0, 2]))  # rows re-ordered
    write(root, "logs/app.log", app_log(padding=5))  # every line moved down
    write(root, "docs/notes.txt", f"回访客户 身份证 {IDS[4]}\n补充 {IDS[0]}\n")  # one more ID: updated
    (root / "exports/old_contacts.csv").unlink()  # fixed: absent
    write(root, "exports/new_contacts.csv", "contact\n" + "".join(f"li.na{i}@example.org\n" for i in range(10)))  # new


def _rescan(targets: list[str], previous: Path) -> ScanReport:
    """Scan again and compare with ``previous`` (a SARIF file), as ``--baseline`` does."""
    report = scan(targets)
    apply_review(report, POLICY, baseline=load_baseline(previous))
    return report


def _states(log: dict) -> dict[tuple[str, str, str | None], str]:
    out = {}
    for result in log["runs"][0]["results"]:
        where = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        out[(where, result["ruleId"], result["properties"].get("entityType"))] = result.get("baselineState")
    return out


EXPECTED = {
    ("exports/customers.csv", "pii_in_file", "CN_RESIDENT_ID"): "unchanged",
    ("exports/customers.csv", "pii_in_file", "CN_MOBILE_NUMBER"): "unchanged",
    ("logs/app.log", "pii_in_log", "CN_MOBILE_NUMBER"): "unchanged",
    ("docs/notes.txt", "pii_in_file", "CN_RESIDENT_ID"): "updated",
    ("exports/old_contacts.csv", "pii_in_file", "EMAIL_ADDRESS"): "absent",
    ("exports/new_contacts.csv", "pii_in_file", "EMAIL_ADDRESS"): "new",
}


@pytest.fixture(scope="module")
def two_reviews(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    tmp = tmp_path_factory.mktemp("reviews")
    root = tmp / "estate"
    _estate_v1(root)
    first = scan([str(root)])
    previous = write_sarif(first, tmp / "2026-H1.sarif")
    _estate_v2(root)
    second = scan([str(root)])
    apply_review(second, POLICY, baseline=load_baseline(previous))
    current = write_sarif(second, tmp / "2026-H2.sarif")
    return tmp, json.loads(previous.read_text("utf-8")), json.loads(current.read_text("utf-8"))


def test_baseline_states_across_a_changed_estate(two_reviews: tuple[Path, dict, dict]) -> None:
    _, _, current = two_reviews
    states = _states(current)
    for key, state in EXPECTED.items():
        assert states.get(key) == state, (key, states)
    # nothing from the first review is lost or duplicated
    fingerprints = [r["partialFingerprints"]["privaudit/v1"] for r in current["runs"][0]["results"]]
    assert len(fingerprints) == len(set(fingerprints))


def test_report_baseline_and_scan_baseline_agree(two_reviews: tuple[Path, dict, dict]) -> None:
    """`report --baseline` (states computed from the previous log) judges as `scan --baseline` does."""
    _, previous, current = two_reviews
    stripped = json.loads(json.dumps(current))
    run = stripped["runs"][0]
    run["results"] = [r for r in run["results"] if r.get("baselineState") != "absent"]
    expected = {}
    for result in run["results"]:
        expected[result["partialFingerprints"]["privaudit/v1"]] = result.pop("baselineState")
    audit = build_audit(stripped, previous)
    got = {f.fingerprint: f.state for f in audit.findings if f.state != "absent"}
    assert got == expected and set(expected.values()) >= {"new", "unchanged"}


@pytest.mark.parametrize(("before", "now", "counted", "state"), [
    (("error", "C2", 5), ("error", "C2", 5), True, "unchanged"),
    (("error", "C2", 5), ("error", "C2", 7), True, "updated"),
    (("error", "C2", 5), ("error", "C2", 7), False, "unchanged"),  # a column's sampled count moves
    (("warning", "C2", 5), ("error", "C2", 5), False, "updated"),
    (("error", "C2", None), ("error", "C3", 5), True, "updated"),
])
def test_compared_state(before: tuple, now: tuple, counted: bool, state: str) -> None:
    assert compared_state(before, now, counted) == state


def test_moved_lines_keep_fingerprints_but_report_the_new_line(two_reviews: tuple[Path, dict, dict]) -> None:
    _, previous, current = two_reviews

    def log_result(log: dict) -> dict:
        return next(r for r in log["runs"][0]["results"] if r["ruleId"] == "pii_in_log")

    before, after = log_result(previous), log_result(current)
    assert before["partialFingerprints"] == after["partialFingerprints"]
    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == (
        before["locations"][0]["physicalLocation"]["region"]["startLine"] + 5)


def test_absent_results_are_carried_with_their_location_and_never_fail(two_reviews: tuple[Path, dict, dict]) -> None:
    tmp, previous, current = two_reviews
    (absent,) = [r for r in current["runs"][0]["results"] if r.get("baselineState") == "absent"]
    (old,) = [r for r in previous["runs"][0]["results"]
              if r["partialFingerprints"] == absent["partialFingerprints"]]
    assert absent["message"] == old["message"]
    assert absent["locations"][0]["physicalLocation"] == old["locations"][0]["physicalLocation"]
    assert absent["properties"]["resource"] == old["properties"]["resource"]
    assert "notCovered" not in absent["properties"]
    assert validate_sarif(tmp / "2026-H2.sarif") == []


def test_exit_code_new_only_counts_only_new_results(tmp_path: Path) -> None:
    root = tmp_path / "estate"
    _estate_v1(root)
    previous = write_sarif(scan([str(root)]), tmp_path / "previous.sarif")
    (root / "exports/old_contacts.csv").unlink()
    report = _rescan([str(root)], previous)
    assert review_exit_code(report, "error", new_only=True) == 0  # unchanged + absent only
    assert review_exit_code(report, "error") == 1  # the unchanged ones still count without --fail-on-new-only
    write(root, "exports/new_contacts.csv", "contact\n" + "".join(f"li.na{i}@example.org\n" for i in range(10)))
    assert review_exit_code(_rescan([str(root)], previous), "error", new_only=True) == 1


def test_target_not_scanned_this_time_is_not_covered_not_absent(tmp_path: Path) -> None:
    share, logs = tmp_path / "share", tmp_path / "logs"
    write(share, "customers.csv", customers_csv())
    write(logs, "app.log", app_log())
    previous = write_sarif(scan([str(share), str(logs)]), tmp_path / "previous.sarif")
    shutil.move(logs, tmp_path / "unmounted")  # the share with the logs is not reachable this time
    report = scan([str(share), str(logs)])
    assert [t.failed for t in report.targets] == [False, True]
    apply_review(report, POLICY, baseline=load_baseline(previous))
    results = sarif(report)["runs"][0]
    (carried,) = [r for r in results["results"] if r["ruleId"] == "pii_in_log"]
    assert carried["baselineState"] == "unchanged"
    assert carried["properties"]["notCovered"] is True
    assert carried["properties"]["notCoveredReason"] == "target not scanned"
    assert not any(r.get("baselineState") == "absent" for r in results["results"])
    notes = [n for n in results["invocations"][0]["toolExecutionNotifications"] if n["properties"]["kind"] ==
             "not-covered"]
    assert [n["message"]["text"] for n in notes] == [
        f"{logs} was not scanned this time; its 1 result from the baseline is carried over as not covered, not as "
        "resolved."]
    # once the share is back and the log is clean, the result is resolved for real
    shutil.move(tmp_path / "unmounted", logs)
    write(logs, "app.log", "2026-06-01 INFO login ok mobile=138****5678\n")
    newer = write_sarif(report, tmp_path / "carried.sarif")
    report = scan([str(share), str(logs)])
    apply_review(report, POLICY, baseline=load_baseline(newer))
    (resolved,) = [f for f in report.findings if f.rule_id == "pii_in_log"]
    assert resolved.baseline_state == "absent" and "notCovered" not in resolved.properties


def test_unreadable_resource_keeps_its_old_results_not_covered(tmp_path: Path) -> None:
    root = tmp_path / "share"
    write(root, "customers.csv", customers_csv())
    previous = write_sarif(scan([str(root)]), tmp_path / "previous.sarif")
    (root / "customers.csv").unlink()
    report = scan([str(root)])
    uri = (root / "customers.csv").as_uri()
    report.notifications.append(Notification(f"{uri}: permission denied.", uri, Level.WARNING, "unreadable"))
    apply_review(report, POLICY, baseline=load_baseline(previous))
    assert {(f.baseline_state, f.properties.get("notCoveredReason")) for f in report.findings} == {
        ("unchanged", "resource not readable")}


def test_previously_absent_results_are_not_carried_again(tmp_path: Path) -> None:
    root = tmp_path / "share"
    _estate_v1(root)
    first = write_sarif(scan([str(root)]), tmp_path / "1.sarif")
    (root / "exports/old_contacts.csv").unlink()
    second = write_sarif(_rescan([str(root)], first), tmp_path / "2.sarif")
    report = _rescan([str(root)], second)
    assert {f.baseline_state for f in report.findings} == {"unchanged"}


@pytest.mark.parametrize("content, message", [
    ("not json", "is not JSON"),
    ('{"version": "2.1.0"}', "is not a SARIF log (no 'runs' array)"),
])
def test_unusable_baseline_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "previous.sarif"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError, match=re.escape(message)):
        load_baseline(path)


def test_relative_and_absolute_path_targets_are_the_same_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """A review run from a cron job (absolute paths from the config) compares with one run by hand."""
    write(tmp_path, "share/customers.csv", customers_csv())
    write(tmp_path, "share/contacts.csv", "contact\nli.na@example.org\n")
    monkeypatch.chdir(tmp_path)
    previous = write_sarif(scan(["share"]), tmp_path / "by-hand.sarif")
    (tmp_path / "share/contacts.csv").unlink()
    monkeypatch.chdir("/")
    report = _rescan([str(tmp_path / "share")], previous)
    assert {(f.resource.relative_path, f.baseline_state) for f in report.findings} == {
        ("customers.csv", "unchanged"), ("contacts.csv", "absent")}
