"""Identifiers inside free-text columns (notes, remarks, JSON payloads): exposure by copy-paste (obligation 2)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext
from scanner.rules.databases._db import graded_columns, stores_data


@RULES.register
class DbPiiInFreeTextColumn(Rule):
    id = "db_pii_in_free_text_column"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        if not stores_data(scan):
            return
        for column in graded_columns(scan, ctx.policy):
            if not column.free_text:
                continue
            count = sum(column.verdict["entities"].values())
            yield self.finding(
                column.resource,
                f"Free-text column {column.object} contains {count} {column.grade.id} identifier"
                f"{'s' if count != 1 else ''} ({', '.join(sorted(column.verdict['entities']))}) in "
                f"{column.evidence()}",
                level=ctx.policy.rule_level(self.id, None, self.metadata().default_level),
                grade=column.grade,
                entity_type=column.entity,
                matches=[m for m in scan.matches if m.field == column.verdict["column"]],
                occurrences=count,
                properties=column.properties(),
            )
