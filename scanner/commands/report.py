"""``privaudit report``: the auditor report of a semiannual review, built from its SARIF evidence.

The review archives the SARIF file a scan wrote (obligation 9: traceable, reviewable evidence);
this command turns it, at any later time, into what an auditor reads: an executive summary, which
of the nine obligations were checked and with what result, findings by resource with masked
evidence, remediation and waivers, and what the scan covered or could not read. ``--baseline``
compares with the previous review's SARIF when the scan itself was run without one.

Exit codes: 0 the report was written; 2 a usage mistake (missing or unreadable SARIF), with a
message saying how to fix it. The report is not a gate: use ``privaudit scan --fail-on`` for that.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scanner.registry import ReportFormats

#: the auditor-report formats: the registered reporters that render a SARIF log
FORMATS = ReportFormats(audit=True)
LANGUAGES = ("en", "zh")


def _infer_format(output: str | None) -> str:
    from scanner.registry import report_format_for

    found = report_format_for(output, default="html")
    return found if found in FORMATS else "html"


def _load(path: str, option: str) -> dict:  # type: ignore[type-arg]
    """The SARIF log at ``path``, read as a baseline is (:func:`scanner.review.baseline.read_sarif`: size cap,
    UTF-8, nesting depth, the type of every property the report reads), so a hostile or damaged file is a
    usage error naming what is wrong, never a traceback."""
    from scanner.review.baseline import BaselineError, read_sarif

    try:
        sarif = read_sarif(path)
        version = sarif.get("version", "2.1.0")
        if not str(version).startswith("2.1"):
            raise BaselineError(f"{path} is SARIF {version}; only SARIF 2.1.0 is supported")
    except BaselineError as exc:
        raise click.UsageError(f"{option}: {exc}; give the SARIF file `privaudit scan --format sarif --output FILE` "
                               "wrote.") from None
    return sarif


@click.command("report")
@click.argument("sarif_path", metavar="FINDINGS.sarif", type=click.Path(dir_okay=False))
@click.option("--baseline", type=click.Path(dir_okay=False), default=None, metavar="PREVIOUS.sarif",
              help="The previous review's SARIF, for new/resolved counts when FINDINGS.sarif has no baseline states.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Report format (default: inferred from --output's extension, else html).")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True,
              help="Language of the report's labels (zh: Simplified Chinese).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report to FILE (default: stdout).")
def command(sarif_path: str, baseline: str | None, fmt: str | None, lang: str, output: str | None) -> None:
    """Write the auditor report (HTML or Markdown, English or Chinese) of a SARIF findings file."""
    from scanner.registry import REPORTERS

    sarif = _load(sarif_path, "FINDINGS.sarif")
    previous = _load(baseline, "--baseline") if baseline else None
    fmt = fmt or _infer_format(output)
    text = REPORTERS.get(fmt)().render_sarif(sarif, lang=lang, previous=previous, source=Path(sarif_path).name,
                                             baseline_name=Path(baseline).name if baseline else None)
    if previous is not None and any(r.get("baselineState") for run in sarif["runs"] if isinstance(run, dict)
                                    for r in run.get("results") or () if isinstance(r, dict)):
        click.echo(f"privaudit: note: {sarif_path} already records baseline states; --baseline {baseline} "
                   "was not used.", err=True)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.UsageError(f"--output {output}: cannot write it ({exc.strerror}); give a writable path.") \
                from None
        click.echo(f"Report written to {output}", err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(0)
