"""A file holding graded personal data that every local user can read (obligations 3 and 8)."""

from __future__ import annotations

import stat
from collections.abc import Iterator

from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, plaintext_by_entity


def exposure_finding(rule: Rule, scan: ResourceScan, ctx: RuleContext, audience: str) -> Iterator[Finding]:
    found = plaintext_by_entity(scan, ctx.policy)
    if not found:
        return
    resource = scan.resource
    entity, (grade, matches) = max(found.items(), key=lambda item: (item[1][0].rank, item[0]))
    mode = resource.mode or 0
    yield rule.finding(
        resource,
        f"File {resource.display_name} holds {grade.id} personal data ({', '.join(sorted(found))}) and is "
        f"readable by {audience} (mode {stat.filemode(stat.S_IFREG | mode)}, owner {resource.owner})",
        level=ctx.policy.rule_level(rule.id, grade, rule.metadata().default_level),
        grade=grade,
        entity_type=entity,
        matches=matches,
        occurrences=sum(scan.occurrences[e] for e in found),
        properties={
            "entityTypes": sorted(found),
            "mode": f"{mode:04o}",
            "owner": resource.owner,
            "group": resource.group,
        },
    )


@RULES.register
class FileWorldReadableWithPii(Rule):
    id = "file_world_readable_with_pii"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        mode = scan.resource.mode
        if mode is None or not ctx.policy.world_readable or not mode & stat.S_IROTH:
            return
        yield from exposure_finding(self, scan, ctx, "all users")
