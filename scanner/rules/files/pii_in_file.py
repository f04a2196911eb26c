"""Plaintext graded personal data in a file share (obligations 2 and 4)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.connector import store_of
from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, counted, plaintext_by_entity
from scanner.rules.files.pii_in_log import is_log


@RULES.register
class PiiInFile(Rule):
    id = "pii_in_file"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        if store_of(scan.resource.connector) != "file-share" or is_log(scan, ctx):
            return
        required = ctx.policy.encryption_required
        path = scan.resource.logical_name or scan.resource.relative_path or scan.resource.display_name
        for entity, (grade, matches) in sorted(plaintext_by_entity(scan, ctx.policy).items()):
            if grade.id not in required:
                continue
            count, distinct = scan.occurrences[entity], scan.distinct_count(entity)
            yield self.finding(
                scan.resource,
                f"Plaintext {entity} (grade {grade.id}, which the policy requires to be encrypted) in file "
                f"{scan.resource.display_name}: {counted(distinct, 'distinct value')}, {counted(count, 'occurrence')}",
                level=ctx.policy.file_level(self.id, grade, self.metadata().default_level, {entity: distinct}, path),
                grade=grade,
                entity_type=entity,
                matches=matches,
                occurrences=count,
                properties={"distinct": distinct},
            )
