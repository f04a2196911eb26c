"""A readable summary for people at a terminal: counts by grade and category, top resources."""

from __future__ import annotations

from collections import Counter

from scanner.model import ScanReport
from scanner.registry import REPORTERS

TOP_RESOURCES = 10


@REPORTERS.register
class TextReporter:
    name = "text"
    extension = ".txt"

    def render(self, report: ScanReport, anchor: str | None = None) -> str:
        active = [f for f in report.findings if not f.suppressions]
        lines = [f"privscan {report.tool_version} — policy {report.policy_name}", ""]
        for target in report.targets:
            skipped = ", ".join(f"{k} {v}" for k, v in sorted(target.skipped.items())) or "none"
            protected = sum(target.protected.values())
            masked = sum(target.masked.values())
            state = " (FAILED)" if target.failed else ""
            lines.append(
                f"Target {target.target}{state}: {target.resources} resources, "
                f"{target.bytes_scanned / 1048576:.1f} MiB scanned, skipped: {skipped}, "
                f"encrypted/protected: {protected}, masked values seen: {masked}"
            )
        lines.append("")
        lines.append(f"Findings: {len(active)}" + (f" ({len(report.findings) - len(active)} suppressed)"
                                                    if len(active) != len(report.findings) else ""))
        by_level = Counter(f.level.value for f in active)
        by_grade = Counter(f.grade or "-" for f in active)
        by_category = Counter(f.category.value for f in active)
        lines.append("  by level:    " + _fmt(by_level))
        lines.append("  by grade:    " + _fmt(by_grade))
        lines.append("  by category: " + _fmt(by_category))
        if active:
            lines.append("")
            lines.append("Top resources:")
            per_resource = Counter(f.resource.display_name for f in active)
            for name, count in per_resource.most_common(TOP_RESOURCES):
                lines.append(f"  {count:4d}  {name}")
            lines.append("")
            lines.append("Findings:")
            for f in active:
                where = f":{f.locations[0].line}" if f.locations and f.locations[0].line else ""
                samples = f.properties.get("evidence") or []
                evidence = f" [{', '.join(samples[:2])}]" if samples else ""
                lines.append(f"  {f.level.value.upper():7} {f.rule_id:32} {f.resource.display_name}{where}{evidence}")
                lines.append(f"          {f.message}")
        if report.notifications:
            lines.append("")
            lines.append(f"Could not read or check {len(report.notifications)} item(s):")
            for note in report.notifications[:20]:
                lines.append(f"  {note.level.value:7} {note.message}")
            if len(report.notifications) > 20:
                lines.append(f"  … and {len(report.notifications) - 20} more (see the SARIF or JSON output)")
        return "\n".join(lines) + "\n"


def _fmt(counter: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"
