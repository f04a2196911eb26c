"""A readable summary for people at a terminal: counts by grade and category, top resources."""

from __future__ import annotations

from collections import Counter

from scanner.model import ScanReport
from scanner.registry import REPORTERS

TOP_RESOURCES = 10


@REPORTERS.register
class TextReporter:
    name = "text"
    human_readable = True  # names are shown with control characters escaped
    extension = ".txt"
    suffixes = (".txt",)  # output file names this format is inferred from

    def render(self, report: ScanReport, anchor: str | None = None) -> str:
        # absent: resolved since the baseline (carried in SARIF for the record), not an open finding
        resolved = sum(1 for f in report.findings if f.baseline_state == "absent")
        current = [f for f in report.findings if f.baseline_state != "absent"]
        active = [f for f in current if not f.suppressions]
        not_covered = sum(1 for f in active if f.properties.get("notCovered"))
        lines = [f"privaudit {report.tool_version} — policy {report.policy_name}", ""]
        for target in report.targets:
            skipped = ", ".join(f"{k} {v}" for k, v in sorted(target.skipped.items())) or "none"
            protected = sum(target.protected.values())
            masked = sum(target.masked.values())
            state = " (FAILED)" if target.failed else ""
            lines.append(
                f"Target {target.target}{state}: {target.resources} resource{'' if target.resources == 1 else 's'}, "
                f"{_size(target.bytes_scanned)} scanned, skipped: {skipped}, "
                f"encrypted/protected: {protected}, masked values seen: {masked}"
            )
        lines.append("")
        lines.append(f"Findings: {len(active)}" + (f" ({len(current) - len(active)} suppressed)"
                                                    if len(active) != len(current) else "")
                     + (f", {resolved} resolved since the baseline" if resolved else "")
                     + (f", {not_covered} carried from the baseline (not scanned this time)" if not_covered else ""))
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
            lines.append("Details:")
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


def _size(count: int) -> str:
    """Bytes in the largest binary unit that keeps the number at or above 1 (``512 B``, ``3.4 MiB``)."""
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover - unreachable
