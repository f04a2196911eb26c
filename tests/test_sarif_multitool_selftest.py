"""Self-test of tests/sarif_multitool.py: the Multitool accepts a hand-written GitHub-ready SARIF
log and rejects typical mistakes with the rule ids the SARIF writer has to care about."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import sarif_multitool
from tests.sarif_multitool import run_validation, sarif_warnings, validate_sarif


def valid_log(src_root: Path) -> dict[str, Any]:
    """Smallest log that GitHub code scanning accepts and the Multitool passes with Sarif;Gh rules."""
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "privaudit",
                        "version": "0.1.0",
                        "informationUri": "https://example.com/privaudit",
                        "rules": [
                            {
                                "id": "PS0001",
                                "name": "EmailAddressInSource",
                                "shortDescription": {"text": "Email address in source."},
                                "fullDescription": {"text": "An email address was found in a source file."},
                                "help": {
                                    "text": "Remove personal data from source files.",
                                    "markdown": "Remove **personal data** from source files.",
                                },
                                "defaultConfiguration": {"level": "error"},
                                "properties": {"security-severity": "7.5", "tags": ["privacy", "security"]},
                            }
                        ],
                    }
                },
                "originalUriBaseIds": {"SRCROOT": {"uri": src_root.resolve().as_uri().rstrip("/") + "/"}},
                "results": [
                    {
                        "ruleId": "PS0001",
                        "ruleIndex": 0,
                        "level": "error",
                        "message": {"text": "Email address found."},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "src/a.txt", "uriBaseId": "SRCROOT"},
                                    "region": {"startLine": 3, "startColumn": 5, "endColumn": 20},
                                }
                            }
                        ],
                        "partialFingerprints": {"primaryLocationLineHash": "0123456789abcdef:1"},
                    }
                ],
            }
        ],
    }


def _write(tmp_path: Path, log: dict[str, Any], name: str = "log.sarif") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(log, indent=2), encoding="utf-8")
    return path


def _result(log: dict[str, Any]) -> dict[str, Any]:
    return log["runs"][0]["results"][0]


def _artifact(log: dict[str, Any]) -> dict[str, Any]:
    return _result(log)["locations"][0]["physicalLocation"]["artifactLocation"]


def _no_message(log: dict[str, Any]) -> None:
    del _result(log)["message"]


def _http_uri(log: dict[str, Any]) -> None:
    _artifact(log).clear()
    _artifact(log)["uri"] = "https://example.com/src/a.txt"


def _absolute_file_uri(log: dict[str, Any]) -> None:
    _artifact(log).clear()
    _artifact(log)["uri"] = "file:///srv/project/src/a.txt"


def _message_id_only(log: dict[str, Any]) -> None:
    _result(log)["message"] = {"id": "default", "arguments": ["x"]}


def _no_region(log: dict[str, Any]) -> None:
    del _result(log)["locations"][0]["physicalLocation"]["region"]


def _no_locations(log: dict[str, Any]) -> None:
    del _result(log)["locations"]


def _rule_without_help(log: dict[str, Any]) -> None:
    del log["runs"][0]["tool"]["driver"]["rules"][0]["help"]


def _base_without_slash(log: dict[str, Any]) -> None:
    base = log["runs"][0]["originalUriBaseIds"]["SRCROOT"]
    base["uri"] = base["uri"].rstrip("/")


def _logical_location_only(log: dict[str, Any]) -> None:
    _result(log)["locations"] = [{"logicalLocations": [{"fullyQualifiedName": "db.public.users.email"}]}]


def test_valid_log_has_no_errors_or_warnings(tmp_path: Path) -> None:
    report = run_validation(_write(tmp_path, valid_log(tmp_path)))
    assert report.errors == []
    assert report.warnings == []
    assert report.returncode == 0


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("no-message", _no_message, "JSON1002"),  # schema: required property 'message' missing
    ("http-uri", _http_uri, "GH1005"),  # LocationsMustBeRelativeUrisOrFilePaths
    ("absolute-file-uri", _absolute_file_uri, "GH1006"),  # ProvideCheckoutPath
    ("message-id-only", _message_id_only, "GH1007"),  # ProvideFullyFormattedMessageStrings
    ("no-region", _no_region, "GH1003"),  # ProvideRequiredRegionProperties
    ("no-locations", _no_locations, "GH1001"),  # ProvideRequiredLocationProperties (+GH1015)
    ("rule-without-help", _rule_without_help, "GH2012"),  # GhasProvideRequiredReportingDescriptorProperties
    ("base-without-slash", _base_without_slash, "SARIF1004"),  # ExpressUriBaseIdsCorrectly
    # No physical location at all: Multitool 5.7.0's GH1001 crashes formatting its message;
    # the helper reports the crash as an error, which is the right verdict for GitHub anyway.
    ("logical-location-only", _logical_location_only, "ERR999"),
]


@pytest.mark.parametrize(("mutate", "rule_id"), [(m, r) for _, m, r in BROKEN], ids=[n for n, _, _ in BROKEN])
def test_broken_log_has_errors(tmp_path: Path, mutate: Callable[[dict[str, Any]], None], rule_id: str) -> None:
    log = copy.deepcopy(valid_log(tmp_path))
    mutate(log)
    errors = validate_sarif(_write(tmp_path, log))
    assert errors, "a broken log must not validate"
    assert any(e.startswith(rule_id) for e in errors), errors
    assert all(": " in e and e.endswith(")") for e in errors), errors


def test_warnings_are_reported_separately(tmp_path: Path) -> None:
    log = valid_log(tmp_path)
    del log["runs"][0]["tool"]["driver"]["informationUri"]
    path = _write(tmp_path, log)
    warnings = sarif_warnings(path)
    assert any(w.startswith("SARIF2005: ") and "informationUri" in w for w in warnings), warnings
    assert validate_sarif(path) == []


def test_missing_tool_raises_instead_of_skipping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sarif_multitool, "BINARY", tmp_path / "nowhere" / "Sarif.Multitool")
    monkeypatch.setattr(sarif_multitool, "INSTALL_SCRIPT", tmp_path / "no-install.sh")
    monkeypatch.setattr(sarif_multitool, "_install_attempted", False)
    with pytest.raises(RuntimeError, match="install script not found"):
        validate_sarif(_write(tmp_path, valid_log(tmp_path)))
    with pytest.raises(RuntimeError, match="SARIF Multitool not available"):
        validate_sarif(_write(tmp_path, valid_log(tmp_path)))
