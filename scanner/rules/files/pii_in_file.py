"""Plaintext graded personal data in a file share (obligations 2 and 4)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, plaintext_by_entity
from scanner.rules.files.pii_in_log import is_log


@RULES.register
class PiiInFile(Rule):
    id = "pii_in_file"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        if scan.resource.connector not in ("files", "sftp") or is_log(scan, ctx):
            return
        required = ctx.policy.encryption_required
        for entity, (grade, matches) in sorted(plaintext_by_entity(scan, ctx.policy).items()):
            if grade.id not in required:
                continue
            count = scan.occurrences[entity]
            yield self.finding(
                scan.resource,
                f"File {scan.resource.display_name} stores {count} plaintext {entity} value"
                f"{'s' if count != 1 else ''} (grade {grade.id}, which the policy requires to be encrypted)",
                level=ctx.policy.rule_level(self.id, grade, self.metadata().default_level),
                grade=grade,
                entity_type=entity,
                matches=matches,
                occurrences=count,
            )
