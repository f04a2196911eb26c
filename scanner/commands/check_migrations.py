"""``privaudit check-migrations``: a CI gate for SQL schema changes.

Replays ``.sql`` migrations in the order migration tools apply them (see
:mod:`scanner.migrations.ordering`), tracks which tables hold graded personal data, and fails the
build when a change stores such data in plaintext or opens it to PUBLIC, any-host accounts, roles
the policy does not allow, or through views, default privileges, disabled RLS or dropped policies.

Files named one by one (the pre-commit hook passes the staged ones) are judged against the state
their whole migration directory builds; results are reported for those files only.

Exit codes as ``privaudit scan``: 0 nothing at or above ``--fail-on`` (suppressed and baseline-
unchanged results do not count), 1 something was (or a migration could not be parsed), 2 usage or
configuration mistakes, with a message saying how to fix them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scanner.output import FAIL_ON, echo_notifications, write_report

FORMATS = ("sarif", "github-sarif", "text", "github", "json")


def _infer_format(output: str | None) -> str:
    """The scan's rule (:func:`scanner.registry.report_format_for`), among the formats this command writes."""
    from scanner.registry import report_format_for

    found = report_format_for(output)
    return found if found in FORMATS else "text"


@click.command("check-migrations", epilog="Exit status: 0 nothing at or above --fail-on; 1 findings at or above "
               "--fail-on or statements that could not be parsed; 2 usage or configuration error; 3 a migration "
               "file could not be read; 70 internal error.")
@click.argument("paths", nargs=-1, metavar="PATH...")
@click.option("--dialect", type=click.Choice(["postgres", "mysql", "sqlite"]), default=None,
              help="SQL dialect of the migrations (required).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: inferred from --output, else text). github prints workflow annotations.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write results to FILE.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True,
              help="Exit 1 when a new, unsuppressed result at or above this level is present.")
@click.option("--baseline", type=click.Path(dir_okay=False), default=None, metavar="SARIF",
              help="Previous SARIF: results already in it are 'unchanged' and do not fail the run.")
@click.option("--schema-from", "schema_from", default=None, metavar="URI",
              help="Start from a live schema: postgresql://user@host/db, mysql://user@host/db or sqlite:///path.db "
                   "(catalog only, read-only; passwords from PGPASSWORD/~/.pgpass or MYSQL_PWD/~/.my.cnf).")
@click.option("--policy", "policy_name", default=None, metavar="PACK|FILE",
              help="Policy pack name or YAML file (default: financial-cn).")
def command(paths: tuple[str, ...], dialect: str | None, fmt: str | None, output: str | None, fail_on: str,
            baseline: str | None, schema_from: str | None, policy_name: str | None) -> None:
    """Check SQL migrations for plaintext personal data and over-wide grants (CI gate)."""
    from scanner.migrations.check import MigrationCheck, context_targets, gate_exit_code, load_baseline
    from scanner.migrations.live import SchemaSourceError, read_live_schema
    from scanner.migrations.ordering import collect_sql_files
    from scanner.policy import load_policy
    from scanner.yamlschema import ConfigError

    if not paths:
        raise click.UsageError("give the migration files or directories, e.g. "
                               "`privaudit check-migrations migrations/ --dialect postgres`.")
    if dialect is None:
        raise click.UsageError("--dialect is required: postgres, mysql or sqlite (the SQL dialect of the "
                               "migrations), e.g. `privaudit check-migrations migrations/ --dialect postgres`.")
    for path in paths:
        if not Path(path).exists():
            raise click.UsageError(f"{path!r} does not exist; give existing .sql files or directories.")
    if not collect_sql_files(paths):
        raise click.UsageError(f"no .sql files in {', '.join(paths)}; give the directory holding the migrations.")
    try:
        policy = load_policy(policy_name)
    except ConfigError as exc:
        click.echo("privaudit: the policy is not valid:\n" + "\n".join(f"  {e}" for e in exc.errors), err=True)
        sys.exit(2)
    known: set[str] | None = None
    if baseline:
        try:
            known = load_baseline(baseline)
        except (OSError, ValueError) as exc:
            raise click.UsageError(f"--baseline {baseline}: cannot use it ({exc}); give the SARIF file a previous "
                                   "run wrote with --format sarif.") from None
    live = None
    if schema_from:
        try:
            live = read_live_schema(schema_from, dialect)
        except SchemaSourceError as exc:
            raise click.UsageError(str(exc)) from None
    targets, report_only = context_targets(paths)
    report = MigrationCheck(
        targets, dialect, policy, baseline=known, live=live, report_only=report_only,
        command_line=["privaudit", "check-migrations", *paths, "--dialect", dialect],
    ).run()
    echo_notifications(report)
    try:
        write_report(report, fmt or _infer_format(output), output)
    except OSError as exc:
        raise click.UsageError(f"--output {output}: cannot write it ({exc.strerror or exc}); give a writable "
                               "file path.") from None
    sys.exit(gate_exit_code(report, fail_on))
