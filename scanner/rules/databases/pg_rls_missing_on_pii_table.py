"""A PostgreSQL table with C2/C3 data is readable at table level by other roles without row-level security.

The default pack asks that tables holding ``access.row_security_grades`` data restrict reads either
by row-level security (``ALTER TABLE ... ENABLE ROW LEVEL SECURITY``, docs "Row Security Policies")
or by column-level grants. A table whose only readers are its owner and superusers is not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.databases._db import facts_of, graded_by_table


@RULES.register
class PgRlsMissingOnPiiTable(Rule):
    id = "pg_rls_missing_on_pii_table"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        if ctx.policy.access is None:
            return
        wanted = ctx.policy.access.row_security_grades
        graded = graded_by_table(target, ctx.policy)
        tables = {s.resource.uri: s.resource for s in target.scans}
        for fact in facts_of(target, "table_security"):
            security = fact.data
            columns = [c for c in graded.get(fact.resource_uri, []) if c.grade.id in wanted]
            if security.get("relkind", "r") not in ("r", "p"):
                continue  # row security applies to tables (views: security_barrier/security_invoker)
            if not columns or security["rls"] or not security["table_grantees"]:
                continue
            top = max(columns, key=lambda c: c.grade.rank)
            resource = tables[fact.resource_uri]
            grantees = ", ".join(security["table_grantees"])
            yield self.finding(
                resource,
                f"Table {security['object']} holds {top.grade.id} data ({', '.join(c.object for c in columns)}) and "
                f"grants table-level SELECT to {grantees} without row-level security",
                level=ctx.policy.rule_level(self.id, None, self.metadata().default_level),
                grade=top.grade,
                entity_type=top.entity,
                properties={"object": security["object"], "grantees": security["table_grantees"],
                            "rls": security["rls"], "forceRls": security["force_rls"],
                            "columns": [c.object for c in columns], "owner": security["owner"]},
            )
