"""The auditor report as one self-contained HTML page (``privaudit report --format html``).

Built from SARIF (the archived evidence of a semiannual review, obligation 9), so an auditor can
regenerate it from the archive at any time: executive summary with inline-SVG charts, obligations
coverage, findings by resource with masked evidence, remediation and waivers, and scan coverage.
No script, no external CSS, fonts or images: it opens from a file share and prints (A4 landscape
print stylesheet). A Content-Security-Policy forbids scripts outright, on top of Jinja2
autoescaping of every value taken from the scan (file names are attacker-controlled).

Registered as report format ``html`` as well, so a live :class:`~scanner.model.ScanReport` renders
through the same path (SARIF first); ``privaudit scan --format`` lists its formats explicitly and is
not changed by this registration.
"""

from __future__ import annotations

from typing import Any

from reports._render import AuditReporter
from scanner.registry import REPORTERS


@REPORTERS.register
class HtmlReporter(AuditReporter):
    name = "html"
    extension = ".html"
    suffixes = (".html", ".htm")  # output file names this format is inferred from
    template = "report.html.j2"


def render_html(sarif: dict[str, Any], **options: Any) -> str:
    """The HTML report of a SARIF log; ``options`` as :meth:`AuditReporter.render_sarif`."""
    return HtmlReporter().render_sarif(sarif, **options)
