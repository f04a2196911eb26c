"""Every column holding personal data in plaintext, one result per column and entity type (obligation 1).

The listing is the inventory a reviewer needs (GDPR Art. 30 records of processing, JR/T 0171-2020
obligation 1: know where personal financial information is stored), so it does not depend on what
the policy says about encryption: a column the policy grades is listed at its grade's level, one the
pack leaves ungraded (``pci-dss`` and e-mail addresses) as a note. Whether the policy requires the
column to be encrypted at rest is a separate result (``db_pii_column_not_encrypted``); free-text
columns are listed by ``db_pii_in_free_text_column`` and authentication data by
``db_plaintext_c3_column``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext
from scanner.rules.databases._db import personal_columns, stores_data


@RULES.register
class DbPlaintextPiiColumn(Rule):
    id = "db_plaintext_pii_column"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        if not stores_data(scan):
            return
        policy = ctx.policy
        for column in personal_columns(scan, policy):
            if column.free_text:
                continue
            yield self.finding(
                column.resource,
                f"Column {column.object} holds {column.entity} in plaintext ({column.grade_text(policy)}): "
                f"{column.evidence()}",
                level=column.level(policy, self.id, self.metadata().default_level),
                grade=column.grade,
                entity_type=column.entity,
                matches=[m for m in scan.matches
                         if m.field == column.verdict.column and m.entity_type == column.entity],
                occurrences=column.count,
                properties=column.properties(),
            )
