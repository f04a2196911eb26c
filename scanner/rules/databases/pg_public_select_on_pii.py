"""PUBLIC (every role, present and future) can read a column holding graded personal data (obligation 3)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.databases._db import (
    access_message,
    access_properties,
    exposed_columns,
)


@RULES.register
class PgPublicSelectOnPii(Rule):
    id = "pg_public_select_on_pii"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        allowed = ctx.policy.access.public_grades if ctx.policy.access else ()
        for access, column in exposed_columns(target, ctx.policy, lambda a: a.grantee_kind == "public", allowed):
            yield self.finding(
                column.resource,
                access_message(access, column, "every role in the cluster, present and future, can read it"),
                level=ctx.policy.rule_level(self.id, column.grade, self.metadata().default_level),
                grade=column.grade,
                entity_type=column.entity,
                discriminators=("PUBLIC",),
                properties=access_properties(access, column),
            )
