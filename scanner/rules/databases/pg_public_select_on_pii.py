"""PUBLIC (every role, present and future) can read a column holding graded personal data (obligation 3)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts import ReadAccess, of_type
from scanner.model import Finding
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.databases._db import (
    access_message,
    access_properties,
    graded_by_table,
    readable_columns,
)


@RULES.register
class PgPublicSelectOnPii(Rule):
    id = "pg_public_select_on_pii"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        allowed = ctx.policy.access.public_grades if ctx.policy.access else ()
        graded = graded_by_table(target, ctx.policy)
        for access in of_type(target.facts, ReadAccess):
            if access.grantee_kind != "public":
                continue
            for column in readable_columns(access, graded.get(access.resource_uri, [])):
                if column.grade.id in allowed:
                    continue
                yield self.finding(
                    column.resource,
                    access_message(access, column, "every role in the cluster, present and future, can read it"),
                    level=ctx.policy.rule_level(self.id, column.grade, self.metadata().default_level),
                    grade=column.grade,
                    entity_type=column.entity,
                    discriminators=("PUBLIC",),
                    properties=access_properties(access, column),
                )
