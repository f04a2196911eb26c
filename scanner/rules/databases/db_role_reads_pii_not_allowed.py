"""A role or account can read graded data the least-privilege policy does not allow it (obligation 3).

Effective access comes from the connector's ``access`` facts (direct grants, inherited role
membership with the path, superuser, pg_read_all_data, MySQL global/schema/table/column privileges
and roles). A role is allowed when it, or any role on its membership path, is allowed the grade by
the policy's ``access`` section. PUBLIC and wildcard-host accounts have their own rules; table
owners are not reported (ownership is structural; owners are reviewed with the schema). Without an
``access`` section in the policy this rule reports nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts import ReadAccess, of_type
from scanner.model import Finding
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.databases._db import (
    access_message,
    access_properties,
    graded_by_table,
    readable_columns,
    role_names,
)


@RULES.register
class DbRoleReadsPiiNotAllowed(Rule):
    id = "db_role_reads_pii_not_allowed"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        policy = ctx.policy.access
        if policy is None:
            return
        graded = graded_by_table(target, ctx.policy)
        for access in of_type(target.facts, ReadAccess):
            if access.grantee_kind == "public" or access.wildcard_host:
                continue
            if access.owner and access.via != "superuser":
                continue
            path = [name for label in access.path or (access.grantee,) for name in role_names(label)]
            if any(policy.exempt(role) for role in path):
                continue
            for column in readable_columns(access, graded.get(access.resource_uri, [])):
                if any(policy.role_allowed(role, column.grade.id, column.object) for role in path):
                    continue
                yield self.finding(
                    column.resource,
                    access_message(access, column, f"policy {ctx.policy.name} does not allow this role to read "
                                                   f"{column.grade.id}"),
                    level=ctx.policy.rule_level(self.id, column.grade, self.metadata().default_level),
                    grade=column.grade,
                    entity_type=column.entity,
                    discriminators=(access.grantee,),
                    properties=access_properties(access, column),
                )
