"""Plug-ins from outside the package work end to end with no edit to central code.

Each plug-in is a module written here, imported before the CLI runs (as a site's own plug-in package
would be), in a fresh process so the registries of the test session stay as shipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

UK_NINO_PLUGIN = textwrap.dedent('''
    """UK National Insurance number (HMRC NIM39110): two prefix letters, six digits, a suffix A-D."""

    from scanner.detection.recognizer import Candidate, Recognizer, mask_middle
    from scanner.registry import RECOGNIZERS

    INVALID_PREFIXES = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


    @RECOGNIZERS.register
    class UkNinoRecognizer(Recognizer):
        id = "uk_nino"
        entity_type = "UK_NINO"
        kind = "identity"
        description = "UK National Insurance number"
        candidates = (Candidate("uk_nino", r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]", 0.6),)
        context_words = ("national insurance", "nino", "ni number")
        field_names = ("nino", "ni number", "national insurance number")
        examples = ("AB123456C",)

        def validate(self, value: str) -> bool:
            return value[:2] not in INVALID_PREFIXES

        def mask(self, text: str) -> str:
            return mask_middle(text, 2, 1)
''')


def run_with_plugin(plugin: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if plugin:
        (tmp_path / "site_plugin.py").write_text(plugin, "utf-8")
    code = "import sys, site_plugin; from scanner.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin",
                                            "PRIVAUDIT_FINGERPRINT_KEY": "0123456789abcdef" * 2})


def test_a_recognizer_plugin_names_the_fields_that_hold_its_values(tmp_path: Path) -> None:
    """Its field names reach the one vocabulary files, databases and migrations share."""
    code = ("import site_plugin; from scanner.detection.fields import classify_field, entity_type; "
            "print(classify_field('employee_nino').entities, classify_field('NINumber').entities, "
            "entity_type('UK_NINO').kind)")
    (tmp_path / "site_plugin.py").write_text(UK_NINO_PLUGIN, "utf-8")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.stdout.split() == ["('UK_NINO',)", "('UK_NINO',)", "identity"], result.stderr


@pytest.mark.parametrize(("pack", "level", "grade"), [
    ("financial-cn", "error", "C2"),  # graded by its kind (identity): no edit to the pack
    ("gdpr", "error", "high-risk"),
    ("pci-dss", None, None),  # the pack declines identity data: no result, and none expected
])
def test_a_recognizer_plugin_is_graded_scanned_and_reported(tmp_path: Path, pack: str, level: str | None,
                                                            grade: str | None) -> None:
    estate = tmp_path / "estate"
    estate.mkdir()
    (estate / "payroll.txt").write_text("employee AB123456C national insurance on file\n", "utf-8")
    out = tmp_path / "out.sarif"
    result = run_with_plugin(UK_NINO_PLUGIN, tmp_path, "scan", str(estate), "--policy", pack, "-o", str(out),
                             "--jobs", "1", "--fail-on", "none")
    assert result.returncode == 0, result.stderr
    text = out.read_text("utf-8")
    assert "AB123456C" not in text and "AB123456C" not in result.stderr
    results = [r for r in json.loads(text)["runs"][0]["results"] if r["ruleId"] == "pii_in_file"]
    if level is None:
        assert results == []
        return
    [finding] = results
    assert finding["level"] == level
    assert finding["properties"]["entityType"] == "UK_NINO" and finding["properties"]["grade"] == grade
    assert "AB******C" in json.dumps(finding)


NOTES_PLUGIN = textwrap.dedent('''
    """Customer notes exported as JSON lines (a made-up store): one resource per note."""

    import json
    from urllib.parse import urlsplit

    from scanner.connector import POSITIVE, Connector, ReadError, TargetOption
    from scanner.model import Chunk, Resource
    from scanner.registry import CONNECTORS


    @CONNECTORS.register
    class NotesConnector(Connector):
        """Reads notes:///absolute/path.jsonl; each line's ``text`` is one note."""

        name = "notes"
        schemes = ("notes",)
        permissions = ("read on the export file",)
        store = "file-share"
        description = "Customer notes exported as JSON lines."
        config_key = "notes"
        config_example = "notes:///srv/exports/notes.jsonl"
        target_options = {"max_notes": TargetOption(POSITIVE, extra="max_notes")}
        labels = {"en": "Notes export", "zh": "备注导出"}

        def discover(self):
            with open(urlsplit(self.target).path, encoding="utf-8") as handle:
                for number, _line in enumerate(handle, 1):
                    if number > self.options.extra.get("max_notes", 1000):
                        return
                    yield Resource(uri=f"{self.target}#{number}", kind="file", display_name=f"note {number}",
                                   connector=self.name, relative_path=f"note-{number}", metadata={"note": number})

        def read(self, resource, part=None):
            with open(urlsplit(self.target).path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if number == resource.metadata["note"]:
                        yield Chunk(json.loads(line)["text"].encode("utf-8"))
                        return
            raise ReadError("the note is gone")
''')

CSV_PLUGIN = textwrap.dedent('''
    """Findings as CSV rows, for a spreadsheet (a made-up format)."""

    import csv
    import io

    from scanner.registry import REPORTERS


    @REPORTERS.register
    class CsvReporter:
        name = "csv"
        extension = ".csv"
        suffixes = (".csv",)

        def render(self, report, anchor=None):
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["rule", "level", "resource", "entity", "occurrences"])
            for f in report.findings:
                writer.writerow([f.rule_id, f.level.value, f.resource.uri, f.entity_type, f.occurrences])
            return out.getvalue()
