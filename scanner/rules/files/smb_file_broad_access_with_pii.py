"""A file on a Windows share holding graded personal data that a broad principal can read (obligations 3, 8).

On an SMB share "readable by everyone" is an NTFS ACE for Everyone, Authenticated Users, BUILTIN\\Users,
Domain Users, Anonymous or Guests, let in by the share's own permissions too. The SMB connector records
who can read each file with findings (:class:`scanner.facts.SmbFileAccess`, inheritance resolved); this
rule names each broad principal and how it reads: an explicit ACE on the file, or one inherited from
which folder (so the fix goes where the grant is). Mode bits are not used: they mean nothing there.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts import SmbFileAccess, SmbReader, of_type
from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, counted, plaintext_by_entity


def how(reader: SmbReader) -> str:
    """``through an ACE inherited from folder hr`` and the like: where the grant is to be fixed."""
    ace = "" if reader.via == reader.name else f" for {reader.via}"
    if reader.how == "explicit":
        return f"through an explicit ACE{ace} on the file"
    if reader.how == "null-dacl":
        return "because the file has no DACL at all (a NULL DACL grants everyone everything)"
    if reader.source == "":
        return f"through an ACE{ace} inherited from the share's root folder"
    if reader.source:
        return f"through an ACE{ace} inherited from folder {reader.source}"
    return f"through an inherited ACE{ace} whose folder could not be determined (above the share root, or unreadable)"


def label(reader: SmbReader) -> str:
    """``Domain Users (CORP\\Domain Users)`` reads as the broad group it is, whatever the server calls it."""
    if not reader.broad or reader.name.rsplit("\\", 1)[-1].lower() == reader.broad.lower():
        return reader.name
    return f"{reader.broad} ({reader.name})"


def share_words(readers: list[SmbReader]) -> str:
    if any(r.share_allows is None for r in readers):
        return "the share's own permissions could not be read"
    return "the share's permissions let them in"


@RULES.register
class SmbFileBroadAccessWithPii(Rule):
    id = "smb_file_broad_access_with_pii"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        if not ctx.policy.world_readable:
            return
        for access in of_type(scan.facts, SmbFileAccess):
            broad = [r for r in access.readers if r.broad and r.share_allows is not False]
            found = plaintext_by_entity(scan, ctx.policy)
            if not broad or not found:
                continue
            entity, (grade, matches) = max(found.items(), key=lambda item: (item[1][0].rank, item[0]))
            resource = scan.resource
            distinct = {e: scan.distinct_count(e) for e in found}
            path = resource.relative_path or resource.display_name
            who = "; ".join(f"{label(r)} {how(r)}" for r in broad)
            yield self.finding(
                resource,
                f"{grade.id} personal data ({', '.join(sorted(found))}) in file {resource.display_name} is readable "
                f"by {who} ({share_words(broad)}; owner {access.owner_name or 'unknown'}): "
                f"{counted(sum(distinct.values()), 'distinct value')}",
                level=(ctx.policy.rule_level(self.id, grade, self.metadata().default_level) if ctx.policy.is_log(path)
                       else ctx.policy.file_level(self.id, grade, self.metadata().default_level, distinct, path)),
                grade=grade,
                entity_type=entity,
                matches=matches,
                occurrences=sum(scan.occurrences[e] for e in found),
                properties={
                    "entityTypes": sorted(found),
                    "distinct": sum(distinct.values()),
                    "principals": [{"name": r.name, "sid": r.sid, "broad": r.broad, "via": r.via, "how": r.how,
                                    "from": r.source, "ace": r.ace, "shareAllows": r.share_allows} for r in broad],
                    "owner": access.owner_name,
                    "denied": list(access.denied),
                    "dacl": access.dacl,
                },
            )
