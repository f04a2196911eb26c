"""File rules as a table: (file, content, mode, age, policy changes) -> exact findings.

Every case is a real one-file tree scanned end to end by ``run_scan`` under a fixed clock, so the
connector's mode/age recording, detection and the rules are exercised together. Masked values and
protected (encrypted) files must never become findings, whatever the file's mode or age.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.connector import ScanOptions
from scanner.demo import card_from, resident_id
from scanner.policy import load_policy
from scanner.scan import run_scan

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)
POLICY_FILE = Path(__file__).resolve().parents[3] / "policies" / "financial-cn.yaml"

RID = resident_id("11010519850312001")
MOBILE = "13812345678"
EMAIL = "zhang.wei@example.com"
CARD = card_from("622202100011223344")

RIDS = [resident_id(f"110105198503{day:02d}001") for day in range(1, 13)]
EXPORT = "id_card\n" + "".join(f"{r}\n" for r in RIDS)  # an export: 12 distinct customers
EMAILS = [f"customer{i}@example.com" for i in range(3)]
ID_LINE = f"2026-06-01 INFO kyc ok idCard={RID}\n"
MOBILE_LINE = f"2026-06-01 INFO sms sent mobile={MOBILE}\n"
MASKED_LINE = f"2026-06-01 INFO transfer card={CARD[:6]}******{CARD[-4:]} mobile=138****5678 id=110101********123X\n"
AGE_FILE = b"age-encryption.org/v1\n-> X25519 Zm9vYmFyYmF6\n--- bWFjbWFj\n" + bytes(range(256))
PGP_FILE = f"-----BEGIN PGP MESSAGE-----\n\nhQEMA{RID}{MOBILE}\n-----END PGP MESSAGE-----\n".encode()


@dataclass
class Case:
    id: str
    path: str
    content: str | bytes
    expected: set[tuple[str, str | None, str, str | None]]  # (rule, entity type, level, grade)
    mode: int = 0o600
    age_days: float = 1
    policy: dict[str, Any] = field(default_factory=dict)  # top-level keys replaced in financial-cn


RETENTION = {"retention": [{"paths": ["exports/**", "**/logs/**"], "max_age_days": 365}]}
GROUP = {"exposure": {"world_readable": True, "group_readable": True}}

CASES = [
    # pii_in_log
    Case("log-unmasked-id", "logs/app.log", ID_LINE, {("pii_in_log", "CN_RESIDENT_ID", "error", "C2")}),
    Case("log-two-entities", "app.log", ID_LINE + MOBILE_LINE,
         {("pii_in_log", "CN_RESIDENT_ID", "error", "C2"), ("pii_in_log", "CN_MOBILE_NUMBER", "error", "C2")}),
    Case("log-by-directory", "srv/logs/trace.txt", MOBILE_LINE, {("pii_in_log", "CN_MOBILE_NUMBER", "error", "C2")}),
    Case("log-rotated-numbered", "app.log.3", MOBILE_LINE, {("pii_in_log", "CN_MOBILE_NUMBER", "error", "C2")}),
    Case("log-rotated-gz", "app.log.1.gz", gzip.compress(ID_LINE.encode()),
         {("pii_in_log", "CN_RESIDENT_ID", "error", "C2")}),
    Case("log-masked-only", "logs/gateway.log", MASKED_LINE * 3, set()),
    Case("log-level-override", "app.log", MOBILE_LINE, {("pii_in_log", "CN_MOBILE_NUMBER", "warning", "C2")},
         policy={"rules": {"pii_in_log": {"level": "warning"}}}),
    Case("log-rule-disabled", "app.log", MOBILE_LINE, set(), policy={"rules": {"pii_in_log": {"enabled": False}}}),
    Case("log-custom-globs", "app.trace", MOBILE_LINE, {("pii_in_log", "CN_MOBILE_NUMBER", "error", "C2")},
         policy={"locations": {"logs": ["*.trace"]}}),
    # pii_in_file
    # contact data by volume (distinct values): an author's e-mail a note, a few a warning, an export an error;
    # identity and financial numbers keep their grade's level at any volume
    Case("file-export-ids", "exports/customers.csv", EXPORT, {("pii_in_file", "CN_RESIDENT_ID", "error", "C2")}),
    Case("file-one-id", "exports/customers.csv", f"name,id_card\nZhang,{RID}\n",
         {("pii_in_file", "CN_RESIDENT_ID", "error", "C2")}),
    Case("file-email-and-mobile", "exports/contacts.txt", f"{EMAIL} {MOBILE}\n",
         {("pii_in_file", "EMAIL_ADDRESS", "note", "C2"), ("pii_in_file", "CN_MOBILE_NUMBER", "note", "C2")}),
    Case("file-same-email-many-times", "notes.txt", f"{EMAIL}\n" * 50,
         {("pii_in_file", "EMAIL_ADDRESS", "note", "C2")}),
    Case("file-three-emails", "README.md", " ".join(EMAILS) + "\n",
         {("pii_in_file", "EMAIL_ADDRESS", "warning", "C2")}),
    Case("file-email-export", "exports/contacts.csv", "email\n" + "".join(f"c{i}@example.com\n" for i in range(10)),
         {("pii_in_file", "EMAIL_ADDRESS", "error", "C2")}),
    Case("file-volume-location-cap", "docs/exports.md", EXPORT, {("pii_in_file", "CN_RESIDENT_ID", "note", "C2")},
         policy={"volume": {"locations": [{"paths": ["docs/**"], "max_level": "note"}]}}),
    Case("file-volume-thresholds", "a.txt", " ".join(EMAILS) + "\n", {("pii_in_file", "EMAIL_ADDRESS", "error", "C2")},
         policy={"volume": {"bulk_min_distinct": 3}}),
    Case("file-level-override-beats-volume", "a.txt", f"{EMAIL}\n", {("pii_in_file", "EMAIL_ADDRESS", "error", "C2")},
         policy={"rules": {"pii_in_file": {"level": "error"}}}),
    Case("file-not-required-grade", "exports/customers.csv", EXPORT, set(),
         policy={"encryption": {"required_grades": ["C3"]}}),
    Case("file-masked-only", "exports/masked.csv", "card,mobile\n622202******1234,138****5678\n", set()),
    Case("file-ungraded-entity", "exports/ids.txt", f"{RID}\n", set(),
         policy={"entities": {"CN_RESIDENT_ID": None, "CN_MOBILE_NUMBER": "C2"}}),
    Case("file-no-personal-data", "docs/readme.md", "# Templates\n\norder 20241124153000 build 13812345678901\n",
         set()),
    # file_world_readable_with_pii (one exposure result per file, the highest grade's entity)
    Case("world-readable-export", "exports/customers.csv", EXPORT,
         {("pii_in_file", "CN_RESIDENT_ID", "error", "C2"),
          ("file_world_readable_with_pii", "CN_RESIDENT_ID", "error", "C2")}, mode=0o644),
    Case("world-readable-id-and-mobile", "exports/customers.csv", f"id_card,mobile\n{RID},{MOBILE}\n",
         {("pii_in_file", "CN_RESIDENT_ID", "error", "C2"), ("pii_in_file", "CN_MOBILE_NUMBER", "note", "C2"),
          ("file_world_readable_with_pii", "CN_RESIDENT_ID", "error", "C2")}, mode=0o644),
    Case("world-readable-one-email", "README.md", f"{EMAIL}\n",
         {("pii_in_file", "EMAIL_ADDRESS", "note", "C2"),
          ("file_world_readable_with_pii", "EMAIL_ADDRESS", "note", "C2")}, mode=0o644),
    Case("world-readable-log", "app.log", MOBILE_LINE,
         {("pii_in_log", "CN_MOBILE_NUMBER", "error", "C2"),
          ("file_world_readable_with_pii", "CN_MOBILE_NUMBER", "error", "C2")}, mode=0o604),
    Case("world-readable-masked", "exports/masked.log", MASKED_LINE, set(), mode=0o666),
    Case("world-readable-age", "exports/customers.csv.age", AGE_FILE, set(), mode=0o644),
    Case("world-readable-pgp", "exports/customers.csv.asc", PGP_FILE, set(), mode=0o644),
    Case("world-readable-exposure-off", "exports/customers.csv", EXPORT,
         {("pii_in_file", "CN_RESIDENT_ID", "error", "C2")}, mode=0o644,
         policy={"exposure": {"world_readable": False}}),
    # file_group_readable_with_pii (only when the policy asks; world-readable wins)
    Case("group-readable-default-policy", "exports/customers.csv", EXPORT,
         {("pii_in_file", "CN_RESIDENT_ID", "error", "C2")}, mode=0o640),
    Case("group-readable-policy-asks", "exports/customers.csv", EXPORT,
         {("pii_in_file", "CN_RESIDENT_ID", "error", "C2"),
          ("file_group_readable_with_pii", "CN_RESIDENT_ID", "error", "C2")}, mode=0o640, policy=GROUP),
    Case("group-and-world-readable", "exports/customers.csv", EXPORT,
         {("pii_in_file", "CN_RESIDENT_ID", "error", "C2"),
          ("file_world_readable_with_pii", "CN_RESIDENT_ID", "error", "C2")}, mode=0o644, policy=GROUP),
    Case("group-readable-masked", "exports/masked.csv", "mobile\n138****5678\n", set(), mode=0o660, policy=GROUP),
    Case("group-readable-protected", "exports/c.age", AGE_FILE, set(), mode=0o640, policy=GROUP),
    # pii_retention_exceeded (clock fixed at NOW; the limit itself is still within retention)
    Case("retention-exceeded", "exports/old.csv", EXPORT,
         {("pii_in_file", "CN_RESIDENT_ID", "error", "C2"),
          ("pii_retention_exceeded", "CN_RESIDENT_ID", "error", "C2")}, age_days=400, policy=RETENTION),
    Case("retention-at-limit", "exports/old.csv", EXPORT,
         {("pii_in_file", "CN_RESIDENT_ID", "error", "C2")}, age_days=365.5, policy=RETENTION),
    Case("retention-one-day-over", "srv/logs/app.txt", MOBILE_LINE,
         {("pii_in_log", "CN_MOBILE_NUMBER", "error", "C2"),
          ("pii_retention_exceeded", "CN_MOBILE_NUMBER", "error", "C2")}, age_days=366.5, policy=RETENTION),
    Case("retention-other-path", "archive/old.csv", EXPORT,
         {("pii_in_file", "CN_RESIDENT_ID", "error", "C2")}, age_days=4000, policy=RETENTION),
    Case("retention-grade-filter", "exports/old.csv", EXPORT,
         {("pii_in_file", "CN_RESIDENT_ID", "error", "C2")}, age_days=4000,
         policy={"retention": [{"paths": ["exports/**"], "max_age_days": 30, "grades": ["C3"]}]}),
    Case("retention-masked", "exports/old.log", MASKED_LINE, set(), age_days=4000, policy=RETENTION),
    Case("retention-protected", "exports/old.csv.age", AGE_FILE, set(), age_days=4000, policy=RETENTION),
    Case("retention-level-override", "exports/old.csv", EXPORT,
         {("pii_retention_exceeded", "CN_RESIDENT_ID", "note", "C2")}, age_days=400,
         policy={**RETENTION, "rules": {"pii_retention_exceeded": {"level": "note"},
                                        "pii_in_file": {"enabled": False}}}),
]


def policy_file(tmp_path: Path, changes: dict[str, Any]) -> str | None:
    if not changes:
        return None
    data = yaml.safe_load(POLICY_FILE.read_text("utf-8"))
    for key, value in changes.items():
        if key == "entities":
            data["entities"].update(value)
        else:
            data[key] = value
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return str(path)


def scan_case(tmp_path: Path, case: Case):  # type: ignore[no-untyped-def]
    root = tmp_path / "share"
    path = root / case.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(case.content.encode("utf-8") if isinstance(case.content, str) else case.content)
    os.chmod(path, case.mode)
    mtime = (NOW - dt.timedelta(days=case.age_days)).timestamp()
    os.utime(path, (mtime, mtime))
    policy = load_policy(policy_file(tmp_path, case.policy))
    return run_scan([str(root)], ScanOptions(jobs=1), policy, now=NOW)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_file_rules(tmp_path: Path, case: Case) -> None:
    report = scan_case(tmp_path, case)
    got = {(f.rule_id, f.entity_type, f.level.value, f.grade) for f in report.findings}
    assert got == case.expected
    assert not report.notifications
    for finding in report.findings:
        assert case.path in finding.message and finding.message.endswith(".")
        for raw in (RID, MOBILE, EMAIL, CARD):
            assert raw not in finding.message and raw not in str(finding.properties)
        assert finding.fingerprint and all(raw not in finding.fingerprint for raw in (RID, MOBILE))


def by_rule(report, rule_id: str):  # type: ignore[no-untyped-def]
    (finding,) = [f for f in report.findings if f.rule_id == rule_id]
    return finding


def test_world_readable_records_mode_owner_and_all_entity_types(tmp_path: Path) -> None:
    case = Case("x", "exports/customers.csv", f"id_card,mobile,email\n{RID},{MOBILE},{EMAIL}\n{RID},{MOBILE},x\n",
                set(), mode=0o644)
    finding = by_rule(scan_case(tmp_path, case), "file_world_readable_with_pii")
    assert finding.properties["mode"] == "0644"
    assert finding.properties["owner"] and finding.properties["group"]
    assert finding.properties["entityTypes"] == ["CN_MOBILE_NUMBER", "CN_RESIDENT_ID", "EMAIL_ADDRESS"]
    assert finding.occurrences == 5
    assert "-rw-r--r--" in finding.message and "all users" in finding.message
    assert finding.category.value == "exposure"
    assert finding.resource.uri == (tmp_path / "share" / "exports" / "customers.csv").as_uri()


def test_a_world_readable_archive_is_one_exposure_finding_on_the_archive(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("customers.csv", f"id_card,mobile\n{RID},{MOBILE}\n")
        archive.writestr("logs/app.log", MOBILE_LINE)
        archive.writestr("readme.txt", "nothing personal\n")
    report = scan_case(tmp_path, Case("x", "outbox/batch.zip", buffer.getvalue(), set(), mode=0o644))
    (finding,) = [f for f in report.findings if f.rule_id == "file_world_readable_with_pii"]
    assert finding.resource.uri == (tmp_path / "share" / "outbox" / "batch.zip").as_uri()
    assert finding.resource.display_name == "outbox/batch.zip" and "in file outbox/batch.zip (" in finding.message
    assert finding.properties["members"] == ["customers.csv", "logs/app.log"]
    assert finding.properties["entityTypes"] == ["CN_MOBILE_NUMBER", "CN_RESIDENT_ID"]
    assert finding.occurrences == 3 and not finding.locations  # member lines do not point into the archive
    assert all("*" in e for e in finding.properties["evidence"])
    # the content findings stay per member
    assert {f.resource.uri.rsplit("!/", 1)[-1] for f in report.findings if f.rule_id != finding.rule_id} == {
        "customers.csv", "logs/app.log"}


def test_log_finding_counts_masked_values_alongside(tmp_path: Path) -> None:
    case = Case("x", "app.log", MOBILE_LINE * 3 + MASKED_LINE, set())
    finding = by_rule(scan_case(tmp_path, case), "pii_in_log")
    assert finding.occurrences == 3 and finding.properties["masked"] == 1
    assert [loc.line for loc in finding.locations] == [1, 2, 3]
    assert finding.properties["evidence"] == ["138****5678"]
    assert "1 distinct value, 3 occurrences" in finding.message


def test_retention_reports_age_and_limit(tmp_path: Path) -> None:
    case = Case("x", "exports/old.csv", EXPORT, set(), age_days=400.2, policy=RETENTION)
    finding = by_rule(scan_case(tmp_path, case), "pii_retention_exceeded")
    assert finding.properties["ageDays"] == 400 and finding.properties["maxAgeDays"] == 365
    assert "400 days old" in finding.message and "365-day" in finding.message


def test_fingerprints_depend_on_resource_rule_and_entity_not_on_content(tmp_path: Path) -> None:
    first = scan_case(tmp_path / "a", Case("x", "app.log", MOBILE_LINE, set()))
    moved = scan_case(tmp_path / "a", Case("x", "app.log", "new line first\n\n" + MOBILE_LINE * 2, set()))
    assert [f.fingerprint for f in first.findings] == [f.fingerprint for f in moved.findings]
    assert first.findings[0].locations[0].line == 1 and moved.findings[0].locations[0].line == 3
    other = scan_case(tmp_path / "b", Case("x", "app.log", MOBILE_LINE, set()))
    assert other.findings[0].fingerprint != first.findings[0].fingerprint


def test_third_party_trees_are_left_out_and_counted(tmp_path: Path) -> None:
    """Package docs, vendored code and licence files are not the bank's customer data (gitleaks and
    trufflehog ship the same kind of default allow-list); the summary says how many were left out."""
    root = tmp_path / "share"
    for relative in ("doc/bash/copyright", "node_modules/x/README.md", "app/CHANGELOG.md", "app/.git/config"):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"maintainer {EMAIL} {MOBILE}\n")
    (root / "app" / "export.csv").write_text(EXPORT)
    report = run_scan([str(root)], ScanOptions(jobs=1), load_policy(), now=NOW)
    assert {f.resource.display_name for f in report.findings} == {"app/export.csv"}
    (note,) = report.notifications
    assert note.kind == "third-party" and note.count == 4  # copyright, node_modules/, CHANGELOG.md, .git/
    assert report.targets[0].skipped == {"third-party": 4}
    everything = run_scan([str(root)], ScanOptions(jobs=1, extra={"include_third_party": True}), load_policy(),
                          now=NOW)
    assert {f.resource.display_name for f in everything.findings} >= {"node_modules/x/README.md", "app/CHANGELOG.md"}
