"""GitHub Actions workflow commands: one ``::error file=…,line=…,title=…::message`` per result.

For pipelines that do not upload SARIF (or forks without code-scanning rights): the runner turns
these lines into annotations on the pull request. Suppressed results and results unchanged since
the baseline are not printed; notifications (a migration that does not parse) are, with the file
and line their message starts with.
"""

from __future__ import annotations

import re

from scanner.model import Finding, Level, Notification, ScanReport
from scanner.registry import REPORTERS

_COMMAND = {Level.ERROR: "error", Level.WARNING: "warning", Level.NOTE: "notice", Level.NONE: "notice"}
_WHERE = re.compile(r"^(?P<file>[^\s:][^:]*?):(?P<line>\d+): (?P<message>.*)$", re.DOTALL)


def escape_data(text: str) -> str:
    """Message escaping of the workflow-command syntax (%, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Property escaping: as data, plus ``:`` and ``,`` which delimit properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _file_of(finding: Finding) -> str | None:
    resource = finding.resource
    return resource.relative_path or resource.display_name or None


def annotation(kind: str, message: str, file: str | None = None, line: int | None = None,
               title: str | None = None) -> str:
    props = []
    if file:
        props.append(f"file={escape_property(file)}")
    if line:
        props.append(f"line={line}")
    if title:
        props.append(f"title={escape_property(title)}")
    head = f"::{kind} {','.join(props)}" if props else f"::{kind}"
    return f"{head}::{escape_data(message)}"


def _notification_line(note: Notification) -> str:
    kind = _COMMAND.get(note.level, "warning")
    match = _WHERE.match(note.message)
    if match:
        return annotation(kind, match.group("message"), match.group("file"), int(match.group("line")),
                          f"privaudit {note.kind}")
    return annotation(kind, note.message, note.resource_uri, None, f"privaudit {note.kind}")


@REPORTERS.register
class GithubReporter:
    name = "github"
    human_readable = True  # names are shown with control characters escaped
    extension = ".txt"

    def render(self, report: ScanReport, anchor: str | None = None) -> str:
        lines: list[str] = []
        for finding in report.findings:
            if finding.suppressions or finding.baseline_state == "unchanged" or finding.level is Level.NONE:
                continue
            line = finding.locations[0].line if finding.locations else None
            grade = f" [{finding.grade}]" if finding.grade else ""
            lines.append(annotation(_COMMAND[finding.level], finding.message, _file_of(finding), line,
                                    f"{finding.rule_id}{grade}"))
        lines.extend(_notification_line(n) for n in report.notifications if n.level is not Level.NONE)
        return "\n".join(lines) + ("\n" if lines else "")
