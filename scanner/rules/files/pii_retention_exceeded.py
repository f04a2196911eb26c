"""Graded personal data kept longer than the policy's retention limit (obligation 7)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from scanner.model import Finding, ResourceScan
from scanner.policy import _glob
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, plaintext_by_entity


@RULES.register
class PiiRetentionExceeded(Rule):
    id = "pii_retention_exceeded"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        resource = scan.resource
        if resource.mtime is None or not ctx.policy.retention:
            return
        path = resource.logical_name or resource.relative_path or resource.display_name
        found = plaintext_by_entity(scan, ctx.policy)
        if not found:
            return
        age_days = (ctx.now - dt.datetime.fromtimestamp(resource.mtime, dt.UTC)).days
        for rule in ctx.policy.retention:
            if not any(_glob(path, p) for p in rule.paths):
                continue
            in_scope = {e: v for e, v in found.items() if not rule.grades or v[0].id in rule.grades}
            if not in_scope or age_days <= rule.max_age_days:
                continue
            entity, (grade, matches) = max(in_scope.items(), key=lambda item: (item[1][0].rank, item[0]))
            yield self.finding(
                resource,
                f"{grade.id} personal data kept past the {rule.max_age_days}-day retention limit in "
                f"{resource.display_name}: {age_days} days old",
                level=ctx.policy.rule_level(self.id, grade, self.metadata().default_level),
                grade=grade,
                entity_type=entity,
                matches=matches,
                occurrences=sum(scan.occurrences[e] for e in in_scope),
                properties={"ageDays": age_days, "maxAgeDays": rule.max_age_days, "entityTypes": sorted(in_scope)},
            )
            return
