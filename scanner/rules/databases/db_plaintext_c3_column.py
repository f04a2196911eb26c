"""Authentication data (C3: passwords, PINs, card verification codes) stored in plaintext (obligation 4)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext
from scanner.rules.databases._db import graded_columns, stores_data, top_grade


@RULES.register
class DbPlaintextC3Column(Rule):
    id = "db_plaintext_c3_column"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        if not stores_data(scan):
            return
        c3 = top_grade(ctx.policy)
        for column in graded_columns(scan, ctx.policy):
            if column.grade.id != c3.id:
                continue
            yield self.finding(
                column.resource,
                f"Column {column.object} stores {c3.id} authentication data ({column.entity}) in plaintext: "
                f"{column.evidence()}; {c3.id} must only be stored hashed or encrypted",
                level=ctx.policy.rule_level(self.id, None, self.metadata().default_level),
                grade=c3,
                entity_type=column.entity,
                matches=[m for m in scan.matches if m.field == column.verdict.column],
                occurrences=column.verdict.non_null,
                properties=column.properties(),
            )
