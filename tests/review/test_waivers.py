"""Waivers: golden rejections, expiry with a fixed clock, stale waivers, and how a waived finding
looks in SARIF (suppression kind external, status accepted, owner/ticket/expiry)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from scanner.model import Category, Finding, Level, Resource
from scanner.policy import load_policy
from scanner.review.pipeline import apply_review, review_exit_code
from scanner.review.waivers import apply_waivers, load_waivers
from tests.review.estate import NOW, app_log, customers_csv, golden_errors, sarif, scan, write, write_sarif
from tests.sarif_multitool import validate_sarif

DATA = Path(__file__).parent / "data"
WAIVER_CASES = sorted((DATA / "waiver_errors").glob("*.yaml"))
POLICY = load_policy()


@pytest.mark.parametrize("case", WAIVER_CASES, ids=lambda p: p.stem)
def test_invalid_waivers_are_rejected_with_golden_messages(case: Path) -> None:
    got, expected = golden_errors(case, load_waivers)
    assert got == expected


def _waivers(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text("version: 1\nwaivers:\n" + "".join(entries), encoding="utf-8")
    return path


def _entry(rule: str, selector: str, expires: str, owner: str = "zhang.wei@bank.example",
           ticket: str = "SEC-1234") -> str:
    return (f"  - rule: {rule}\n    {selector}\n    owner: {owner}\n"
            f"    reason: Exports are encrypted by the archive job within 24 hours.\n"
            f"    ticket: {ticket}\n    expires: {expires}\n")


def _finding(rule: str, uri: str, relative: str, entity: str = "CN_RESIDENT_ID", fp: str = "") -> Finding:
    resource = Resource(uri=uri, kind="file", display_name=relative, connector="files",
                        root_uri="file:///srv/share/", relative_path=relative)
    return Finding(rule_id=rule, level=Level.ERROR, category=Category.PERSONAL_DATA, message="x.",
                   resource=resource, grade="C2", entity_type=entity, occurrences=1,
                   fingerprint=fp or f"{rule}:{relative}:{entity}".ljust(32, "0")[:32])


# (clock, waiver expiry, suppressed?, expired finding?) — a waiver applies through its expiry day (UTC)
EXPIRY_CASES = [
    (dt.datetime(2026, 6, 30, 23, 59, tzinfo=dt.UTC), "2026-06-30", True, False),
    (dt.datetime(2026, 7, 1, 0, 0, tzinfo=dt.UTC), "2026-06-30", False, True),
    (dt.datetime(2026, 7, 1, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), "2026-06-30", True, False),
    (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "2027-01-01", True, False),
    (dt.datetime(2028, 1, 1, tzinfo=dt.UTC), "2027-01-01", False, True),
]


@pytest.mark.parametrize("now, expires, suppressed, expired", EXPIRY_CASES)
def test_waiver_expiry_with_a_fixed_clock(tmp_path: Path, now: dt.datetime, expires: str, suppressed: bool,
                                          expired: bool) -> None:
    waivers = load_waivers(_waivers(tmp_path, _entry("pii_in_file", 'resource: "exports/*.csv"', expires)))
    finding = _finding("pii_in_file", "file:///srv/share/exports/kyc.csv", "exports/kyc.csv")
    outcome = apply_waivers([finding], waivers, POLICY, now)
    assert bool(finding.suppressions) is suppressed
    assert [f.rule_id for f in outcome.findings] == (["waiver_expired"] if expired else [])
    if expired:
        result = outcome.findings[0]
        assert result.level is Level.WARNING
        assert result.locations[0].line == 3
        assert result.message == (
            "The waiver for pii_in_file on exports/*.csv (owner zhang.wei@bank.example, ticket SEC-1234) expired on "
            f"{expires}; it no longer applies, so the 1 result it matches count again. Fix them, or renew the "
            "waiver with a new expiry date.")
        assert result.properties["matchedResults"] == 1


def test_selectors_glob_fingerprint_and_entity_type(tmp_path: Path) -> None:
    kyc = _finding("pii_in_file", "file:///srv/share/exports/kyc.csv", "exports/kyc.csv")
    kyc_mobile = _finding("pii_in_file", "file:///srv/share/exports/kyc.csv", "exports/kyc.csv", "CN_MOBILE_NUMBER")
    log = _finding("pii_in_log", "file:///srv/share/logs/app.log", "logs/app.log", fp="ab" * 16)
    other_rule = _finding("file_world_readable_with_pii", "file:///srv/share/exports/kyc.csv", "exports/kyc.csv")
    waivers = load_waivers(_waivers(
        tmp_path,
        _entry("pii_in_file", 'resource: "file:///srv/share/exports/*"\n    entity_type: CN_MOBILE_NUMBER',
               "2099-12-31"),
        _entry("pii_in_log", f"fingerprint: {'ab' * 16}", "2099-12-31", ticket="SEC-2"),
        _entry("pii_in_file", 'resource: "reports/**"', "2099-12-31", owner="li.na@bank.example"),
    ))
    outcome = apply_waivers([kyc, kyc_mobile, log, other_rule], waivers, POLICY, NOW)
    assert [bool(f.suppressions) for f in (kyc, kyc_mobile, log, other_rule)] == [False, True, True, False]
    assert log.suppressions == [{
        "kind": "external", "status": "accepted",
        "justification": "Exports are encrypted by the archive job within 24 hours.",
        "properties": {"owner": "zhang.wei@bank.example", "expires": "2099-12-31", "ticket": "SEC-2",
                       "waiver": f"{tmp_path}/waivers.yaml:10"},
    }]
    assert outcome.matched == {0: 1, 1: 1, 2: 0}
    (stale,) = outcome.findings
    assert (stale.rule_id, stale.level, stale.locations[0].line) == ("waiver_stale", Level.NOTE, 16)
    assert "li.na@bank.example" in stale.message and stale.message.endswith(".")


def test_stale_and_expired_findings_have_stable_fingerprints(tmp_path: Path) -> None:
    """Re-ordering the waivers file must not churn the waiver findings in a baseline."""
    first = _entry("pii_in_file", 'resource: "a/*"', "2000-01-01")
    second = _entry("pii_in_log", 'resource: "b/*"', "2099-01-01")
    before = apply_waivers([], load_waivers(_waivers(tmp_path, first, second)), POLICY, NOW).findings
    after = apply_waivers([], load_waivers(_waivers(tmp_path, second, first)), POLICY, NOW).findings
    assert sorted(f.fingerprint for f in before) == sorted(f.fingerprint for f in after)
    assert {f.rule_id for f in before} == {"waiver_expired", "waiver_stale"}


def test_policy_can_switch_waiver_rules_off(tmp_path: Path) -> None:
    policy = load_policy()
    policy.rules = {"waiver_stale": {"enabled": False}}
    waivers = load_waivers(_waivers(tmp_path, _entry("pii_in_log", 'resource: "b/*"', "2099-01-01")))
    assert apply_waivers([], waivers, policy, NOW).findings == []


def test_waived_scan_results_in_sarif_and_exit_code(tmp_path: Path) -> None:
    estate = tmp_path / "estate"
    write(estate, "logs/app.log", app_log())
    write(estate, "exports/customers.csv", customers_csv())
    waivers = load_waivers(_waivers(
        tmp_path,
        _entry("pii_in_log", 'resource: "logs/*.log"', "2026-12-31"),
        _entry("pii_in_file", 'resource: "exports/*"', "2026-03-31"),
    ))
    report = scan([str(estate)])
    apply_review(report, POLICY, waivers=waivers, now=NOW)
    log = sarif(report)["runs"][0]
    by_rule: dict[str, list[dict]] = {}
    for result in log["results"]:
        by_rule.setdefault(result["ruleId"], []).append(result)
    (waived,) = by_rule["pii_in_log"]
    assert waived["suppressions"][0]["kind"] == "external"
    assert waived["suppressions"][0]["status"] == "accepted"
    assert waived["suppressions"][0]["properties"]["ticket"] == "SEC-1234"
    assert all("suppressions" not in r for r in by_rule["pii_in_file"])  # expired: counts again
    (expired,) = by_rule["waiver_expired"]
    assert expired["locations"][0]["physicalLocation"]["region"]["startLine"] == 9
    assert expired["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "waivers.yaml"
    rule_ids = [r["id"] for r in log["tool"]["driver"]["rules"]]
    assert "waiver_expired" in rule_ids and "waiver_stale" in rule_ids
    assert review_exit_code(report, "error") == 1  # the un-waived pii_in_file results
    path = write_sarif(report, tmp_path / "waived.sarif")
    assert validate_sarif(path) == []
