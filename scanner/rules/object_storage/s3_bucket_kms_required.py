"""Graded objects encrypted with SSE-S3 where the policy wants a KMS key (obligation 4).

SSE-S3 keys are managed by S3 itself: anyone allowed ``s3:GetObject`` reads the plaintext. With
SSE-KMS reading also needs ``kms:Decrypt`` on a key the bank controls and audits, which is what
rulebooks mean by encryption of C2/C3 data. The grades that need KMS come from
``ScanOptions.extra["s3_kms_required_grades"]`` when given (a per-scan override), else from the policy's
``encryption.kms_required_grades`` (financial-cn: C3); with neither, the rule is silent.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.object_storage._s3 import buckets, evidence, examples, summary


def kms_required_grades(ctx: RuleContext) -> set[str]:
    override = ctx.options.get("s3_kms_required_grades")
    if override is not None:
        return set(override)
    return set(ctx.policy.kms_required_grades)


@RULES.register
class S3BucketKmsRequired(Rule):
    id = "s3_bucket_kms_required"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        required = kms_required_grades(ctx)
        if not required:
            return
        for view in buckets(target, ctx.policy):
            weak = [o for o in view.graded if o.encryption == "SSE-S3" and o.grade.id in required]
            if not weak:
                continue
            grade, entity, matches = view.top(weak)  # type: ignore[misc]
            yield self.finding(
                view.resource,
                f"Bucket s3://{view.name}: {summary(view, weak)}, encrypted with SSE-S3 rather than SSE-KMS as the "
                f"policy requires for {', '.join(sorted(required))}",
                level=ctx.policy.rule_level(self.id, grade, self.metadata().default_level),
                grade=grade,
                entity_type=entity,
                occurrences=sum(sum(o.scan.occurrences[e] for e in o.found) for o in weak),
                properties={
                    "evidence": evidence(matches),
                    "defaultEncryption": view.posture.encryption,
                    "objects": examples(weak),
                    "kmsRequiredGrades": sorted(required),
                },
            )
