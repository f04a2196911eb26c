"""``privaudit scan`` with a scan config, waivers or a baseline: the scheduled-review path.

How the command line and ``--config`` combine: TARGETs on the command line are scanned *in addition*
to the config's targets, with ``--include/--exclude/--max-file-size/--follow-symlinks`` (which then
apply to those command-line targets only — per-target options of config targets live in the config).
Every other option given on the command line overrides the config's value (``--policy``, ``--fail-on``,
``--jobs``, ``--min-score``, ``--ner-model``, ``--waivers``, ``--baseline``, ``--fail-on-new-only``);
``--output`` or ``--format`` replace the config's ``outputs``.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
from click.core import ParameterSource

from scanner.output import (
    _infer_format,
    _progress_callback,
    echo_notifications,
    echo_summary,
    output_problems,
    remote_extra,
    scan_with_progress,
    size_limits,
    target_problems,
    write_report,
)

_PER_TARGET = ("include", "exclude", "max_file_size", "max_expanded_size", "max_expansion_ratio", "follow_symlinks")


def _config_problem(title: str, errors: list[str]) -> NoReturn:
    click.echo(f"privaudit: {title}:\n" + "\n".join(f"  {e}" for e in errors), err=True)
    sys.exit(2)


def _load(title: str, loader: Callable[[Any], Any], source: Any) -> Any:
    """Load a YAML file the scan depends on; a ConfigError ends the command with exit 2."""
    from scanner.yamlschema import ConfigError

    try:
        return loader(source)
    except ConfigError as exc:
        _config_problem(title, exc.errors)


def run_review_scan(ctx: click.Context, now: dt.datetime | None = None) -> NoReturn:
    """``privaudit scan`` with or without ``--config``: check everything a usage mistake could be before
    anything is scanned (exit 2), scan, apply the review (waivers, baseline), write every output, exit."""
    from scanner.connector import ScanOptions
    from scanner.review.pipeline import apply_review, review_exit_code

    params: dict[str, Any] = ctx.params
    given = _given(ctx)
    config = _config(params, given)
    cli_targets: tuple[str, ...] = params["targets"]
    _check_targets(params, config, cli_targets, given)
    settings = _Settings.choose(params, config, given)
    policy, waivers, baseline = _review_inputs(settings)
    outputs = _outputs(params, config, given, cli_targets)
    cli_options: dict[str, Any] = {
        "include": params["include"], "exclude": params["exclude"], "jobs": settings.jobs,
        "follow_symlinks": params["follow_symlinks"], "min_score": settings.min_score,
        "extra": {**remote_extra(params), **_cluster(ctx, config),
                  **({"ner_model": settings.ner_model} if settings.ner_model else {})},
    }
    cli_options.update(size_limits(params))
    planned: list[str | tuple[str, ScanOptions]] = [
        (t.target, t.options(jobs=settings.jobs, min_score=settings.min_score, ner_model=settings.ner_model))
        for t in (config.targets if config else ())]
    planned.extend(cli_targets)
    command_line = ["privaudit", "scan", *sys.argv[2:]] if sys.argv[1:2] == ["scan"] else ["privaudit", "scan"]
    report = scan_with_progress(planned, ScanOptions(**cli_options), policy, quiet=params["quiet"],
                                command_line=command_line, state=settings.state, full=params["full"],
                                bar=_progress_callback)
    apply_review(report, policy, waivers=waivers, baseline=baseline, now=now)
    report.category, report.sarif_root = params["category"], params["sarif_root"]
    echo_notifications(report, params["quiet"])
    _write_outputs(report, outputs, params["quiet"])
    sys.exit(review_exit_code(report, settings.fail_on, settings.new_only))


def _cluster(ctx: click.Context, config: Any) -> dict[str, Any]:
    """The cluster settings: command line over the config's ``cluster:`` over ``PRIVAUDIT_CLUSTER``."""
    from scanner.executor_dask import cluster_settings

    return cluster_settings(ctx, config)


def _given(ctx: click.Context) -> Callable[[str], bool]:
    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)

    return given


def _config(params: dict[str, Any], given: Callable[[str], bool]) -> Any:
    """The scan config (``--config``), checked: valid, its credential references and NER model here."""
    from scanner.review.config import load_config

    if not params["config_path"]:
        return None
    config = _load("the scan configuration is not valid", load_config, params["config_path"])
    problems = config.reference_problems()
    if problems:
        _config_problem("the scan configuration names credentials that are not available here", problems)
    if config.ner_model and not given("ner_model"):
        problem = config.ner_model_problem()
        if problem:
            _config_problem("the scan configuration names an NER model that is not available here", [problem])
    return config


