"""SARIF output: golden files, structure, fingerprints, and validation with the SARIF Multitool.

Each directory in ``tests/golden/sarif/`` is one case: ``estate.yaml`` describes a small file estate
(files with content, mode and age; optionally a policy change), ``expected.sarif`` is the SARIF a scan
of it produces after volatile fields (times, temporary paths, owner names, tool version,
fingerprints) are normalised. A new directory is a new test; ``PRIVAUDIT_UPDATE_GOLDEN=1`` rewrites
the expected files (review the diff before committing).
"""

from __future__ import annotations

import bz2
import copy
import datetime as dt
import gzip
import io
import json
import lzma
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from reports.sarif import FINGERPRINT_KEY, build_sarif
from scanner.connector import ScanOptions
from scanner.fingerprint import finding_fingerprint
from scanner.model import ScanReport
from scanner.policy import load_policy
from scanner.rule import MAX_LOCATIONS
from scanner.scan import run_scan
from tests.sarif_multitool import validate_sarif

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "sarif"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "estate.yaml").is_file())
NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)
POLICY_FILE = Path(__file__).resolve().parents[2] / "policies" / "financial-cn.yaml"
UPDATE = os.environ.get("PRIVAUDIT_UPDATE_GOLDEN") == "1"


# -- building an estate from its description ---------------------------------------------------

def load_case(case: str) -> dict[str, Any]:
    return yaml.safe_load((GOLDEN / case / "estate.yaml").read_text("utf-8"))


