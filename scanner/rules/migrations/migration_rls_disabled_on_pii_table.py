"""Row-level security switched off on a table holding graded data (obligation 3)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import GradedColumn, RowSecurityChanged
from scanner.migrations.rulebase import (
    MigrationContext,
    MigrationRule,
    access_policy,
    describe,
    graded_properties,
    highest,
)
from scanner.model import Finding
from scanner.registry import RULES


def row_security_graded(graded: list[GradedColumn], ctx: MigrationContext) -> list[GradedColumn]:
    """Graded columns whose grade needs row-level security (``access.row_security_grades``; all
    graded columns when the policy has no access section)."""
    access = access_policy(ctx.policy)
    grades = getattr(access, "row_security_grades", None) if access is not None else None
    return [g for g in graded if grades is None or g.sensitivity.grade.id in grades]


@RULES.register
class MigrationRlsDisabledOnPiiTable(MigrationRule):
    id = "migration_rls_disabled_on_pii_table"
    handles = (RowSecurityChanged,)

    def check(self, event: RowSecurityChanged, ctx: MigrationContext) -> Iterator[Finding]:
        graded = row_security_graded(event.graded, ctx)
        if event.action != "disable" or not graded:
            return
        top = highest(graded)
        yield self.at_statement(
            event.statement, ctx,
            f"Row-level security is disabled on {event.relation}, which holds graded personal data "
            f"({describe(graded)}): every role with SELECT now reads every customer's rows",
            level=self.level_for(ctx, top.sensitivity.grade),
            logical_name=event.relation, logical_kind="table", grade=top.sensitivity.grade,
            discriminators=(event.relation,),
            properties={"table": event.relation, **graded_properties(graded)},
        )
