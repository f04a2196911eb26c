"""A bucket anyone can read that holds graded personal data (obligations 3 and 8).

"Public" is decided by the connector in S3's own evaluation order: Block Public Access (account
and bucket, most restrictive wins) first, then ACLs (ignored when ACLs are disabled), then
policy statements with a ``*`` principal that no fixed-value condition narrows.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.object_storage._s3 import buckets, evidence, examples, summary


@RULES.register
class S3BucketPublicWithPii(Rule):
    id = "s3_bucket_public_with_pii"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        for view in buckets(target, ctx.policy):
            if not view.posture.public or not view.graded:
                continue
            grade, entity, matches = view.top()  # type: ignore[misc]
            via = "; ".join(view.posture.public_via)
            yield self.finding(
                view.resource,
                f"Bucket s3://{view.name} is publicly readable ({via}) and {summary(view, view.graded)}",
                level=ctx.policy.rule_level(self.id, grade, self.metadata().default_level),
                grade=grade,
                entity_type=entity,
                occurrences=sum(sum(o.scan.occurrences[e] for e in o.found) for o in view.graded),
                properties={
                    "evidence": evidence(matches),
                    "publicVia": list(view.posture.public_via),
                    "entityTypes": view.entity_types(),
                    "objects": examples(view.graded),
                },
            )
