"""A migration makes a column hold graded personal data in plaintext (obligation 4)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import ColumnChanged
from scanner.migrations.rulebase import MigrationContext, MigrationRule, top_grade
from scanner.migrations.schema import Sensitivity
from scanner.model import Finding, Level
from scanner.policy import Policy
from scanner.registry import RULES

ACTIONS = {
    "create": "is created as",
    "add": "is added as",
    "type": "changes type to",
    "rename": "is renamed to a personal-data name, keeping type",
    "comment": "is described by its comment as personal data, stored as",
}


def needs_protection(sens: Sensitivity | None, policy: Policy) -> bool:
    return sens is not None and not sens.protected and sens.grade.id in policy.encryption_required


def became(event: ColumnChanged, test) -> bool:  # type: ignore[no-untyped-def]
    """True when ``test`` holds after the statement and did not before (no repeat per ALTER)."""
    return bool(test(event.after)) and not test(event.before)


def column_message(event: ColumnChanged, policy: Policy, requirement: str, what: str = "personal data") -> str:
    after = event.after
    assert after is not None
    classes = ", ".join(after.classes)
    if after.unconfirmed:
        return (
            f"Column {event.relation}.{event.column} {ACTIONS.get(event.action, 'becomes')} "
            f"{event.type_sql or 'an untyped column'}, named for {after.grade.id} {what} ({classes}); "
            f"{after.unconfirmed}: confirm the application never stores the plaintext (policy {policy.name} "
            f"{requirement}), then suppress with that reason."
        )
    return (
        f"Column {event.relation}.{event.column} {ACTIONS.get(event.action, 'becomes')} "
        f"{event.type_sql or 'an untyped column'} and holds {after.grade.id} {what} ({classes}) in "
        f"plaintext; policy {policy.name} {requirement}"
    )


def column_finding(rule: MigrationRule, event: ColumnChanged, ctx: MigrationContext, message: str,
                   entity_type: str | None = None) -> Finding:
    """The result of a column rule, on the column's own line and column; a note when what makes it
    plaintext is only likely (``unconfirmed`` says why), else the grade's level."""
    after = event.after
    assert after is not None
    return rule.at_statement(
        event.statement, ctx, message,
        level=Level.NOTE if after.unconfirmed else rule.level_for(ctx, after.grade),
        logical_name=f"{event.relation}.{event.column}", logical_kind="column",
        grade=after.grade, entity_type=entity_type or (after.classes[0] if after.classes else None),
        discriminators=(f"{event.relation}.{event.column}",), field=event.column,
        line=event.line, column=event.column_number,
        properties={"table": event.relation, "column": event.column, "columnType": event.type_sql,
                    "classes": list(after.classes), "action": event.action,
                    **({"unconfirmed": after.unconfirmed} if after.unconfirmed else {})},
    )


@RULES.register
class MigrationPlaintextPiiColumn(MigrationRule):
    id = "migration_plaintext_pii_column"
    handles = (ColumnChanged,)

    def check(self, event: ColumnChanged, ctx: MigrationContext) -> Iterator[Finding]:
        policy = ctx.policy
        top = top_grade(policy)

        def test(sens: Sensitivity | None) -> bool:
            return (needs_protection(sens, policy) and sens is not None and sens.grade.id != top.id
                    and not sens.credential_only)

        if not became(event, test):
            return
        after = event.after
        assert after is not None
        yield column_finding(self, event, ctx, column_message(
            event, policy, f"requires {after.grade.id} data to be encrypted or hashed at rest"))
