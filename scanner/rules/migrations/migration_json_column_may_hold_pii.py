"""A JSON column of a table of people: it may hold contact data its name does not show (a note).

``auth.users.raw_user_meta_data``, ``auth.identities.identity_data`` and Ory Kratos
``identities.traits`` are JSON documents the application fills with e-mail addresses, phone numbers
and names from sign-up forms and identity providers. The column's name says nothing a classifier can
grade, and migrations have no values, so the gate cannot judge them; saying nothing would hide the
largest store of contact data in those schemas. A note asks to record what the document holds:
its schema (encrypt the fields that need it) or a suppression with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import ColumnChanged
from scanner.migrations.rulebase import MigrationContext, MigrationRule
from scanner.model import Finding
from scanner.registry import RULES
from scanner.rules.migrations.migration_plaintext_pii_column import ACTIONS


@RULES.register
class MigrationJsonColumnMayHoldPii(MigrationRule):
    id = "migration_json_column_may_hold_pii"
    handles = (ColumnChanged,)

    def check(self, event: ColumnChanged, ctx: MigrationContext) -> Iterator[Finding]:
        if not event.container or event.after is not None or event.action not in ("create", "add", "type"):
            return
        yield self.at_statement(
            event.statement, ctx,
            f"Column {event.relation}.{event.column} {ACTIONS.get(event.action, 'becomes')} {event.type_sql}, a JSON "
            f"document in a table of people: it may hold e-mail addresses, phone numbers or names in plaintext that "
            f"no column name shows. Record which fields it holds and encrypt the personal ones, or suppress with "
            f"that reason.",
            level=self.level_for(ctx, None), logical_name=f"{event.relation}.{event.column}", logical_kind="column",
            discriminators=(f"{event.relation}.{event.column}",), field=event.column,
            line=event.line, column=event.column_number,
            properties={"table": event.relation, "column": event.column, "columnType": event.type_sql,
                        "action": event.action},
        )
