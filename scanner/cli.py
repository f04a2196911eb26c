"""Command line: ``privaudit scan``, ``privaudit demo`` and the subcommands other modules add.

Exit codes (:mod:`scanner.output`): 0 when nothing at or above ``--fail-on`` was found, 1 when something
was, 2 for usage or configuration mistakes (with a message saying how to fix them), 3 when a target could
not be scanned at all, 70 for an internal error. Findings go to stdout or
``--output``; progress and unreadable-item notices go to stderr. Credentials are never taken as
options: connectors read them from the environment or the standard config files.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from scanner import __version__
from scanner.fingerprint import FingerprintKeyError
from scanner.output import (
    EXIT_CODES_HELP,
    FAIL_ON,
    _fail,
    _infer_format,
    _progress_callback,
    echo_notifications,
    echo_summary,
    exit_code,
    remote_extra,
    scan_with_progress,
    size_limits,
    target_problems,
    write_report,
)
from scanner.registry import ReportFormats

#: the scan configuration picked up from the working directory when ``scan`` is given no target
DEFAULT_CONFIG = "privaudit.yaml"


#: exit status of an unexpected error (BSD sysexits ``EX_SOFTWARE``): not 1 (findings), 2 (usage), 3 (target)
EXIT_INTERNAL_ERROR = 70


class _PluginGroup(click.Group):
    """Adds the commands of :mod:`scanner.commands` (one module each) to the built-in ones; masks names
    in every error message it shows (a usage error can quote a path named after a customer's ID)."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.ClickException as exc:
            raise _masked(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            raise _masked(exc) from None
        except (click.exceptions.Exit, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except FingerprintKeyError as exc:
            click.echo(f"privaudit: {exc}.", err=True)
            sys.exit(2)
        except Exception as exc:  # a bug of ours: say so without a raw value, and never a bare traceback
            _report_internal_error(exc)
            sys.exit(EXIT_INTERNAL_ERROR)

    def list_commands(self, ctx: click.Context) -> list[str]:
        import pkgutil

        import scanner.commands

        found = {info.name.replace("_", "-") for info in pkgutil.iter_modules(scanner.commands.__path__)}
        return sorted(set(super().list_commands(ctx)) | found)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        import importlib

        try:
            module = importlib.import_module(f"scanner.commands.{name.replace('-', '_')}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("scanner.commands"):
                return None
            raise
        return getattr(module, "command", None)


def _masked(exc: click.ClickException) -> click.ClickException:
    from scanner.redaction import for_humans

    exc.message = for_humans(exc.message, keep_newlines=True)
    return exc


def _report_internal_error(exc: BaseException) -> None:
    """The traceback of an unexpected error, with every name masked and control characters escaped."""
    import traceback

    from scanner.redaction import for_humans

    lines = "".join(traceback.format_exception(exc)).splitlines()
    click.echo("\n".join(for_humans(line) for line in lines), err=True)
    click.echo(f"privaudit: internal error ({type(exc).__name__}); please report it with the lines above.", err=True)


@click.group(cls=_PluginGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="privaudit")
def main() -> None:
    """Find customer personal data where it should not be, and who can read it."""


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("targets", nargs=-1, metavar="TARGET...")
@click.option("--format", "fmt", type=click.Choice(ReportFormats()), default=None,
              help="Output format (default: inferred from --output's extension, else text). github-sarif: for "
                   "GitHub code scanning uploads; github: workflow-command annotations; html/markdown: the auditor "
                   "report.")
@click.option("--category", default=None, metavar="NAME",
              help="SARIF runAutomationDetails.id, so uploads of different scans of one repository stay apart.")
@click.option("--sarif-root", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="github-sarif: make file URIs relative to DIR (default: the git work tree of the scanned path).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, allow_dash=True),
              help="Write findings to FILE (- for standard output); a one-line summary goes to stderr.")
@click.option("--quiet", "-q", is_flag=True, help="No summary line, progress bar or note-level messages on stderr.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True,
              help="Exit 1 when a finding at or above this level is present.")
@click.option("--include", multiple=True, metavar="GLOB", help="Only scan files matching GLOB (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files and directories matching GLOB.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, help="Worker processes (0 = all cores).")
@click.option("--policy", "policy_name", default=None, metavar="PACK|FILE",
              help="Policy pack name or YAML file (default: financial-cn).")
@click.option("--max-file-size", type=click.IntRange(min=1), default=None, metavar="BYTES",
              help="Skip (and report) files larger than BYTES (default 256 MiB; compressed files count as stored).")
@click.option("--max-expanded-size", type=click.IntRange(min=1), default=None, metavar="BYTES",
              help="Stop reading a compressed file or archive member past BYTES of expanded content, with a "
                   "notification (default 1 GiB).")
@click.option("--max-expansion-ratio", type=click.FloatRange(min=1), default=None, metavar="RATIO",
              help="Stop reading compressed content that expands more than RATIO:1, with a notification "
                   "(default 200).")
@click.option("--follow-symlinks", is_flag=True, help="Follow symbolic links (loop-safe).")
@click.option("--include-third-party", is_flag=True,
              help="Also scan third-party software and documentation trees (package docs, site-packages, "
                   "node_modules, .git, licences, changelogs: the policy's locations.third_party).")
@click.option("--min-score", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Minimum detection confidence.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Scan configuration (privaudit.yaml): targets, policy, waivers, baseline, outputs.")
@click.option("--waivers", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Waivers file: accepted findings with owner, reason, ticket and expiry.")
@click.option("--baseline", type=click.Path(dir_okay=False), default=None, metavar="SARIF",
              help="Previous review's SARIF: results get baselineState new/unchanged/updated/absent.")
@click.option("--fail-on-new-only", is_flag=True, help="Only findings new since --baseline fail the run.")
@click.option("--s3-endpoint-url", metavar="URL",
              envvar=["PRIVAUDIT_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"],
              help="S3-compatible endpoint (MinIO, Ceph RGW), e.g. https://minio.internal:9000 "
                   "(env PRIVAUDIT_S3_ENDPOINT_URL, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL).")
@click.option("--s3-state-file", type=click.Path(dir_okay=False), default=None, metavar="FILE", hidden=True,
              help="Replaced by --state DIR (refused with how to move).")
@click.option("--known-hosts", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
              help="known_hosts file for sftp:// targets (default ~/.ssh/known_hosts); unknown keys are refused.")
@click.option("--ssh-key", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
              help="Private key for sftp:// targets (passphrase or password only from the environment: "
                   "PRIVAUDIT_SSH_KEY_PASSPHRASE, PRIVAUDIT_SFTP_PASSWORD).")
@click.option("--state", "state_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Private state directory (0700): an interrupted scan resumes, unchanged resources are not read "
                   "again (their results are carried).")
@click.option("--full", is_flag=True, help="With --state: read everything again (an interrupted run still resumes).")
@click.option("--ner-model", metavar="MODEL", default=None,
              help="Installed spaCy model (package name or saved pipeline path) for PERSON/LOCATION; "
                   "never downloaded.")
@click.option("--cluster", metavar="ADDRESS", envvar="PRIVAUDIT_CLUSTER", default=None,
              help="Run on a Dask cluster (pip install 'privaudit[dask]'): local:N, tls://host:8786, or tcp://... "
                   "with --cluster-insecure (env PRIVAUDIT_CLUSTER).")
@click.option("--cluster-tls-ca", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
              help="tls:// cluster: CA certificate that signed the scheduler's and workers' certificates.")
@click.option("--cluster-tls-cert", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
              help="tls:// cluster: this client's certificate (mutual TLS).")
@click.option("--cluster-tls-key", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
              help="tls:// cluster: this client's private key.")
@click.option("--cluster-insecure", is_flag=True,
              help="Allow a tcp:// cluster: task payloads are pickles, whoever reaches the scheduler runs code on "
                   "the workers.")
@click.pass_context
def scan(ctx: click.Context, targets: tuple[str, ...], fmt: str | None, output: str | None, fail_on: str,
         include: tuple[str, ...], exclude: tuple[str, ...], jobs: int, policy_name: str | None,
         max_file_size: int | None, max_expanded_size: int | None, max_expansion_ratio: float | None,
         follow_symlinks: bool, include_third_party: bool, min_score: float, config_path: str | None,
         waivers: str | None, baseline: str | None, fail_on_new_only: bool, s3_endpoint_url: str | None,
         s3_state_file: str | None, known_hosts: str | None, ssh_key: str | None, ner_model: str | None,
         quiet: bool, category: str | None, sarif_root: str | None, state_dir: str | None, full: bool,
         **cluster: Any) -> None:
    """Scan paths and data stores for personal data and exposures."""
    remote = remote_extra(ctx.params)
    if not targets and not config_path and Path(DEFAULT_CONFIG).is_file():
        # as gitleaks, semgrep and checkov pick up their config from the working directory
        config_path = ctx.params["config_path"] = DEFAULT_CONFIG
        if not quiet:
            click.echo(f"privaudit: no TARGET given: scanning the targets of ./{DEFAULT_CONFIG}.", err=True)
    if config_path or waivers or baseline or fail_on_new_only:
        from scanner.review.scan_command import run_review_scan

        run_review_scan(ctx)
    from scanner.connector import ScanOptions
    from scanner.policy import load_policy
    from scanner.scan import UsageError, connector_for
    from scanner.yamlschema import ConfigError

    if not targets:
        _fail("give at least one TARGET to scan, e.g. `privaudit scan /srv/share` (or run `privaudit demo`).")
    for problem in target_problems(targets, [output] if output else []):
        _fail(problem)
    for target in targets:
        try:
            problem = connector_for(target).missing_requirement()
        except UsageError as exc:
            _fail(str(exc))
        if problem:
            _fail(problem)
    if output and output != "-" and not Path(output).absolute().parent.is_dir():
        _fail(f"cannot write --output {output}: its directory does not exist; create it or choose another path.")
    if full and not state_dir:
        _fail("--full only applies with --state DIR (it reads everything again instead of carrying results).")
    fmt = fmt or _infer_format(output)
    try:
        policy = load_policy(policy_name)
    except ConfigError as exc:
        click.echo("privaudit: the policy is not valid:\n" + "\n".join(f"  {e}" for e in exc.errors), err=True)
        sys.exit(2)
    options_kwargs: dict[str, Any] = {
        "include": include, "exclude": exclude, "jobs": jobs, "follow_symlinks": follow_symlinks,
        "min_score": min_score, "extra": remote,
    }
    options_kwargs.update(size_limits(ctx.params))
    report = scan_with_progress(list(targets), ScanOptions(**options_kwargs), policy, quiet=quiet,
                                command_line=["privaudit", "scan", *targets], state=state_dir, full=full,
                                bar=_progress_callback)
    report.category, report.sarif_root = category, sarif_root
    echo_notifications(report, quiet)
    try:
        write_report(report, fmt, output)
    except OSError as exc:
        _fail(f"--output {output}: cannot write it ({exc.strerror or exc}); give a writable file path.")
    if output and output != "-" and not quiet:
        echo_summary(report, [output])
    sys.exit(exit_code(report, fail_on))


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Create the demo estate here instead of a temporary directory.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Also write the SARIF log to FILE.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, help="Worker processes (0 = all cores).")
def demo(directory: str | None, output: str | None, jobs: int) -> None:
    """Create a small demo estate (customer exports, logs, a database) and scan it."""
    from scanner.connector import ScanOptions
    from scanner.demo import create_demo_estate, demo_targets
    from scanner.scan import run_scan

    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="privaudit-demo-"))
    create_demo_estate(root)
    click.echo(f"Demo estate created in {root}", err=True)
    report = run_scan(demo_targets(root), ScanOptions(jobs=jobs), command_line=["privaudit", "demo"])
    echo_notifications(report)
    write_report(report, "text", None)
    if output:
        write_report(report, "sarif", output)
        click.echo(f"SARIF written to {output}", err=True)
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
