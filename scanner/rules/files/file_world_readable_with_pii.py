"""A file holding graded personal data that every local user can read (obligations 3 and 8)."""

from __future__ import annotations

import dataclasses
import stat
from collections.abc import Callable, Iterator

from scanner.model import ARCHIVE_SEPARATOR, Finding, Match, Resource, ResourceScan
from scanner.policy import Grade
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan, counted, plaintext_by_entity


def exposure_findings(rule: Rule, target: TargetScan, ctx: RuleContext, audience: Callable[[Resource], str],
                      applies: Callable[[int], bool]) -> Iterator[Finding]:
    """One finding per exposed *file*: the members of a ZIP archive are read one by one, but it is the
    archive's mode that exposes them, so they make one finding with the archive's own URI."""
    archives: dict[str, list[ResourceScan]] = {}
    for scan in target.scans:
        mode = scan.resource.mode
        if mode is None or not applies(mode):
            continue
        archive_uri = scan.resource.archive_uri
        if archive_uri is not None:
            archives.setdefault(archive_uri, []).append(scan)
            continue
        found = plaintext_by_entity(scan, ctx.policy)
        if found:
            yield _finding(rule, scan.resource, found, ctx, audience(scan.resource),
                           sum(scan.occurrences[e] for e in found), {e: scan.distinct_count(e) for e in found})
    for archive_uri, members in archives.items():
        found: dict[str, tuple[Grade, list[Match]]] = {}
        occurrences = 0
        distinct: dict[str, int] = {}
        holding: list[str] = []
        evidence: list[str] = []
        for scan in members:
            member_found = plaintext_by_entity(scan, ctx.policy)
            if not member_found:
                continue
            holding.append(scan.resource.metadata.get("member", scan.resource.display_name))
            occurrences += sum(scan.occurrences[e] for e in member_found)
            for entity, (grade, matches) in member_found.items():
                found.setdefault(entity, (grade, []))  # member line numbers do not locate anything in the archive
                distinct[entity] = distinct.get(entity, 0) + scan.distinct_count(entity)
                evidence.extend(m.evidence for m in matches if m.evidence not in evidence)
        if found:
            archive = _archive_resource(members[0].resource, archive_uri)
            yield _finding(rule, archive, found, ctx, audience(archive), occurrences, distinct,
                           {"evidence": evidence[:5], "members": sorted(holding)[:20],
                            "membersWithPersonalData": len(holding)})


def _archive_resource(member: Resource, archive_uri: str) -> Resource:
    name = member.display_name.split(ARCHIVE_SEPARATOR, 1)[0]
    return dataclasses.replace(member, uri=archive_uri, kind="file", display_name=name, logical_name=None,
                               logical_kind=None, size=None, metadata={k: v for k, v in member.metadata.items()
                                                                      if k in ("uid", "gid")})


def _finding(rule: Rule, resource: Resource, found: dict[str, tuple[Grade, list[Match]]], ctx: RuleContext,
             audience: str, occurrences: int, distinct: dict[str, int], extra: dict | None = None) -> Finding:
    entity, (grade, matches) = max(found.items(), key=lambda item: (item[1][0].rank, item[0]))
    mode = resource.mode or 0
    path = resource.relative_path or resource.display_name
    return rule.finding(
        resource,
        f"{grade.id} personal data ({', '.join(sorted(found))}) readable by {audience} in file "
        f"{resource.display_name} (mode {stat.filemode(stat.S_IFREG | mode)}, owner {resource.owner}): "
        f"{counted(sum(distinct.values()), 'distinct value')}",
        level=(ctx.policy.rule_level(rule.id, grade, rule.metadata().default_level) if ctx.policy.is_log(path)
               else ctx.policy.file_level(rule.id, grade, rule.metadata().default_level, distinct, path)),
        grade=grade,
        entity_type=entity,
        matches=matches,
        occurrences=occurrences,
        properties={
            "entityTypes": sorted(found),
            "distinct": sum(distinct.values()),
            "mode": f"{mode:04o}",
            "owner": resource.owner,
            "group": resource.group,
            **(extra or {}),
        },
    )


@RULES.register
class FileWorldReadableWithPii(Rule):
    id = "file_world_readable_with_pii"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        if not ctx.policy.world_readable:
            return
        yield from exposure_findings(self, target, ctx, lambda resource: "all users",
                                     lambda mode: bool(mode & stat.S_IROTH))
