"""Plaintext personal data in a log file (obligations 2 and 5: logs must mask)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.connector import store_of
from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, counted, plaintext_by_entity


def is_log(scan: ResourceScan, ctx: RuleContext) -> bool:
    resource = scan.resource
    return store_of(resource.connector) in ("file-share", "object-storage") and ctx.policy.is_log(
        resource.logical_name or resource.relative_path or resource.display_name
    )


@RULES.register
class PiiInLog(Rule):
    id = "pii_in_log"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        if not is_log(scan, ctx):
            return
        for entity, (grade, matches) in sorted(plaintext_by_entity(scan, ctx.policy).items()):
            count = scan.occurrences[entity]
            masked = scan.masked.get(entity, 0)
            yield self.finding(
                scan.resource,
                f"Unmasked {entity} (grade {grade.id}) in log {scan.resource.display_name}: "
                f"{counted(scan.distinct_count(entity), 'distinct value')}, {counted(count, 'occurrence')}",
                level=ctx.policy.rule_level(self.id, grade, self.metadata().default_level),
                grade=grade,
                entity_type=entity,
                matches=matches,
                occurrences=count,
                properties={"masked": masked} if masked else None,
            )
