"""Graded objects stored without server-side encryption (obligation 4).

Object-level encryption (what ``GetObject`` reports) decides; the bucket default only explains
why. Grades in scope are the policy's ``encryption.required_grades``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.object_storage._s3 import buckets, evidence, examples, summary


@RULES.register
class S3BucketUnencryptedWithPii(Rule):
    id = "s3_bucket_unencrypted_with_pii"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        required = set(ctx.policy.encryption_required)
        for view in buckets(target, ctx.policy):
            plain = [o for o in view.graded if o.encryption == "none" and o.grade.id in required]
            if not plain:
                continue
            grade, entity, matches = view.top(plain)  # type: ignore[misc]
            default = view.posture.encryption
            why = "has no default encryption" if default == "none" else f"has default encryption {default}"
            yield self.finding(
                view.resource,
                f"Bucket s3://{view.name} {why} and {summary(view, plain)}, stored without server-side encryption",
                level=ctx.policy.rule_level(self.id, grade, self.metadata().default_level),
                grade=grade,
                entity_type=entity,
                occurrences=sum(sum(o.scan.occurrences[e] for e in o.found) for o in plain),
                properties={
                    "evidence": evidence(matches),
                    "defaultEncryption": default,
                    "objects": examples(plain),
                    "entityTypes": view.entity_types(plain),
                },
            )
