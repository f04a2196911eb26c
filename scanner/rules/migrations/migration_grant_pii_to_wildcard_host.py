"""Graded data granted to a MySQL account that may connect from any host (obligations 3 and 8)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import Granted
from scanner.migrations.rulebase import MigrationContext, MigrationRule, not_allowed_for
from scanner.model import Finding
from scanner.registry import RULES
from scanner.rules.migrations._grants import grant_finding


@RULES.register
class MigrationGrantPiiToWildcardHost(MigrationRule):
    id = "migration_grant_pii_to_wildcard_host"
    handles = (Granted,)

    def check(self, event: Granted, ctx: MigrationContext) -> Iterator[Finding]:
        if not event.grantee.wildcard_host:
            return
        denied = not_allowed_for(event.graded, ctx.policy, "wildcard_host_grades")
        if denied:
            yield grant_finding(self, event, ctx, "an account that may connect from any host", graded=denied)
