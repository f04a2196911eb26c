"""What the commands share about their output and their command lines: rendering and writing reports,
stderr lines (notifications, the summary), exit statuses, and the checks of targets and options.

Kept apart from :mod:`scanner.cli` so that the commands other modules add (``scan --config``,
``check-migrations``) use it without importing the CLI that imports them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

FAIL_ON = ("error", "warning", "note", "none")


def _fail(message: str) -> None:
    raise click.UsageError(message)


def scan_with_progress(targets: list[Any], options: Any, policy: Any, *, quiet: bool, command_line: list[str],
                       state: str | None = None, full: bool = False, bar: Any = None) -> Any:
    """``run_scan`` with the progress bar (on a terminal) and a state directory that cannot be used as a
    usage error (exit 2, saying how to fix it). ``bar``: what makes the bar (the command's own, which tests
    replace)."""
    from scanner.scan import run_scan
    from scanner.state import StateError

    progress, update = (bar or _progress_callback)(quiet)
    if progress is not None:
        progress.start()
    try:
        return run_scan(targets, options, policy, progress=update, command_line=command_line, state=state,
                        full=full)
    except StateError as exc:
        _fail(f"{exc}.")
    finally:
        if progress is not None:
            progress.stop()


def _progress_callback(quiet: bool = False):  # type: ignore[no-untyped-def]
    """A rich progress bar on stderr when it is a terminal: resources done of resources found ("≥N" while
    discovery is still listing), resources/s, bytes/s, elapsed and time left; nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        return None, None
    import time

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed:,.0f}/s" if task.speed else "")

    class FoundColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            found = task.fields.get("found", 0)
            at_least = "≥" if task.fields.get("discovering") else ""
            return Text(f"{int(task.completed):,}/{at_least}{found:,}")

    class BytesColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            seconds = time.monotonic() - task.fields.get("t0", time.monotonic())
            rate = task.fields.get("bytes", 0) / seconds if seconds > 0 else 0
            return Text(f"{rate / 1048576:,.1f} MiB/s")

    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), FoundColumn(), RateColumn(), BytesColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True), transient=True,
    )
    task = progress.add_task("scanning", total=None, found=0, bytes=0, discovering=True, t0=time.monotonic())

    class Update:
        """``run_scan``'s progress sink: called with the scan's :class:`scanner.scan.Progress`."""

        def __call__(self, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, found=total)

        def advance(self, state: Any) -> None:
            # no total (an indeterminate bar, no time left) while discovery is still finding resources
            progress.update(task, completed=state.done, total=None if state.discovering else state.found,
                            found=state.found, bytes=state.bytes, discovering=state.discovering)

    return progress, Update()


def render_report(report: Any, fmt: str, anchor: str | None = None) -> str:
    """``report`` in format ``fmt`` with names masked (and, for people, control characters escaped): the
    one place every scan output passes through (see :mod:`scanner.redaction`)."""
    from scanner.redaction import redact
    from scanner.registry import REPORTERS

    reporter = REPORTERS.get(fmt)()
    return reporter.render(redact(report, human=getattr(reporter, "human_readable", False)), anchor=anchor)


def write_report(report: Any, fmt: str, output: str | None, anchor: str | None = None) -> None:
    """Write ``report`` to ``output`` (``None`` or ``-``: standard output)."""
    text = render_report(report, fmt, anchor)
    if output and output != "-":
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


#: exit statuses of ``scan`` (and ``check-migrations``), documented in ``--help`` and the README
EXIT_FINDINGS = 1  # a finding at or above --fail-on
EXIT_USAGE = 2  # a usage or configuration mistake (click's own status for usage errors)
EXIT_INCOMPLETE = 3  # a target could not be scanned at all; wins over EXIT_FINDINGS
EXIT_CODES_HELP = (
    "Exit status: 0 nothing at or above --fail-on; 1 findings at or above --fail-on; 2 usage or configuration "
    "error; 3 a target could not be scanned at all (unreachable database, missing path, S3 endpoint down, SSH "
    "host key refused), which wins over 1; 70 internal error."
)


def exit_code(report: Any, fail_on: str) -> int:
    from scanner.model import Level

    if any(t.failed for t in report.targets):
        return EXIT_INCOMPLETE
    if fail_on == "none":
        return 0
    threshold = Level(fail_on).rank
    return EXIT_FINDINGS if any(f.level.rank >= threshold and not f.suppressions for f in report.findings) else 0


