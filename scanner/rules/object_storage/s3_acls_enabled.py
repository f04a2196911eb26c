"""A bucket on which ACLs still grant access (obligation 3).

AWS recommends disabling ACLs (Object Ownership "bucket owner enforced") so that access is decided
by policies alone; with ACLs enabled any object can be made public or shared on its own, which a
permission audit of the bucket policy does not see. A note for buckets without graded data, a
warning for buckets that hold some.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding, Level
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.object_storage._s3 import buckets


@RULES.register
class S3AclsEnabled(Rule):
    id = "s3_acls_enabled"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        for view in buckets(target, ctx.policy):
            if view.posture.acls_enabled is not True:
                continue
            top = view.top()
            ownership = view.posture.object_ownership or "not set"
            count = len(view.graded)
            plural = "s" if count != 1 else ""
            holds = f"; it holds {top[0].id} personal data in {count} sampled object{plural}" if top else ""
            yield self.finding(
                view.resource,
                f"Bucket s3://{view.name} has ACLs enabled (Object Ownership {ownership}){holds}",
                level=ctx.policy.rule_level(self.id, None, Level.WARNING if top else Level.NOTE),
                grade=top[0] if top else None,
                properties={"objectOwnership": ownership},
            )
