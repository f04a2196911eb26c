"""``privaudit config validate|init``: check a scan config before the scheduled run, or start one.

A semiannual review that fails at 02:00 because of a typo in ``privaudit.yaml`` is a lost review, so
``validate`` reports every problem with file, line, key and what was expected (exit 2), and warns
about credential references this machine cannot resolve (an unset environment variable, a missing
pgpass file) without failing: the scan may run elsewhere. ``init`` writes a commented example that
itself validates.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from scanner.review.config import ScanConfig


@click.group("config")
def command() -> None:
    """Validate or create a scan configuration (privaudit.yaml)."""


def _say(text: str, err: bool = False) -> None:
    """A line for a person: names (a config path can hold a customer's ID) masked, controls escaped."""
    from scanner.redaction import for_humans

    click.echo(for_humans(text, keep_newlines=True), err=err)


@command.command("validate")
@click.argument("file", type=click.Path(dir_okay=False), metavar="FILE")
def validate_command(file: str) -> None:
    """Check FILE (a privaudit.yaml) and say what is wrong, with file and line."""
    from scanner.review.config import load_config
    from scanner.yamlschema import ConfigError

    if not Path(file).is_file():
        raise click.UsageError(f"{file!r} does not exist; give the scan config's path, or create one with "
                               "`privaudit config init`.")
    try:
        config = load_config(file)
    except ConfigError as exc:
        _say(f"privaudit: {file} is not valid:\n" + "\n".join(f"  {e}" for e in exc.errors), err=True)
        sys.exit(2)
    errors = _referred_file_errors(file, config)
    if errors:
        _say(f"privaudit: {file} refers to files that are not valid:\n" + "\n".join(f"  {e}" for e in errors),
             err=True)
        sys.exit(2)
    for warning in _warnings(config):
        _say(f"privaudit: warning: {warning}", err=True)
    count = len(config.targets)
    _say(f"{file}: valid ({count} target{'s' if count != 1 else ''}, policy {config.policy or 'financial-cn'}).")


def _referred_file_errors(file: str, config: ScanConfig) -> list[str]:
    """What is wrong with the policy pack and the waivers file the config names: the scan would stop on them."""
    from scanner.policy import load_policy
    from scanner.review.waivers import load_waivers
    from scanner.yamlschema import ConfigError

    errors: list[str] = []
    try:
        load_policy(config.policy)
    except ConfigError as exc:
        errors += exc.errors
    if config.waivers is not None and not config.waivers.is_file():
        errors.append(f"{file}: waivers: {config.waivers} does not exist")
    elif config.waivers is not None:
        try:
            load_waivers(config.waivers)
        except ConfigError as exc:
            errors += exc.errors
    return errors


def _warnings(config: ScanConfig) -> list[str]:
    """What this machine lacks that the scan may have where it runs: credential references it cannot resolve,
    the NER model, the previous review's SARIF, local targets (a share not mounted)."""
    warnings = [problem for problem in [*config.reference_problems(), config.ner_model_problem()] if problem]
    if config.baseline is not None and not config.baseline.is_file():
        warnings.append(f"baseline {config.baseline} does not exist (yet); the scan will fail until the previous "
                        "review's SARIF is there.")
    warnings += [f"target {target.target} does not exist here; the scan will report it as not scanned and exit 3 "
                 "(a share not mounted?)." for target in config.targets
                 if "://" not in target.target and not Path(target.target).exists()]
    return warnings


@command.command("init")
@click.argument("path", type=click.Path(dir_okay=False), default="privaudit.yaml", metavar="[PATH]")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init_command(path: str, force: bool) -> None:
    """Write a commented example scan config to PATH (default privaudit.yaml)."""
    from scanner.review.config import EXAMPLE

    target = Path(path)
    if target.exists() and not force:
        raise click.UsageError(f"{path} already exists; pass --force to overwrite it, or give another PATH.")
    try:
        target.write_text(EXAMPLE, encoding="utf-8")
    except OSError as exc:
        raise click.UsageError(f"cannot write {path} ({exc.strerror or exc}); give a writable path.") from None
    click.echo(f"Wrote {path}; edit its targets, then run `privaudit config validate {path}`.", err=True)
