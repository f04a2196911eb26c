"""Shared message/finding helper for the GRANT rules (not a rule: the leading underscore keeps
the registry from treating it as one)."""

from __future__ import annotations

from collections.abc import Sequence

from scanner.migrations.events import GradedColumn, Granted
from scanner.migrations.rulebase import MigrationContext, MigrationRule, describe, graded_properties, highest
from scanner.model import Finding


def grant_finding(rule: MigrationRule, event: Granted, ctx: MigrationContext, audience: str,
                  graded: Sequence[GradedColumn] | None = None, extra: str = "") -> Finding:
    graded = list(graded if graded is not None else event.graded)
    top = highest(graded)
    privileges = ", ".join(sorted(event.privileges))
    how = f" through {event.implicit_via}" if event.implicit_via else ""
    message = (
        f"{privileges} on {event.securable} is granted to {event.grantee.display}{how} ({audience}), which opens "
        f"graded personal data: {describe(graded)}{extra}"
    )
    properties = {"grantee": event.grantee.display, "privileges": sorted(event.privileges),
                  "securable": event.securable, "relations": event.targets, **graded_properties(graded)}
    if event.implicit_via:
        properties["implicitVia"] = event.implicit_via
    return rule.at_statement(
        event.statement, ctx, message,
        level=rule.level_for(ctx, top.sensitivity.grade),
        logical_name=event.securable, logical_kind="table",
        grade=top.sensitivity.grade, entity_type=top.sensitivity.classes[0] if top.sensitivity.classes else None,
        discriminators=(event.securable, event.grantee.key),
        properties=properties,
    )
