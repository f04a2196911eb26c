"""A bucket that other AWS accounts may read: third-party sharing (obligations 3 and 6).

One finding per other account, so that a review diff shows exactly which sharing is new.
Accounts come from policy principals, from the account conditions of ``*`` statements, and from
ACL grants to other canonical users (which AWS identifies only by canonical ID).
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding, Level
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.object_storage._s3 import buckets, evidence, summary


@RULES.register
class S3BucketSharedCrossAccount(Rule):
    id = "s3_bucket_shared_cross_account"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        for view in buckets(target, ctx.policy):
            shared = view.posture.cross_account
            for account, via in sorted(shared.items()):
                top = view.top()
                holds = f" and {summary(view, view.graded)}" if view.graded else " (no graded data in the sample)"
                level = (
                    ctx.policy.rule_level(self.id, top[0], self.metadata().default_level)
                    if top
                    else ctx.policy.rule_level(self.id, None, Level.NOTE)
                )
                yield self.finding(
                    view.resource,
                    f"Bucket s3://{view.name} is shared with account {account} ({', '.join(via)}){holds}",
                    level=level,
                    grade=top[0] if top else None,
                    entity_type=top[1] if top else None,
                    occurrences=sum(sum(o.scan.occurrences[e] for e in o.found) for o in view.graded),
                    discriminators=(account,),
                    properties={
                        "evidence": evidence(top[2]) if top else [],
                        "account": account,
                        "grantedBy": list(via),
                        "entityTypes": view.entity_types(),
                    },
                )