def echo_summary(report: Any, written: list[str]) -> None:
    """One line on stderr: findings by level, targets (and how many could not be scanned), where written."""
    from collections import Counter

    active = [f for f in report.findings if not f.suppressions and f.baseline_state != "absent"]
    levels = Counter(f.level.value for f in active)
    by_level = ", ".join(f"{levels[k]} {k}" for k in ("error", "warning", "note") if levels[k])
    failed = sum(1 for t in report.targets if t.failed)
    targets = f"{len(report.targets)} target{'s' if len(report.targets) != 1 else ''}"
    if failed:
        targets += f" ({failed} could not be scanned)"
    where = f"; written to {', '.join(written)}" if written else ""
    carried = sum(n.count for n in report.notifications if n.kind == "state-reused")
    if carried:
        targets += f", {carried:,} unchanged resource{'s' if carried != 1 else ''} carried from the state"
    findings = f"{len(active)} finding{'s' if len(active) != 1 else ''}" + (f" ({by_level})" if by_level else "")
    from scanner.redaction import for_humans

    click.echo(for_humans(f"privaudit: {findings} in {targets}{where}."), err=True)


def echo_notifications(report: Any, quiet: bool = False) -> None:
    """One stderr line per notification (with ``quiet``, warnings and errors only): names masked, control
    characters escaped (no forged lines)."""
    from scanner.model import Level
    from scanner.redaction import for_humans

    for note in report.notifications:
        if quiet and note.level is Level.NOTE:
            continue
        click.echo(f"privaudit: {note.level.value}: {for_humans(note.message)}", err=True)


def size_limits(params: dict[str, Any]) -> dict[str, Any]:
    """The ``ScanOptions`` size caps given on the command line."""
    names = ("max_file_size", "max_expanded_size", "max_expansion_ratio")
    return {name: params[name] for name in names if params.get(name)}


def target_problems(targets: Iterable[str], outputs: Iterable[str]) -> list[str]:
    """Usage mistakes in targets: an empty one (an unset shell variable would scan the current
    directory), a missing local path, and an output inside a local target (see :func:`output_problems`)."""
    problems: list[str] = []
    for target in targets:
        if not target.strip():
            problems.append("an empty TARGET ('') was given, perhaps an unset shell variable; give a path or a URI.")
        elif "://" not in target and not Path(target).exists():
            problems.append(f"target {target!r} does not exist; give an existing path or a URI such as "
                            "postgresql://host/db.")
        elif "://" in target:
            problems.extend(_connector_problems(target))
    return problems + output_problems(targets, outputs)


def _connector_problems(target: str) -> list[str]:
    """What the target's connector refuses in its URI (an unknown scheme is reported where it is looked up)."""
    from scanner.scan import UsageError, connector_for

    try:
        problem = connector_for(target).usage_problem(target)
    except UsageError:
        return []
    return [problem] if problem else []


def output_problems(targets: Iterable[str], outputs: Iterable[str]) -> list[str]:
    """Outputs that would land inside a local target: the scanner never writes to what it scans
    (``scan DIR -o DIR/customers.csv`` would overwrite a scanned export, and the next scan read it)."""
    from connectors.files import path_of

    roots = [path_of(t).resolve() for t in targets if t.strip() and ("://" not in t or t.startswith("file://"))]
    problems = []
    for output in outputs:
        if output == "-":
            continue
        written = Path(output).absolute().resolve()
        for root in roots:
            if written == root or root in written.parents:
                problems.append(f"output {output} is inside the scanned target {root}; the scanner never writes to "
                                "what it scans: write it outside the targets.")
    return problems


def remote_extra(params: dict[str, Any]) -> dict[str, Any]:
    """``ScanOptions.extra`` from the remote-target options (keys the S3 and SFTP connectors read).

    Only paths and the endpoint are options: passwords and passphrases stay in the environment, so
    they never show up in shell history, ``ps`` or the SARIF ``commandLine``.
    """
    extra: dict[str, Any] = {}
    if params.get("cluster"):
        from scanner.executor_dask import cluster_extra

        extra.update(cluster_extra(params))
    if params.get("include_third_party"):
        extra["include_third_party"] = True
    endpoint = params.get("s3_endpoint_url")
    if endpoint:
        from urllib.parse import urlsplit

        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.username or parts.password:
            _fail(f"--s3-endpoint-url {endpoint!r} is not an endpoint URL; give http(s)://host[:port] without "
                  "credentials (they come from the AWS credential chain).")
        extra["s3_endpoint_url"] = endpoint
    if params.get("s3_state_file"):
        from connectors.s3.connector import STATE_FILE_REPLACED

        _fail(f"--s3-state-file: {STATE_FILE_REPLACED}.")
    if params.get("known_hosts"):
        extra["known_hosts"] = str(params["known_hosts"])
    if params.get("ssh_key"):
        extra["ssh_key"] = str(params["ssh_key"])
    if params.get("ner_model"):
        import importlib.util

        if importlib.util.find_spec("presidio_analyzer") is None or importlib.util.find_spec("spacy") is None:
            _fail("--ner-model needs Presidio and spaCy: install the ner extra, pip install 'privaudit[ner]'")
        from scanner.detection.presidio import ModelNotInstalled, ner_model_language

        try:
            ner_model_language(params["ner_model"])
        except ModelNotInstalled as exc:
            _fail(f"--ner-model: {exc}")
        extra["ner_model"] = params["ner_model"]
    return extra


def _infer_format(output: str | None) -> str:
    from scanner.registry import report_format_for

    return report_format_for(output)
