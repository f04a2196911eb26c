"""Graded data granted to a role the least-privilege policy does not allow for that grade.

The role-per-grade allowance lives in the policy's ``access`` section; this rule only calls
``policy.access.role_allowed(role, grade_id, "schema.table.column")``. When the loaded policy has
no ``access`` section the rule reports nothing (PUBLIC and any-host accounts are still reported by
their own rules).
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import Granted
from scanner.migrations.rulebase import MigrationContext, MigrationRule
from scanner.model import Finding
from scanner.registry import RULES
from scanner.rules.migrations._grants import grant_finding


@RULES.register
class MigrationGrantPiiToUnapprovedRole(MigrationRule):
    id = "migration_grant_pii_to_unapproved_role"
    handles = (Granted,)

    def check(self, event: Granted, ctx: MigrationContext) -> Iterator[Finding]:
        access = getattr(ctx.policy, "access", None)
        allowed = getattr(access, "role_allowed", None)
        if allowed is None or not event.graded or event.grantee.is_public or event.grantee.wildcard_host:
            return
        role = event.grantee.name
        denied = [g for g in event.graded if not allowed(role, g.sensitivity.grade.id, g.qualified)]
        if denied:
            grades = ", ".join(sorted({g.sensitivity.grade.id for g in denied}))
            yield grant_finding(self, event, ctx, f"a role policy {ctx.policy.name} does not allow for {grades}",
                                graded=denied)