def _content(spec: dict[str, Any]) -> bytes:
    if "hex" in spec:
        return bytes.fromhex(spec["hex"])
    if "zip" in spec:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, member in spec["zip"].items():
                data = member["repeat"] * member["times"] if isinstance(member, dict) else member
                info = zipfile.ZipInfo(name, date_time=(2024, 11, 24, 12, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data.encode("utf-8"))
        return buffer.getvalue()
    data = spec["text"].encode(spec.get("encoding", "utf-8"))
    compress = {"gzip": lambda d: gzip.compress(d, mtime=0), "bz2": bz2.compress, "xz": lzma.compress}
    return compress[spec["compress"]](data) if "compress" in spec else data


def _generated(spec: dict[str, Any]) -> dict[str, Any]:
    lines = []
    values = [str(v) for v in spec["values"]]
    used = 0
    for n in range(1, spec["lines"] + 1):
        if n % spec["every"] == 0:
            lines.append(spec["template"].format(n=n, value=values[used % len(values)]))
            used += 1
        else:
            lines.append(spec["filler"].format(n=n))
    return {"path": spec["path"], "mode": spec.get("mode", "0600"), "text": "\n".join(lines) + "\n"}


def build_estate(case: str | dict[str, Any], root: Path) -> Path:
    """Write the estate of ``case`` under ``root`` with fixed modes and modification times."""
    spec = load_case(case) if isinstance(case, str) else case
    files = list(spec.get("files", []))
    if "generate" in spec:
        files.append(_generated(spec["generate"]))
    for item in files:
        path = root / item["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_content(item))
        os.chmod(path, int(str(item.get("mode", "0600")), 8))
        mtime = (NOW - dt.timedelta(days=item.get("age_days", 10))).timestamp()
        os.utime(path, (mtime, mtime))
    return root


def case_policy(case: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    changes = load_case(case).get("policy")
    if not changes:
        return load_policy()
    data = yaml.safe_load(POLICY_FILE.read_text("utf-8"))
    data.update(changes)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return load_policy(str(path))


def scan_case(case: str, tmp_path: Path, jobs: int = 1) -> tuple[Path, ScanReport]:
    root = build_estate(case, tmp_path / "estate")
    report = run_scan([str(root)], ScanOptions(jobs=jobs), case_policy(case, tmp_path), now=NOW,
                      command_line=["privaudit", "scan", str(root)])
    return root, report


# -- normalising volatile fields ----------------------------------------------------------------

def normalise(sarif: dict[str, Any], root: Path) -> dict[str, Any]:
    """Replace times, temporary paths, owners, tool version and fingerprints with placeholders; keep the
    rule descriptors that results refer to."""
    import grp
    import pwd

    text = json.dumps(sarif, ensure_ascii=False)
    text = text.replace(root.as_uri(), "file:///ESTATE").replace(str(root), "/ESTATE")
    out = json.loads(text)
    run = out["runs"][0]
    driver = run["tool"]["driver"]
    driver["version"] = driver["semanticVersion"] = "VERSION"
    invocation = run["invocations"][0]
    invocation["startTimeUtc"] = invocation["endTimeUtc"] = "TIME"
    invocation["workingDirectory"] = {"uri": "file:///CWD/"}
    # only the descriptors of rules with results: a wording change in an unrelated rule's metadata should
    # not touch every golden file (all descriptors are checked in test_rules_have_descriptions_help_...)
    used = {result["ruleId"] for result in run["results"]}
    driver["rules"] = [rule for rule in driver["rules"] if rule["id"] in used]
    index = {rule["id"]: i for i, rule in enumerate(driver["rules"])}
    for result in run["results"]:
        result["ruleIndex"] = index[result["ruleId"]]
    owner = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    for result in run["results"]:
        result["partialFingerprints"] = {FINGERPRINT_KEY: "FINGERPRINT"}
        props = result["properties"]
        if "owner" in props:
            props["owner"], props["group"] = "OWNER", "GROUP"
            result["message"]["text"] = result["message"]["text"].replace(f"owner {owner}", "owner OWNER")
        if props.get("group") == group:
            props["group"] = "GROUP"
        result["message"]["text"] = re.sub(rf"\bgroup {re.escape(group)}\b", "group GROUP", result["message"]["text"])
    return out


# -- golden files ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_golden_sarif(case: str, tmp_path: Path) -> None:
    root, report = scan_case(case, tmp_path)
    got = normalise(build_sarif(report), root)
    expected_path = GOLDEN / case / "expected.sarif"
    rendered = json.dumps(got, indent=2, ensure_ascii=False) + "\n"
    if UPDATE or not expected_path.exists():
        expected_path.write_text(rendered, "utf-8")
        if not UPDATE:
            pytest.fail(f"{expected_path} did not exist and was written; review it and run again")
    assert got == json.loads(expected_path.read_text("utf-8")), (
        f"SARIF for {case} changed; if intended, rerun with PRIVAUDIT_UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.mark.parametrize("case", CASES)
def test_two_jobs_give_the_same_sarif(case: str, tmp_path: Path) -> None:
    root, one = scan_case(case, tmp_path / "one")
    root2, two = scan_case(case, tmp_path / "two", jobs=2)
    assert normalise(build_sarif(one), root) == normalise(build_sarif(two), root2)


# -- structure ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def share(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScanReport, dict[str, Any], Path]:
    tmp_path = tmp_path_factory.mktemp("share")
    root, report = scan_case("file_share", tmp_path)
    sarif = build_sarif(report)
    path = tmp_path / "share.sarif"
    path.write_text(json.dumps(sarif, indent=2, ensure_ascii=False), "utf-8")
    return root, report, sarif, path


def results(sarif: dict[str, Any]) -> list[dict[str, Any]]:
    return sarif["runs"][0]["results"]


def test_one_result_per_resource_rule_and_entity_type(share: Any) -> None:
    _, report, sarif, _ = share
    keys = [(r["properties"]["resource"], r["ruleId"], r["properties"].get("entityType")) for r in results(sarif)]
    assert len(keys) == len(set(keys)) == len(report.findings) > 5
    for result in results(sarif):
        props = result["properties"]
        assert props["category"] in ("personal-data", "exposure", "access", "encryption", "schema-change")
        assert re.fullmatch(r"C[123]", props["grade"])
        assert re.fullmatch(r"[A-Z][A-Z_]+", props["entityType"])
        assert isinstance(props["occurrences"], int) and props["occurrences"] >= 1
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"].endswith(".")
        assert result["ruleIndex"] == next(i for i, rule in enumerate(sarif["runs"][0]["tool"]["driver"]["rules"])
                                           if rule["id"] == result["ruleId"])


def test_most_specific_entity_type_and_masked_evidence(share: Any) -> None:
    _, _, sarif, _ = share
    by_key = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"],
               r["properties"]["entityType"]): r for r in results(sarif)}
    log_mobile = by_key[("logs/app.log", "pii_in_log", "CN_MOBILE_NUMBER")]
    assert log_mobile["locations"][0]["physicalLocation"]["region"] == {"startLine": 1,
                                                                         "snippet": {"text": "138****5678"}}
    assert log_mobile["properties"]["evidence"] == ["138****5678"]
    assert not any(key[2] == "PHONE_NUMBER" for key in by_key)  # +86 mobiles are CN_MOBILE_NUMBER only
    gb = by_key[("docs/%E5%AE%A2%E6%88%B7%E5%9B%9E%E8%AE%BF%E8%AE%B0%E5%BD%95.txt", "pii_in_file", "CN_RESIDENT_ID")]
    assert gb["properties"]["evidence"] == ["440304********0020"]


def test_file_locations_are_relative_to_the_scanned_root(share: Any) -> None:
    root, _, sarif, _ = share
    run = sarif["runs"][0]
    assert run["originalUriBaseIds"] == {"SCANROOT": {"uri": root.as_uri() + "/"}}
    for result in results(sarif):
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "SCANROOT" and not artifact["uri"].startswith(("/", "file:"))
        assert result["properties"]["resource"] == root.as_uri() + "/" + artifact["uri"]


def test_no_snake_case_names_from_sarif_om(share: Any) -> None:
    """sarif-om keeps SARIF names in attribute metadata; a naive asdict would leak ``rule_id`` etc."""
    _, _, sarif, _ = share

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("properties", "partialFingerprints", "originalUriBaseIds"):
                    continue  # property bags and dictionaries: names chosen by the producer
                assert ("_" not in key and key[:1].islower()) or key == "$schema", f"{path}.{key}"
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")

    walk(sarif, "")
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")


def test_rules_have_descriptions_help_and_security_severity(share: Any) -> None:
    _, _, sarif, _ = share
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    used = {r["ruleId"] for r in results(sarif)}
    assert used <= {rule["id"] for rule in rules}
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"].endswith(".")
        assert rule["help"]["text"] and rule["help"]["markdown"]
        severity = rule["properties"]["security-severity"]
        assert isinstance(severity, str) and 0.0 <= float(severity) <= 10.0
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert rule["properties"]["category"] and rule["properties"]["obligations"]


def test_unreadable_items_are_notifications_and_execution_still_successful(share: Any) -> None:
    _, report, sarif, _ = share
    invocation = sarif["runs"][0]["invocations"][0]
    notes = invocation["toolExecutionNotifications"]
    assert [(n["level"], n["properties"]["kind"]) for n in notes] == [("warning", "corrupt")]
    assert notes[0]["message"]["text"].startswith("logs/broken.log.gz: ")
    assert invocation["executionSuccessful"] is True
    (target,) = invocation["properties"]["targets"]
    assert target["protected"] == {"age": 1} and target["skipped"] == {"binary": 1}
    assert target["masked"]["CN_MOBILE_NUMBER"] == 2 and sum(target["masked"].values()) == 6  # 2 cards, 2 IDs
    assert report.execution_successful


def test_execution_unsuccessful_when_a_target_fails(tmp_path: Path) -> None:
    report = run_scan([str(tmp_path / "gone")], ScanOptions(jobs=1))
    sarif = build_sarif(report)
    invocation = sarif["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["properties"]["kind"] == "missing"
    path = tmp_path / "failed.sarif"
    path.write_text(json.dumps(sarif), "utf-8")
    assert validate_sarif(path) == []


def test_related_locations_are_capped(tmp_path: Path) -> None:
    _, report = scan_case("related_locations", tmp_path)
    (result,) = results(build_sarif(report))
    assert result["properties"]["occurrences"] == 15
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    related = result["relatedLocations"]
    assert len(related) == MAX_LOCATIONS - 1
    assert [r["physicalLocation"]["region"]["startLine"] for r in related] == list(range(4, 21, 2))
    assert [r["id"] for r in related] == list(range(1, MAX_LOCATIONS))
    assert all(r["physicalLocation"]["artifactLocation"]["uri"] == "logs/kyc.log" for r in related)


# -- fingerprints ---------------------------------------------------------------------------------

def fingerprints(report: ScanReport) -> dict[tuple[str, str, str | None], str]:
    return {(r["properties"]["resource"], r["ruleId"], r["properties"]["entityType"]):
            r["partialFingerprints"][FINGERPRINT_KEY] for r in results(build_sarif(report))}


def test_fingerprints_are_stable_across_runs_and_moved_lines(tmp_path: Path) -> None:
    root, first = scan_case("file_share", tmp_path)
    second = run_scan([str(root)], ScanOptions(jobs=2), now=NOW)
    assert fingerprints(first) == fingerprints(second)
    log = root / "logs" / "app.log"
    log.write_text("2024-11-24T15:29:00Z INFO  boot\n" * 5 + log.read_text("utf-8"), "utf-8")
    moved = run_scan([str(root)], ScanOptions(jobs=1), now=NOW)
    assert fingerprints(moved) == fingerprints(first)
    line = {f.rule_id + (f.entity_type or ""): f.locations[0].line for f in moved.findings
            if f.resource.uri == log.as_uri()}
    assert line["pii_in_logCN_MOBILE_NUMBER"] == 6


def test_fingerprints_are_keyed_hashes_of_rule_resource_and_entity(share: Any) -> None:
    _, report, _, _ = share
    values = fingerprints(report)
    assert len(set(values.values())) == len(values)
    for (uri, rule_id, entity), fingerprint in values.items():
        assert fingerprint == finding_fingerprint(rule_id, uri, entity or "")
        assert re.fullmatch(r"[0-9a-f]{32}", fingerprint)


def test_fingerprints_change_with_the_key(share: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner import fingerprint

    _, report, _, _ = share
    before = fingerprints(report)
    monkeypatch.setenv(fingerprint.ENV_KEY, "another-key-of-sixteen-bytes")
    fingerprint.load_key.cache_clear()
    try:
        (uri, rule_id, entity), value = next(iter(before.items()))
        assert finding_fingerprint(rule_id, uri, entity or "") != value
    finally:
        monkeypatch.undo()
        fingerprint.load_key.cache_clear()


# -- validation -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_golden_sarif_validates_with_the_multitool(case: str, tmp_path: Path) -> None:
    """The real (not normalised) SARIF of every golden case: 0 errors with rule kinds Sarif and Gh."""
    _, report = scan_case(case, tmp_path)
    path = tmp_path / f"{case}.sarif"
    sarif = build_sarif(report)
    path.write_text(json.dumps(sarif, indent=2, ensure_ascii=False), "utf-8")
    assert validate_sarif(path) == []
    # and the file the reporter writes is the same document
    from reports.sarif import SarifReporter

    assert json.loads(SarifReporter().render(report)) == copy.deepcopy(sarif)
