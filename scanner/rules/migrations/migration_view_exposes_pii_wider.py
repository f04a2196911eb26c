"""A view showing graded base columns is granted to a role that cannot read the base table."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import Granted
from scanner.migrations.rulebase import MigrationContext, MigrationRule, describe, graded_properties, highest
from scanner.model import Finding
from scanner.registry import RULES


@RULES.register
class MigrationViewExposesPiiWider(MigrationRule):
    id = "migration_view_exposes_pii_wider"
    handles = (Granted,)

    def check(self, event: Granted, ctx: MigrationContext) -> Iterator[Finding]:
        # PUBLIC and any-host grants are reported (more severely) by their own rules.
        if not event.wider or event.grantee.is_public or event.grantee.wildcard_host:
            return
        columns = [c for c, _ in event.wider]
        bases = sorted({base for _, base in event.wider})
        top = highest(columns)
        yield self.at_statement(
            event.statement, ctx,
            f"View {event.securable} is granted to {event.grantee.display}, which cannot read the base columns "
            f"({', '.join(bases)}); the view exposes graded personal data more widely than its table: "
            f"{describe(columns)}",
            level=self.level_for(ctx, top.sensitivity.grade),
            logical_name=event.securable, logical_kind="view", grade=top.sensitivity.grade,
            discriminators=(event.securable, event.grantee.key),
            properties={"grantee": event.grantee.display, "baseColumns": bases, **graded_properties(columns)},
        )
