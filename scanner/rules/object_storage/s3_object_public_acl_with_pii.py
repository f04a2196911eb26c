"""One object whose own ACL makes it public while it holds graded personal data (obligations 3, 8).

Object ACLs count only while ACLs are enabled on the bucket and ``IgnorePublicAcls`` is off at
both the account and the bucket level; the connector checks the ACL only of sampled objects in
which personal data was found.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, plaintext_by_entity
from scanner.rules.object_storage._s3 import object_fact


@RULES.register
class S3ObjectPublicAclWithPii(Rule):
    id = "s3_object_public_acl_with_pii"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        fact = object_fact(scan)
        if fact is None or not fact.acl_public_effective:
            return
        found = plaintext_by_entity(scan, ctx.policy)
        if not found:
            return
        entity, (grade, matches) = max(found.items(), key=lambda item: (item[1][0].rank, item[0]))
        grants = ", ".join(fact.acl_public or ())
        yield self.finding(
            scan.resource,
            f"Object {scan.resource.display_name} holds {grade.id} personal data ({', '.join(sorted(found))}) and its "
            f"ACL makes it public ({grants})",
            level=ctx.policy.rule_level(self.id, grade, self.metadata().default_level),
            grade=grade,
            entity_type=entity,
            matches=matches,
            occurrences=sum(scan.occurrences[e] for e in found),
            properties={"aclGrants": list(fact.acl_public or ()), "entityTypes": sorted(found)},
        )
