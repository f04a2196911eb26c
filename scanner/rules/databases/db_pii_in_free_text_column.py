"""Identifiers inside free-text columns (notes, remarks, JSON payloads): exposure by copy-paste (obligation 2).

One result per column and entity type found, each with its own count, so a notes column holding
resident IDs and mobile numbers says how many of each. Types the pack does not grade are listed as
notes (personal data all the same).
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding, Level, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext
from scanner.rules.databases._db import personal_columns, stores_data


@RULES.register
class DbPiiInFreeTextColumn(Rule):
    id = "db_pii_in_free_text_column"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        if not stores_data(scan):
            return
        policy = ctx.policy
        for column in personal_columns(scan, policy):
            if not column.free_text:
                continue
            count = column.count
            default = self.metadata().default_level
            yield self.finding(
                column.resource,
                f"Free-text column {column.object} contains {count:,} {column.entity} value"
                f"{'s' if count != 1 else ''} ({column.grade_text(policy)}) in "
                f"{column.verdict.shares.get(column.entity, 0):.0%} of {column.verdict.non_null} "
                f"sampled values",
                level=policy.rule_level(self.id, None, default if column.grade is not None else Level.NOTE),
                grade=column.grade,
                entity_type=column.entity,
                matches=[m for m in scan.matches
                         if m.field == column.verdict.column and m.entity_type == column.entity],
                occurrences=count,
                properties=column.properties(),
            )
