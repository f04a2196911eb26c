"""A MySQL/MariaDB account that may log in from any host ('%') can read graded data (obligations 3 and 8)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.databases._db import (
    access_message,
    access_properties,
    exposed_columns,
)


@RULES.register
class MysqlWildcardHostReadsPii(Rule):
    id = "mysql_wildcard_host_reads_pii"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        allowed = ctx.policy.access.wildcard_host_grades if ctx.policy.access else ()
        for access, column in exposed_columns(target, ctx.policy, lambda a: a.wildcard_host, allowed):
            yield self.finding(
                column.resource,
                access_message(access, column, f"the account may connect from any host ({access.host!r})"),
                level=ctx.policy.rule_level(self.id, column.grade, self.metadata().default_level),
                grade=column.grade,
                entity_type=column.entity,
                discriminators=(access.grantee,),
                properties={**access_properties(access, column), "host": access.host},
            )
