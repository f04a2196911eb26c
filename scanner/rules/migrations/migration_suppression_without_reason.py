"""An inline ``privaudit:ignore`` without ``reason:``: not honoured, and reported itself.

Waivers must be reviewable evidence (obligation 9): a suppression with no reason says nothing to an
auditor, so it does not suppress anything, and this finding points at the comment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.migrations.rulebase import MigrationContext, MigrationRule
from scanner.model import Finding
from scanner.registry import RULES

if TYPE_CHECKING:
    from scanner.migrations.parsing import Statement, Suppression


@RULES.register
class MigrationSuppressionWithoutReason(MigrationRule):
    id = "migration_suppression_without_reason"

    def for_suppression(self, statement: Statement, suppression: Suppression, ctx: MigrationContext) -> Finding:
        rules = ", ".join(suppression.rules) or "(no rule named)"
        return self.at_statement(
            statement, ctx,
            f"privaudit:ignore {rules} has no 'reason: <text>'; the suppression is not applied. Add why the "
            f"result is acceptable, e.g. -- privaudit:ignore {rules} reason: tokenized upstream, ticket SEC-123",
            level=self.level_for(ctx, None), logical_name=None, logical_kind=None,
            discriminators=(rules, statement.text), line=suppression.line,
            properties={"suppressedRules": list(suppression.rules)},
        )
