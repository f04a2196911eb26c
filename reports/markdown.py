"""The auditor report as Markdown (``privaudit report --format markdown``): for tickets, wikis and
merge requests, where an HTML attachment is not wanted.

Same content as :mod:`reports.html` minus the charts (counts are tables). Every value from the
scan is escaped for Markdown and inline HTML (see :func:`reports._render.markdown_escape`): GitHub
and GitLab render inline HTML, and a file name must not become a link, an image or a tag there.
"""

from __future__ import annotations

from typing import Any

from reports._render import AuditReporter
from scanner.registry import REPORTERS


@REPORTERS.register
class MarkdownReporter(AuditReporter):
    name = "markdown"
    extension = ".md"
    suffixes = (".md", ".markdown")  # output file names this format is inferred from
    template = "report.md.j2"
    markdown = True


def render_markdown(sarif: dict[str, Any], **options: Any) -> str:
    """The Markdown report of a SARIF log; ``options`` as :meth:`AuditReporter.render_sarif`."""
    return MarkdownReporter().render_sarif(sarif, **options)
