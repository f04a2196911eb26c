"""A PostgreSQL table with C2/C3 data is readable at table level by other roles without row-level security.

The default pack asks that tables holding ``access.row_security_grades`` data restrict reads either
by row-level security (``ALTER TABLE ... ENABLE ROW LEVEL SECURITY``, docs "Row Security Policies")
or by column-level grants. A table whose only readers are its owner and superusers is not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts import TableSecurity, of_type
from scanner.model import Finding
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.databases._db import graded_by_table


@RULES.register
class PgRlsMissingOnPiiTable(Rule):
    id = "pg_rls_missing_on_pii_table"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        if ctx.policy.access is None:
            return
        wanted = ctx.policy.access.row_security_grades
        graded = graded_by_table(target, ctx.policy)
        tables = {s.resource.uri: s.resource for s in target.scans}
        for security in of_type(target.facts, TableSecurity):
            columns = [c for c in graded.get(security.resource_uri, []) if c.grade.id in wanted]
            if security.relkind not in ("r", "p"):
                continue  # row security applies to tables (views: security_barrier/security_invoker)
            if not columns or security.rls or not security.table_grantees:
                continue
            top = max(columns, key=lambda c: c.grade.rank)
            resource = tables[security.resource_uri]
            grantees = ", ".join(security.table_grantees)
            yield self.finding(
                resource,
                f"Table {security.object} holds {top.grade.id} data ({', '.join(c.object for c in columns)}) and "
                f"grants table-level SELECT to {grantees} without row-level security",
                level=ctx.policy.rule_level(self.id, None, self.metadata().default_level),
                grade=top.grade,
                entity_type=top.entity,
                properties={"object": security.object, "grantees": list(security.table_grantees),
                            "rls": security.rls, "forceRls": security.force_rls,
                            "columns": [c.object for c in columns], "owner": security.owner},
            )
