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
        examples = ("AB123456C",)

        def validate(self, value: str) -> bool:
            return value[:2] not in INVALID_PREFIXES

        def mask(self, text: str) -> str:
            return mask_middle(text, 2, 1)
''')


def run_with_plugin(plugin: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "site_plugin.py").write_text(plugin, "utf-8")
    code = "import sys, site_plugin; from scanner.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin",
                                            "PRIVAUDIT_FINGERPRINT_KEY": "0123456789abcdef" * 2})


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
