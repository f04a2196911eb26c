"""A named account or group can read graded personal data on a Windows share that the policy's
``access`` section does not allow it (obligation 3: least privilege, periodic permission audit).

The same judgement as for database roles (``db_role_reads_pii_not_allowed``): a principal is allowed
when the policy names it (``access.roles``, a glob on ``DOMAIN\\name``, the bare name or the SID) for the
grade, in ``objects`` globs on ``share/path``, or when the grade is one every role may read
(``other_role_grades``). Broad principals have their own rule (``smb_file_broad_access_with_pii``); the
file's owner and the structural principals (SYSTEM, Administrators, Backup Operators, CREATOR OWNER)
are not reported, as table owners and superusers are reviewed elsewhere. Without an ``access`` section
this rule reports nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts import SmbFileAccess, SmbReader, of_type
from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, plaintext_by_entity
from scanner.rules.files.smb_file_broad_access_with_pii import how

#: SYSTEM, CREATOR OWNER/GROUP, OWNER RIGHTS, Administrators, Backup Operators: present on every file
STRUCTURAL = frozenset({"S-1-5-18", "S-1-3-0", "S-1-3-1", "S-1-3-4", "S-1-5-32-544", "S-1-5-32-551"})


def names_of(reader: SmbReader) -> tuple[str, ...]:
    """What a policy glob may name a principal by: ``DOMAIN\\name``, ``name`` and the SID."""
    return tuple(dict.fromkeys((reader.name, reader.name.rsplit("\\", 1)[-1], reader.sid)))


@RULES.register
class SmbFileAccessNotAllowed(Rule):
    id = "smb_file_access_not_allowed"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        policy = ctx.policy.access
        if policy is None:
            return
        for access in of_type(scan.facts, SmbFileAccess):
            found = plaintext_by_entity(scan, ctx.policy)
            if not found:
                continue
            entity, (grade, _matches) = max(found.items(), key=lambda item: (item[1][0].rank, item[0]))
            obj = f"{access.share}/{access.path}"
            for reader in access.readers:
                if (reader.broad or reader.sid in STRUCTURAL or reader.sid == access.owner
                        or reader.share_allows is False):
                    continue
                names = names_of(reader)
                if any(policy.exempt(n) or policy.role_allowed(n, grade.id, obj) for n in names):
                    continue
                resource = scan.resource
                yield self.finding(
                    resource,
                    f"{reader.name} can read {grade.id} personal data ({', '.join(sorted(found))}) in file "
                    f"{resource.display_name} {how(reader)}; policy {ctx.policy.name} does not allow it to read "
                    f"{grade.id}",
                    level=ctx.policy.rule_level(self.id, grade, self.metadata().default_level),
                    grade=grade,
                    entity_type=entity,
                    discriminators=(reader.sid,),
                    occurrences=sum(scan.occurrences[e] for e in found),
                    properties={"principal": reader.name, "sid": reader.sid, "how": reader.how,
                                "from": reader.source, "ace": reader.ace, "shareAllows": reader.share_allows,
                                "object": obj, "entityTypes": sorted(found), "owner": access.owner_name},
                )
