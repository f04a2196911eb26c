"""Jinja2 set-up shared by the HTML and Markdown auditor reports (templates in ``reports/templates``).

Finding text is untrusted input: file names, column names, messages and evidence come from the
scanned estate, and a file called ``<script>alert(1)</script>.csv`` is a legitimate finding. The
HTML environment autoescapes everything; the Markdown environment escapes every ``{{ … }}`` output
for Markdown *and* inline HTML (GitHub and GitLab render both) through ``finalize``. Templates mark
their own trusted markup explicitly, never data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reports._audit import AuditReport, Waiver, build_audit, store_keys
from reports._i18n import Translator

TEMPLATES = Path(__file__).with_name("templates")
MAX_NOTIFICATIONS = 1000  # rows in the "could not be read" table; the SARIF file keeps all of them


def human_bytes(value: int) -> str:
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"  # pragma: no cover


def counts_text(counts: dict[str, int], t: Translator | None = None, prefix: str = "") -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if t is not None and prefix:
        return ", ".join(f"{t.maybe(prefix + k, k)} {v:,}" for k, v in items)
    return ", ".join(f"{k} {v:,}" for k, v in items)


def environment(markdown: bool = False):  # type: ignore[no-untyped-def]
    import jinja2

    if markdown:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False, finalize=markdown_finalize,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
        )
    else:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
            trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
        )
    env.filters["human_bytes"] = human_bytes
    env.filters["number"] = lambda value: f"{int(value):,}"
    env.filters["css_class"] = css_class
    return env


class MarkdownSafe(str):
    """Text a Markdown template produces itself (table syntax, headings), not data."""


# Characters with a meaning in CommonMark/GFM inline syntax (emphasis, code spans, link and image
# brackets, table cells, strikethrough, headings); backslash-escaping them makes them literal. With
# the brackets escaped, ``(``, ``)`` and ``!`` cannot form a link or an image; ``-``, ``+`` and ``.``
# only matter at the start of a line, where templates never put data. Both stay readable.
_MARKDOWN_PUNCTUATION = set("\\`*_[]#|~")


def markdown_escape(text: str) -> str:
    """Literal text in Markdown (and in a GFM table cell): no links, emphasis, code, HTML or new rows.

    ``&``, ``<`` and ``>`` become character references, so a file named ``<script>`` stays text on
    renderers that allow inline HTML; line breaks become spaces so a value cannot end a table row.
    """
    out = []
    for char in text:
        if char == "&":
            out.append("&amp;")
        elif char == "<":
            out.append("&lt;")
        elif char == ">":
            out.append("&gt;")
        elif char in "\r\n\t":
            out.append(" ")
        elif char in _MARKDOWN_PUNCTUATION:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def markdown_finalize(value: Any) -> Any:
    if isinstance(value, MarkdownSafe | int | float):
        return value
    if value is None:
        return ""
    return markdown_escape(str(value))


def waiver_text(waiver: Waiver, t: Translator) -> str:
    """One line per waiver: where it comes from, owner, expiry, ticket, reason (or why it does not apply)."""
    parts = [t.maybe(f"waiver.kind.{waiver.kind}", waiver.kind)]
    if not waiver.applies:
        parts.insert(0, t.maybe(f"waiver.status.{waiver.status}", waiver.status))
    for key, value in (("waiver.owner", waiver.owner), ("waiver.expiry", waiver.expiry),
                       ("waiver.ticket", waiver.ticket), ("waiver.reason", waiver.justification),
                       ("waiver.source", waiver.source)):
        if value:
            parts.append(f"{t(key)}: {value}")
    return "; ".join(parts)


def markdown_join(items: Any, separator: str = ", ") -> MarkdownSafe:
    """Escaped items joined by a template-chosen separator (which may be markup such as ``<br>``)."""
    return MarkdownSafe(separator.join(markdown_escape(str(item)) for item in items))


def render_template(name: str, sarif: dict[str, Any], *, lang: str = "en", previous: dict[str, Any] | None = None,
                    source: str = "", baseline_name: str | None = None, markdown: bool = False) -> str:
    audit = build_audit(sarif, previous)
    t = Translator(lang, extra=store_keys().labels.get(lang, {}))
    env = environment(markdown=markdown)
    return env.get_template(name).render(**context(audit, t, source, baseline_name))


class AuditReporter:
    """Base of the registered auditor-report formats: renders a SARIF log, or a live scan via its SARIF."""

    name: str
    extension: str
    template: str
    markdown = False

    def render_sarif(self, sarif: dict[str, Any], *, lang: str = "en", previous: dict[str, Any] | None = None,
                     source: str = "", baseline_name: str | None = None) -> str:
        """The report for a SARIF log (``previous``: the last review's log, when it has no baseline states).

        Both logs are masked again here: a log from another tool or an older version may hold raw names."""
        from scanner.redaction import redact

        sarif = redact(sarif, human=True, keep_newlines=True)
        previous = redact(previous, human=True, keep_newlines=True) if previous is not None else None
        return render_template(self.template, sarif, lang=lang, previous=previous, source=source,
                               baseline_name=baseline_name, markdown=self.markdown)

    def render(self, report: Any, anchor: str | None = None, lang: str = "en") -> str:
        from reports.sarif import build_sarif

        return self.render_sarif(build_sarif(report, anchor), lang=lang, source="privaudit scan")


def _chart(rows: list[tuple[str, str, int]]) -> dict[str, Any]:
    """Rows of a horizontal bar chart: (label, CSS class suffix, value); the template draws the SVG."""
    return {"rows": rows, "max": max((value for _, _, value in rows), default=0)}


def css_class(value: str) -> str:
    """A CSS class name from data (grade, category): only ``[a-z0-9-]`` survive."""
    return "".join(c if c.isascii() and (c.isalnum() or c == "-") else "_" for c in value.lower())


def context(audit: AuditReport, t: Translator, source: str, baseline_name: str | None) -> dict[str, Any]:
    open_findings = audit.open_findings
    charts = {
        "by_grade": _chart([(g if g != "-" else t("grade.-"), f"grade-{g}", o)
                                  for g, o, _ in audit.counts_by("grade") if o]),
        "by_category": _chart([(t.maybe(f"category.{c}", c), f"category-{c}", o)
                               for c, o, _ in audit.counts_by("category") if o]),
        "by_store": _chart([(t.maybe(f"store.{s}", s), f"store-{s}", o) for s, o, _ in audit.counts_by("store")]),
        "baseline": _chart([(t(f"state.{s}"), f"state-{s}", audit.state_count(s))
                            for s in ("new", "updated", "unchanged", "absent")]),
    }
    return {
        "t": t,
        "lang": t.lang,
        "audit": audit,
        "source": source or "-",
        "baseline_name": baseline_name,
        "open_findings": open_findings,
        "charts": charts,
        "stores": store_keys().order,
        "notifications": audit.notifications[:MAX_NOTIFICATIONS],
        "notifications_left": max(0, len(audit.notifications) - MAX_NOTIFICATIONS),
        "counts_text": lambda counts, prefix="": counts_text(counts, t, prefix),
        "md": MarkdownSafe,
        "md_join": markdown_join,
        "rule_lines": lambda rules: [f"{r.id}: {t('rule.status.' + r.status, open=r.open, waived=r.waived)}"
                                     for r in rules],
        "waiver_lines": lambda waivers: [waiver_text(w, t) for w in waivers],
    }
