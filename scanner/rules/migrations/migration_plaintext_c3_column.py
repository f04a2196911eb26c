"""A migration stores authentication data (C3) in plaintext: never acceptable (obligation 4)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import ColumnChanged
from scanner.migrations.rulebase import MigrationContext, MigrationRule, top_grade
from scanner.migrations.schema import Sensitivity
from scanner.model import Finding, Level
from scanner.registry import RULES
from scanner.rules.migrations.migration_plaintext_pii_column import became, column_message


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
        after = event.after
        assert after is not None
        yield self.at_statement(
            event.statement, ctx,
            column_message(event, ctx.policy, f"allows {top.id} data only hashed or encrypted, never in plaintext",
                           what="authentication data"),
            level=Level.NOTE if after.unconfirmed else self.level_for(ctx, after.grade),
            logical_name=f"{event.relation}.{event.column}", logical_kind="column",
            grade=after.grade, entity_type=after.classes[0] if after.classes else None,
            discriminators=(f"{event.relation}.{event.column}",), field=event.column,
            line=event.line, column=event.column_number,
            properties={"table": event.relation, "column": event.column, "columnType": event.type_sql,
                        "classes": list(after.classes), "action": event.action,
                        **({"unconfirmed": after.unconfirmed} if after.unconfirmed else {})},
        )
