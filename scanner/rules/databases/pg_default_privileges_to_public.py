"""Default privileges give PUBLIC SELECT on future tables in a schema that holds graded data (obligation 3).

``ALTER DEFAULT PRIVILEGES ... GRANT SELECT ON TABLES TO PUBLIC`` (PostgreSQL docs, "ALTER DEFAULT
PRIVILEGES"; catalog ``pg_default_acl``) makes every table the owner creates later readable by every
role: the next table with customer data is exposed the moment it is created, without any GRANT in
the migration that creates it.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts import DefaultPrivilege, of_type
from scanner.model import Finding, Resource
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.databases._db import graded_by_table


@RULES.register
class PgDefaultPrivilegesToPublic(Rule):
    id = "pg_default_privileges_to_public"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        graded = [c for columns in graded_by_table(target, ctx.policy).values() for c in columns]
        for rule in of_type(target.facts, DefaultPrivilege):
            if rule.grantee != "PUBLIC":
                continue
            schema = rule.schema
            in_scope = [c for c in graded if schema is None or c.object.split(".", 1)[0] == schema]
            if not in_scope:
                continue
            top = max(in_scope, key=lambda c: c.grade.rank)
            where = f"in schema {schema}" if schema else "in every schema"
            examples = ", ".join(sorted(c.object for c in in_scope)[:5])
            resource = Resource(uri=rule.resource_uri, kind="schema", display_name=schema or "(all schemas)",
                                connector=target.connector, logical_name=schema or "*", logical_kind="schema")
            yield self.finding(
                resource,
                f"Default privileges of {rule.owner} grant {rule.privilege} on every future table {where} to "
                f"PUBLIC, where tables already hold {top.grade.id} data ({examples})",
                level=ctx.policy.rule_level(self.id, top.grade, self.metadata().default_level),
                grade=top.grade,
                entity_type=top.entity,
                discriminators=(rule.owner,),
                properties={"grantee": "PUBLIC", "privilege": rule.privilege, "object": f"{schema or '*'}.*",
                            "via": f"ALTER DEFAULT PRIVILEGES FOR ROLE {rule.owner}", "owner": rule.owner},
            )
