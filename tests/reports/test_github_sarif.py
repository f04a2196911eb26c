"""``--format github-sarif`` against GitHub code scanning's documented SARIF constraints.

Nothing is uploaded: :func:`github_problems` checks a file against what GitHub documents
(https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning)
and the SARIF Multitool validates it with its GitHub rules (``Sarif;Gh``).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import reports.github_sarif as github_sarif
from scanner.cli import main
from scanner.connector import ScanOptions
from scanner.demo import resident_id
from scanner.output import render_report
from scanner.scan import run_scan
from tests.sarif_multitool import validate_sarif

RIDS = [resident_id(f"110105198503{day:02d}001") for day in range(1, 13)]


def github_problems(log: dict[str, Any]) -> list[str]:
    """Violations of GitHub's documented limits and the fields its alerts are built from."""
    runs = log.get("runs", [])
    problems = ["more than 20 runs"] if len(runs) > 20 else []
    return problems + [problem for run in runs for problem in _run_problems(run)]


def _run_problems(run: dict[str, Any]) -> list[str]:
    results = run.get("results", [])
    rules = run["tool"]["driver"].get("rules", [])
    limits = ((len(results), "more than 25,000 results in a run"), (len(rules), "more than 25,000 rules"))
    return ([message for count, message in limits if count > 25_000]
            + [problem for rule in rules for problem in _rule_problems(rule)]
            + [problem for result in results for problem in _result_problems(result)])


def _rule_problems(rule: dict[str, Any]) -> list[str]:
    tags = rule.get("properties", {}).get("tags", [])
    severity = rule.get("properties", {}).get("security-severity")
    checks = (
        (len(tags) > 20, "more than 20 tags"),
        (severity is not None and not (isinstance(severity, str) and 0 <= float(severity) <= 10),
         "security-severity must be a string 0.0-10.0"),
    )
    return [f"rule {rule['id']}: {message}" for failed, message in checks if failed]


def _result_problems(result: dict[str, Any]) -> list[str]:
    locations = result.get("locations", [])
    checks = (
        (bool(result.get("suppressions")) or result.get("baselineState") == "absent",
         "suppressed or absent results become open alerts"),
        ("primaryLocationLineHash" not in result.get("partialFingerprints", {}), "no primaryLocationLineHash"),
        (not result.get("message", {}).get("text"), "no message text"),
        (not 1 <= len(locations) <= 10, "needs 1-10 locations"),
    )
    problems = [message for failed, message in checks if failed]
    problems += [problem for location in locations for problem in _location_problems(location)]
    return [f"result {result.get('ruleId')}: {problem}" for problem in problems]


def _location_problems(location: dict[str, Any]) -> list[str]:
    artifact = location.get("physicalLocation", {}).get("artifactLocation", {})
    uri = artifact.get("uri", "")
    checks = (
        ("uriBaseId" in artifact, "uriBaseId is ignored by upload-sarif"),
        ("://" in uri or uri.startswith("/"), f"URI {uri} is not relative to the repository"),
        (location.get("physicalLocation", {}).get("region", {}).get("startLine", 1) < 1, "startLine below 1"),
    )
    return [message for failed, message in checks if failed]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git work tree with the data to scan one level down (``data/``), as in a repository checkout."""
    root = tmp_path / "repo"
    (root / "data" / "exports").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "data" / "exports" / "customers.csv").write_text("id_card\n" + "".join(f"{r}\n" for r in RIDS))
    (root / "data" / "README.md").write_text("contact: zhang.wei@example.com\n")
    return root


def scan_log(target: Path, fmt: str, **report_fields: Any) -> dict[str, Any]:
    report = run_scan([str(target)], ScanOptions(jobs=1), now=dt.datetime(2026, 6, 30, tzinfo=dt.UTC))
    for name, value in report_fields.items():
        setattr(report, name, value)
    return json.loads(render_report(report, fmt))


def uris(log: dict[str, Any]) -> set[str]:
    return {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}


def test_uris_are_relative_to_the_git_work_tree_and_every_constraint_holds(repo: Path, tmp_path: Path) -> None:
    log = scan_log(repo / "data", "github-sarif", category="files")
    assert uris(log) == {"data/exports/customers.csv", "data/README.md"}
    assert github_problems(log) == []
    assert log["runs"][0]["automationDetails"] == {"id": "files/"}
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in log["runs"][0]["results"]]
    assert len(set(hashes)) == len(hashes)
    path = tmp_path / "gh.sarif"
    path.write_text(json.dumps(log), "utf-8")
    assert validate_sarif(path) == []


def test_sarif_root_overrides_the_work_tree(repo: Path) -> None:
    log = scan_log(repo / "data", "github-sarif", sarif_root=str(repo / "data"))
    assert uris(log) == {"exports/customers.csv", "README.md"}


def test_plain_sarif_has_no_hard_coded_automation_id(repo: Path) -> None:
    assert "automationDetails" not in scan_log(repo / "data", "sarif")["runs"][0]
    assert scan_log(repo / "data", "sarif", category="nightly")["runs"][0]["automationDetails"] == {"id": "nightly/"}


def test_waived_results_are_not_uploaded(repo: Path, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "version: 1\nwaivers:\n  - rule: pii_in_file\n    resource: exports/customers.csv\n"
        "    owner: dpo@bank.example\n    reason: masked copy requested\n    ticket: PRIV-1\n"
        "    expires: 2099-01-01\n", "utf-8")
    out = tmp_path / "gh.sarif"
    result = CliRunner().invoke(main, ["scan", str(repo / "data"), "--waivers", str(waivers), "--format",
                                       "github-sarif", "-o", str(out), "-j", "1"])
    assert result.exit_code in (0, 1), result.output
    log = json.loads(out.read_text("utf-8"))
    rules = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
             for r in log["runs"][0]["results"]}
    assert ("pii_in_file", "data/exports/customers.csv") not in rules
    assert github_problems(log) == []


def test_too_many_results_keep_the_most_severe_and_say_so(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(github_sarif, "MAX_RESULTS", 1)
    log = scan_log(repo / "data", "github-sarif")
    (kept,) = log["runs"][0]["results"]
    assert kept["level"] == "error"
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("less severe results were left out" in n["message"]["text"] for n in notes)
