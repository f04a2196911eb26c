"""A column holding graded personal data in plaintext where the policy requires encryption (obligation 4)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext
from scanner.rules.databases._db import graded_columns, stores_data, top_grade


@RULES.register
class DbPlaintextPiiColumn(Rule):
    id = "db_plaintext_pii_column"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        if not stores_data(scan):
            return
        policy = ctx.policy
        c3 = top_grade(policy)
        for column in graded_columns(scan, policy):
            if column.free_text or column.grade.id == c3.id or column.grade.id not in policy.encryption_required:
                continue
            yield self.finding(
                column.resource,
                f"Column {column.object} stores {column.grade.id} personal data ({column.entity}) in plaintext: "
                f"{column.evidence()}; policy {policy.name} requires {column.grade.id} to be encrypted at rest",
                level=policy.rule_level(self.id, column.grade, self.metadata().default_level),
                grade=column.grade,
                entity_type=column.entity,
                matches=[m for m in scan.matches if m.field == column.verdict["column"]],
                occurrences=sum(column.verdict["entities"].values()) or column.verdict["non_null"],
                properties=column.properties(),
            )
