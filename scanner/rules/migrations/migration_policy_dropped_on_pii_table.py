"""A row-level security policy dropped from a table holding graded data (obligation 3)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import PolicyDropped
from scanner.migrations.rulebase import (
    MigrationContext,
    MigrationRule,
    describe,
    graded_properties,
    highest,
)
from scanner.model import Finding
from scanner.registry import RULES
from scanner.rules.migrations.migration_rls_disabled_on_pii_table import row_security_graded


@RULES.register
class MigrationPolicyDroppedOnPiiTable(MigrationRule):
    id = "migration_policy_dropped_on_pii_table"
    handles = (PolicyDropped,)

    def check(self, event: PolicyDropped, ctx: MigrationContext) -> Iterator[Finding]:
        graded = row_security_graded(event.graded, ctx)
        if not graded:
            return
        top = highest(graded)
        # Dropping a RESTRICTIVE policy widens access for sure: level of the grade. Dropping a
        # permissive one may narrow it; it still changes who sees graded rows and needs review.
        level = self.level_for(ctx, top.sensitivity.grade) if event.restrictive else self.level_for(ctx, None)
        kind = "restrictive " if event.restrictive else ""
        yield self.at_statement(
            event.statement, ctx,
            f"Row-level security {kind}policy {event.policy} is dropped from {event.relation}, which holds graded "
            f"personal data ({describe(graded)}); {event.remaining} policy(ies) remain",
            level=level,
            logical_name=event.relation, logical_kind="table", grade=top.sensitivity.grade,
            discriminators=(event.relation, event.policy),
            properties={"table": event.relation, "policy": event.policy, "restrictive": event.restrictive,
                        "remainingPolicies": event.remaining, "rlsEnabled": event.rls,
                        **graded_properties(graded)},
        )
