"""A migration statement the SQL parser could not read: the gate cannot vouch for what it does.

Many such statements are valid SQL the parser does not know yet (PostgreSQL's multi-object
``DROP INDEX a, b``, ``DROP FUNCTION f (_tbl regclass)``); the database rejects the others when the
migration runs. So the kind decides the level: a statement that can create or widen what the other
rules judge (a table, view, grant, policy, column comment) is an error, since a plaintext column or
a grant to PUBLIC inside it would pass unseen; anything else is a note. Being a result, it can be
suppressed inline with a reason or accepted in a baseline like any other.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import NotAnalysed
from scanner.migrations.rulebase import MigrationContext, MigrationRule
from scanner.model import Finding, Level
from scanner.registry import RULES


@RULES.register
class MigrationStatementNotAnalysed(MigrationRule):
    id = "migration_statement_not_analysed"
    handles = (NotAnalysed,)

    def check(self, event: NotAnalysed, ctx: MigrationContext) -> Iterator[Finding]:
        kind = event.kind or "statement"
        if event.relevant:
            message = (f"{kind} statement could not be parsed ({event.reason}), so the columns, grants or "
                       f"policies it sets were not judged; fix it, or suppress with a reason if PostgreSQL "
                       f"accepts it.")
            level = self.level_for(ctx, None)
        else:
            message = (f"{kind} statement not analysed: the parser cannot read it ({event.reason}); it creates no "
                       f"table, column or grant the rules judge.")
            level = Level.NOTE
        yield self.at_statement(
            event.statement, ctx, message, level=level, logical_name=None, logical_kind=None,
            discriminators=(event.statement.text,), properties={"statementKind": kind, "relevant": event.relevant},
        )
