"""``privaudit policies list|show|validate``: the policy packs a review can apply, and checking your own.

A pack decides what is graded how, where graded data may live, who may read it, what must be
encrypted and for how long it may be kept (policies/README.md). Auditors ask which rulebook a review
applied: ``show`` prints a pack's grading and the regulation references it cites per obligation;
``validate`` checks an organisation's own pack with file and line for every problem (exit 2).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from scanner.policy import Policy


@click.group("policies")
def command() -> None:
    """List, show and validate policy packs."""


@command.command("list")
def list_command() -> None:
    """List the built-in policy packs."""
    from scanner.policy import DEFAULT_POLICY, builtin_policy_names, load_policy

    for name in builtin_policy_names():
        policy = load_policy(name)
        default = " (default)" if name == DEFAULT_POLICY else ""
        click.echo(f"{name:14} {policy.title}{default}")


@command.command("show")
@click.argument("name", metavar="NAME|FILE")
def show_command(name: str) -> None:
    """Show a pack's grading, handling rules and obligation references."""
    from scanner.policy import load_policy
    from scanner.yamlschema import ConfigError

    try:
        policy = load_policy(name)
    except ConfigError as exc:
        _invalid(name, exc.errors)
    lines = [f"{policy.name}: {policy.title}", f"source: {policy.source}"]
    if policy.description:
        lines += ["", policy.description]
    lines += ["", "Grades (highest first):", *_grading(policy)]
    lines += ["", "Handling:"]
    lines.append(f"  logs (must hold no unmasked graded data): {', '.join(policy.log_globs) or 'none'}")
    lines.append(f"  encryption required for grades: {', '.join(policy.encryption_required) or 'none'}")
    lines.append(f"  world-readable files reported: {'yes' if policy.world_readable else 'no'}; "
                 f"group-readable: {'yes' if policy.group_readable else 'no'}")
    for rule in policy.retention:
        grades = ", ".join(rule.grades) or "all grades"
        lines.append(f"  retention: {', '.join(rule.paths)}: {rule.max_age_days} days ({grades})")
    if policy.access is not None:
        access = policy.access
        lines.append(f"  any role may read: {', '.join(access.other_role_grades) or 'no graded data'}; "
                     f"PUBLIC: {', '.join(access.public_grades) or 'nothing'}; "
                     f"row security needed for: {', '.join(access.row_security_grades) or 'none'}")
        for role in access.roles:
            lines.append(f"  role {role.name} may read {', '.join(role.grades)} in {', '.join(role.objects)}")
    if policy.rules:
        lines += ["", "Rule overrides:"]
        lines += [f"  {rule_id}: {settings}" for rule_id, settings in sorted(policy.rules.items())]
    if policy.obligations:
        lines += ["", "Obligations (../shared/requirements.md) and the references this pack cites:"]
        lines += [f"  {number}. {reference}" for number, reference in sorted(policy.obligations.items())]
    click.echo("\n".join(lines))


@command.command("validate")
@click.argument("file", type=click.Path(dir_okay=False), metavar="FILE")
def validate_command(file: str) -> None:
    """Check a policy YAML file; every problem with file and line (exit 2 when invalid)."""
    from pathlib import Path

    from scanner.policy import known_entity_types, load_policy
    from scanner.yamlschema import ConfigError

    if not Path(file).is_file():
        raise click.UsageError(f"{file!r} does not exist; give a policy YAML file (see `privaudit policies show "
                               "financial-cn` for a complete pack).")
    try:
        policy = load_policy(file)
    except ConfigError as exc:
        _invalid(file, exc.errors)
    known = known_entity_types()
    click.echo(f"{file}: valid policy pack {policy.name!r} ({len(policy.grades)} grades, "
               f"{sum(1 for e in known if policy.grade_of(e) is not None)} graded entity types).")
    dropped = policy.ungraded(known)
    if dropped:
        click.echo(f"privaudit: {file}: no grade for {', '.join(dropped)}: their results are dropped; list them "
                   "under entities (null: not personal) or grade their kind under kinds.", err=True)


def _grading(policy: Policy) -> list[str]:
    """Each grade with the entity types and kinds it covers; what is not graded, and what would be
    dropped without a decision (neither listed nor of a graded kind)."""
    from scanner.policy import known_entity_types

    known = known_entity_types()
    dropped = policy.ungraded(known)
    lines = []
    for grade in sorted(policy.grades.values(), key=lambda g: -g.rank):
        entities = sorted(e for e in known if (g := policy.grade_of(e)) is not None and g.id == grade.id)
        kinds = sorted(k for k, g in policy.kinds.items() if g == grade.id)
        lines.append(f"  {grade.id:16} {grade.level.value:7} severity {grade.security_severity:4} {grade.title}")
        lines.append(f"  {'':16} {', '.join(entities) or '(no entity types)'}"
                     + (f" (kinds: {', '.join(kinds)})" if kinds else ""))
    not_graded = [e for e in known if policy.grade_of(e) is None and e not in dropped]
    if not_graded:
        lines.append(f"  not graded:      {', '.join(not_graded)}")
    if dropped:
        lines.append(f"  no grade given:  {', '.join(dropped)} (their results are dropped: list them under "
                     "entities or grade their kind under kinds)")
    return lines


def _invalid(name: str, errors: list[str]) -> None:
    click.echo(f"privaudit: policy {name} is not valid:\n" + "\n".join(f"  {e}" for e in errors), err=True)
    sys.exit(2)