def _check_targets(params: dict[str, Any], config: Any, cli_targets: tuple[str, ...],
                   given: Callable[[str], bool]) -> None:
    """Targets to scan exist, per-target options go with command-line targets, extras are installed."""
    from scanner.scan import UsageError, connector_for

    if config is not None and not cli_targets:
        extra = [f"--{n.replace('_', '-')}" for n in _PER_TARGET if given(n)]
        if extra:
            raise click.UsageError(f"{', '.join(extra)} only apply to TARGETs given on the command line; for the "
                                   f"config's targets put include/exclude/max_file_size/follow_symlinks under each "
                                   f"target in {params['config_path']}.")
    if config is None and not cli_targets:
        raise click.UsageError("give at least one TARGET to scan, or --config privaudit.yaml "
                               "(`privaudit config init` writes an example).")
    for problem in target_problems(cli_targets, []):
        raise click.UsageError(problem)
    for target in [*cli_targets, *(t.target for t in (config.targets if config else ()))]:
        try:
            problem = connector_for(target).missing_requirement()
        except UsageError as exc:
            raise click.UsageError(str(exc)) from None
        if problem:
            raise click.UsageError(problem)


@dataclass(frozen=True)
class _Settings:
    """A setting given on the command line wins over the scan config's."""

    jobs: Any
    min_score: Any
    ner_model: Any
    fail_on: Any
    new_only: bool
    policy_name: Any
    waivers_path: Any
    baseline_path: Any
    state: Any

    @classmethod
    def choose(cls, params: dict[str, Any], config: Any, given: Callable[[str], bool]) -> _Settings:
        def choose(name: str, from_config: Any) -> Any:
            return params[name] if given(name) or from_config is None else from_config

        settings = cls(
            jobs=choose("jobs", config.concurrency if config else None),
            min_score=choose("min_score", config.min_score if config else None),
            ner_model=choose("ner_model", config.ner_model if config else None),
            fail_on=choose("fail_on", config.fail_on if config else None),
            new_only=params["fail_on_new_only"] or bool(config and config.fail_on_new_only),
            policy_name=choose("policy_name", config.policy if config else None),
            waivers_path=choose("waivers", config.waivers if config else None),
            baseline_path=choose("baseline", config.baseline if config else None),
            state=choose("state_dir", str(config.state) if config and config.state else None),
        )
        if settings.new_only and not settings.baseline_path:
            raise click.UsageError("--fail-on-new-only needs a baseline: give --baseline previous.sarif (or "
                                   "`baseline:` in the scan config).")
        if params["full"] and not settings.state:
            raise click.UsageError("--full only applies with --state DIR (or `state:` in the scan config).")
        return settings


def _review_inputs(settings: _Settings) -> tuple[Any, Any, Any]:
    """The policy, waivers and baseline, each checked (exit 2 naming the file and line)."""
    from scanner.policy import load_policy
    from scanner.review.baseline import BaselineError, load_baseline
    from scanner.review.waivers import load_waivers

    policy = _load("the policy is not valid", load_policy, settings.policy_name)
    waivers = _load("the waivers file is not valid", load_waivers, settings.waivers_path) \
        if settings.waivers_path else None
    baseline = None
    if settings.baseline_path:
        try:
            baseline = load_baseline(settings.baseline_path)
        except BaselineError as exc:
            raise click.UsageError(f"--baseline: {exc}; give the SARIF file a previous `privaudit scan` wrote "
                                   "(--format sarif).") from None
    return policy, waivers, baseline


def _outputs(params: dict[str, Any], config: Any, given: Callable[[str], bool],
             cli_targets: tuple[str, ...]) -> list[tuple[str | None, str]]:
    """(path, format) of every output: the command line's, else the config's; none inside a target."""
    from scanner.review.config import infer_format

    if given("output") or given("fmt") or not (config and config.outputs):
        outputs: list[tuple[str | None, str]] = [
            (params["output"], params["fmt"] or (_infer_format(params["output"]) if params["output"] else "text"))]
    else:
        outputs = [(str(o.path), o.format or infer_format(str(o.path))) for o in config.outputs]
    scanned = [*cli_targets, *(t.target for t in (config.targets if config else ()))]
    for problem in output_problems(scanned, [path for path, _ in outputs if path]):
        raise click.UsageError(problem)
    return outputs


def _write_outputs(report: Any, outputs: list[tuple[str | None, str]], quiet: bool) -> None:
    for path, fmt in outputs:
        if path and path != "-":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                write_report(report, fmt, path)
            except OSError as exc:
                raise click.UsageError(f"cannot write {path} ({exc.strerror or exc}); give a writable path.") from None
        else:
            write_report(report, fmt, None)
    written = [path for path, _ in outputs if path and path != "-"]
    if written and not quiet:
        echo_summary(report, written)