''')

RULE_MODULE = textwrap.dedent('''
    """A file with graded data that sits in an exports folder (a made-up site rule)."""

    from scanner.connector import store_of
    from scanner.registry import RULES
    from scanner.rule import Rule, plaintext_by_entity


    @RULES.register
    class ExportFolderWithPii(Rule):
        id = "export_folder_with_pii"

        def evaluate(self, scan, ctx):
            path = scan.resource.relative_path or ""
            if store_of(scan.resource.connector) != "file-share" or not path.startswith("exports/"):
                return
            for entity, (grade, matches) in sorted(plaintext_by_entity(scan, ctx.policy).items()):
                yield self.finding(scan.resource, f"Export {scan.resource.display_name} holds {entity}",
                                   level=self.metadata().default_level, grade=grade, entity_type=entity,
                                   matches=matches)
''')

RULE_METADATA = textwrap.dedent('''
    id: export_folder_with_pii
    name: ExportFolderWithPersonalData
    category: exposure
    short_description: A file in an exports folder holds graded personal data.
    full_description: >-
      Exports folders are copied to partners by the nightly job; graded data there leaves the bank.
    help: Move the file out of the exports folder or mask it.
    obligations: [2]
    default_level: warning
    security_severity: "5.0"
    tags: [exposure]
    precision: medium
    cwe: [359]
''')

MOBILE = "13812345678"


def test_a_connector_plugin_is_configured_scanned_and_reported(tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_text(json.dumps({"text": f"call back on {MOBILE}"}) + "\n" + json.dumps({"text": "no data"}) + "\n")
    config = tmp_path / "privaudit.yaml"
    config.write_text(f"version: 1\ntargets:\n  - notes: notes://{notes}\n    max_notes: 1\n", "utf-8")
    assert run_with_plugin(NOTES_PLUGIN, tmp_path, "config", "validate", str(config)).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ntargets:\n  - notes: s3://bucket/notes\n    max_notes: 0\n", "utf-8")
    refused = run_with_plugin("", tmp_path, "config", "validate", str(bad))
    assert refused.returncode == 2
    assert "expected notes:///srv/exports/notes.jsonl" in refused.stderr and "max_notes" in refused.stderr

    out = tmp_path / "out.sarif"
    scanned = run_with_plugin("", tmp_path, "scan", "--config", str(config), "-o", str(out), "--fail-on", "none")
    assert scanned.returncode == 0, scanned.stderr
    results = json.loads(out.read_text("utf-8"))["runs"][0]["results"]
    assert [(r["ruleId"], r["properties"]["entityType"]) for r in results] == [("pii_in_file", "CN_MOBILE_NUMBER")]
    assert MOBILE not in out.read_text("utf-8")

    report = tmp_path / "report.md"
    written = run_with_plugin("", tmp_path, "report", str(out), "--lang", "zh", "-o", str(report))
    assert written.returncode == 0, written.stderr
    assert "备注导出" in report.read_text("utf-8")


def test_reporter_and_rule_plugins(tmp_path: Path) -> None:
    (tmp_path / "export_folder_with_pii.py").write_text(RULE_MODULE, "utf-8")
    (tmp_path / "export_folder_with_pii.yaml").write_text(RULE_METADATA, "utf-8")
    estate = tmp_path / "estate"
    (estate / "exports").mkdir(parents=True)
    (estate / "exports" / "callbacks.txt").write_text(f"mobile {MOBILE}\n", "utf-8")
    out = tmp_path / "findings.csv"  # the format is inferred from the plug-in's suffix
    result = run_with_plugin(CSV_PLUGIN + "\nimport export_folder_with_pii  # noqa: F401\n", tmp_path, "scan",
                             str(estate), "-o", str(out), "--fail-on", "none", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    rows = out.read_text("utf-8").splitlines()
    assert rows[0] == "rule,level,resource,entity,occurrences"
    assert sorted(r.split(",")[0] for r in rows[1:]) == ["export_folder_with_pii", "file_world_readable_with_pii",
                                                          "pii_in_file"]
    listed = run_with_plugin("", tmp_path, "scan", "--help")
    assert "csv" in listed.stdout
