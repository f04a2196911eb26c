"""Graded data granted to PUBLIC: every database role can read it (obligations 3 and 8)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import Granted
from scanner.migrations.rulebase import MigrationContext, MigrationRule, not_allowed_for
from scanner.model import Finding
from scanner.registry import RULES
from scanner.rules.migrations._grants import grant_finding


@RULES.register
class MigrationGrantPiiToPublic(MigrationRule):
    id = "migration_grant_pii_to_public"
    handles = (Granted,)

    def check(self, event: Granted, ctx: MigrationContext) -> Iterator[Finding]:
        if not event.grantee.is_public:
            return
        denied = not_allowed_for(event.graded, ctx.policy, "public_grades")
        if denied:
            yield grant_finding(self, event, ctx, "every role in the database", graded=denied)
