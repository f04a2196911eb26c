"""A column holding graded personal data in plaintext where the policy requires encryption at rest (obligation 4).

One result per column (the column is what gets encrypted), named by its most sensitive graded entity
type. The column is also listed by ``db_plaintext_pii_column`` (personal data, whatever the policy);
authentication data (the policy's top grade) is ``db_plaintext_c3_column``'s, free-text columns are
``db_pii_in_free_text_column``'s (the fix there is to remove the copies, not to encrypt the notes).
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext
from scanner.rules.databases._db import graded_columns, stores_data, top_grade


@RULES.register
class DbPiiColumnNotEncrypted(Rule):
    id = "db_pii_column_not_encrypted"

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
                matches=[m for m in scan.matches if m.field == column.verdict.column],
                occurrences=sum(column.verdict.entities.values()) or column.verdict.non_null,
                properties=column.properties(),
            )
