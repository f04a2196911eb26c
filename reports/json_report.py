"""Plain JSON findings, for scripts and dashboards that do not speak SARIF."""

from __future__ import annotations

import json
from typing import Any

from scanner.model import ScanReport
from scanner.registry import REPORTERS


def report_dict(report: ScanReport) -> dict[str, Any]:
    return {
        "tool": {"name": "privaudit", "version": report.tool_version},
        "policy": report.policy_name,
        "started": report.started,
        "finished": report.finished,
        "executionSuccessful": report.execution_successful,
        "findings": [
            {
                "ruleId": f.rule_id,
                "level": f.level.value,
                "category": f.category.value,
                "grade": f.grade,
                "entityType": f.entity_type,
                "message": f.message,
                "resource": f.resource.uri,
                "resourceName": f.resource.display_name,
                "occurrences": f.occurrences,
                "locations": [
                    {"line": loc.line, "field": loc.field, "evidence": loc.evidence} for loc in f.locations
                ],
                "fingerprint": f.fingerprint,
                "properties": f.properties,
                "suppressed": bool(f.suppressions),
                "baselineState": f.baseline_state,
            }
            for f in report.findings
        ],
        "notifications": [
            {"level": n.level.value, "kind": n.kind, "message": n.message, "resource": n.resource_uri}
            for n in report.notifications
        ],
        "targets": [
            t.as_properties() for t in report.targets
        ],
    }


@REPORTERS.register
class JsonReporter:
    name = "json"
    extension = ".json"
    suffixes = (".json",)  # output file names this format is inferred from

    def render(self, report: ScanReport, anchor: str | None = None) -> str:
        return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
