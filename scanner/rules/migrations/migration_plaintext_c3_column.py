"""A migration stores authentication data (C3) in plaintext: never acceptable (obligation 4)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import ColumnChanged
from scanner.migrations.rulebase import MigrationContext, MigrationRule, top_grade
from scanner.migrations.schema import Sensitivity
from scanner.model import Finding
from scanner.registry import RULES
from scanner.rules.migrations.migration_plaintext_pii_column import became, column_finding, column_message


@RULES.register
class MigrationPlaintextC3Column(MigrationRule):
    id = "migration_plaintext_c3_column"
    handles = (ColumnChanged,)

    def check(self, event: ColumnChanged, ctx: MigrationContext) -> Iterator[Finding]:
        top = top_grade(ctx.policy)

        def test(sens: Sensitivity | None) -> bool:
            return sens is not None and not sens.protected and sens.grade.id == top.id and not sens.credential_only

        if not became(event, test):
            return
        requirement = f"allows {top.id} data only hashed or encrypted, never in plaintext"
        message = column_message(event, ctx.policy, requirement, what="authentication data")
        yield column_finding(self, event, ctx, message)
