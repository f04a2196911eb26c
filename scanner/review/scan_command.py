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
    from scanner.connector import ScanOptions
    from scanner.policy import load_policy
    from scanner.review.baseline import BaselineError, load_baseline
    from scanner.review.config import ScanConfig, infer_format, load_config
    from scanner.review.pipeline import apply_review, review_exit_code
    from scanner.review.waivers import load_waivers
    from scanner.scan import UsageError, connector_for

    params: dict[str, Any] = ctx.params

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)

    config: ScanConfig | None = None
    if params["config_path"]:
        config = _load("the scan configuration is not valid", load_config, params["config_path"])
        problems = config.reference_problems()
        if problems:
            _config_problem("the scan configuration names credentials that are not available here", problems)
        if config.ner_model and not given("ner_model"):
            problem = config.ner_model_problem()
            if problem:
                _config_problem("the scan configuration names an NER model that is not available here", [problem])

    cli_targets: tuple[str, ...] = params["targets"]
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

    def choose(name: str, from_config: Any) -> Any:
        return params[name] if given(name) or from_config is None else from_config

    jobs = choose("jobs", config.concurrency if config else None)
    min_score = choose("min_score", config.min_score if config else None)
    ner_model = choose("ner_model", config.ner_model if config else None)
    fail_on = choose("fail_on", config.fail_on if config else None)
    new_only = params["fail_on_new_only"] or bool(config and config.fail_on_new_only)
    policy_name = choose("policy_name", config.policy if config else None)
    waivers_path = choose("waivers", config.waivers if config else None)
    baseline_path = choose("baseline", config.baseline if config else None)
    if new_only and not baseline_path:
        raise click.UsageError("--fail-on-new-only needs a baseline: give --baseline previous.sarif (or "
                               "`baseline:` in the scan config).")

    policy = _load("the policy is not valid", load_policy, policy_name)
    waivers = _load("the waivers file is not valid", load_waivers, waivers_path) if waivers_path else None
    baseline = None
    if baseline_path:
        try:
            baseline = load_baseline(baseline_path)
        except BaselineError as exc:
            raise click.UsageError(f"--baseline: {exc}; give the SARIF file a previous `privaudit scan` wrote "
                                   "(--format sarif).") from None

    if given("output") or given("fmt") or not (config and config.outputs):
        outputs: list[tuple[str | None, str]] = [
            (params["output"], params["fmt"] or (_infer_format(params["output"]) if params["output"] else "text"))]
    else:
        outputs = [(str(o.path), o.format or infer_format(str(o.path))) for o in config.outputs]
    scanned = [*cli_targets, *(t.target for t in (config.targets if config else ()))]
    for problem in output_problems(scanned, [path for path, _ in outputs if path]):
        raise click.UsageError(problem)

    cli_options: dict[str, Any] = {
        "include": params["include"], "exclude": params["exclude"], "jobs": jobs,
        "follow_symlinks": params["follow_symlinks"], "min_score": min_score,
        "extra": {**remote_extra(params), **({"ner_model": ner_model} if ner_model else {})},
    }
    cli_options.update(size_limits(params))
    options = ScanOptions(**cli_options)
    planned: list[str | tuple[str, ScanOptions]] = [
        (t.target, t.options(jobs=jobs, min_score=min_score, ner_model=ner_model))
        for t in (config.targets if config else ())]
    planned.extend(cli_targets)

    state = choose("state_dir", str(config.state) if config and config.state else None)
    if params["full"] and not state:
        raise click.UsageError("--full only applies with --state DIR (or `state:` in the scan config).")
    command_line = ["privaudit", "scan", *sys.argv[2:]] if sys.argv[1:2] == ["scan"] else ["privaudit", "scan"]
    report = scan_with_progress(planned, options, policy, quiet=params["quiet"], command_line=command_line,
                                state=state, full=params["full"], bar=_progress_callback)
    apply_review(report, policy, waivers=waivers, baseline=baseline, now=now)
    report.category, report.sarif_root = params["category"], params["sarif_root"]
    echo_notifications(report, params["quiet"])
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
    if written and not params["quiet"]:
        echo_summary(report, written)
    sys.exit(review_exit_code(report, fail_on, new_only))
