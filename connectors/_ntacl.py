"""Windows security descriptors: parsing, who may read, and where inherited access comes from.

On a Windows file server (or a NAS head speaking SMB), who can read a file is its NTFS security
descriptor ([MS-DTYP] 2.4.6, self-relative form), not the uid/gid/mode a Linux mount shows. This
module is pure Python (no SMB client) so it can be tested alone and fuzzed:

* :func:`parse_security_descriptor` reads the self-relative form a server returns for
  ``SMB2 QUERY_INFO`` (``SMB2_0_INFO_SECURITY``, [MS-SMB2] 2.2.37) and :func:`encode_security_descriptor`
  writes it (tests build descriptors with it);
* :func:`can_read` is the DACL walk of the access check ([MS-DTYP] 2.5.3.2): ACEs in stored order,
  inherit-only ACEs skipped, a deny ACE for a SID in the token removes the bits not granted before it,
  a NULL DACL grants everything, an empty DACL nothing. Generic rights are mapped with the file
  generic mapping ([MS-SMB2] 2.2.13.1.1 / FILE_GENERIC_READ);
* :data:`BROAD` names the principals that mean "everyone" on a Windows estate (Everyone, Authenticated
  Users, BUILTIN\\Users, Domain Users, Anonymous, Guests) and :func:`token_of` the SIDs a typical member
  of each carries (a Domain User is also Authenticated User, BUILTIN\\User and Everyone), so a grant to
  any of them counts;
* :func:`inheritance_source` answers "inherited from which folder" as Windows' Advanced Security
  dialog (``GetInheritanceSource``) does: the nearest ancestor holding the same ACE explicitly with the
  inheritance flags that reach the child.

SIDs are identifiers of accounts and groups, not personal values; names resolved for them are masked
like every name when reported.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

# ACE types ([MS-DTYP] 2.4.4.1); object and callback variants carry a SID too but are rare on files
ACCESS_ALLOWED = 0x0
ACCESS_DENIED = 0x1
ACCESS_ALLOWED_CALLBACK = 0x9
ACCESS_DENIED_CALLBACK = 0xA
ALLOW_TYPES = (ACCESS_ALLOWED, ACCESS_ALLOWED_CALLBACK)
DENY_TYPES = (ACCESS_DENIED, ACCESS_DENIED_CALLBACK)

# ACE flags
OBJECT_INHERIT = 0x01
CONTAINER_INHERIT = 0x02
NO_PROPAGATE_INHERIT = 0x04
INHERIT_ONLY = 0x08
INHERITED = 0x10

# Security descriptor control bits
SE_DACL_PRESENT = 0x0004
SE_DACL_AUTO_INHERITED = 0x0400
SE_DACL_PROTECTED = 0x1000
SE_SELF_RELATIVE = 0x8000

# Access mask bits that matter for reading a file's content
FILE_READ_DATA = 0x0001
GENERIC_READ = 0x80000000
GENERIC_ALL = 0x10000000
GENERIC_WRITE = 0x40000000
GENERIC_EXECUTE = 0x20000000
FILE_GENERIC_READ = 0x00120089
FILE_GENERIC_WRITE = 0x00120116
FILE_GENERIC_EXECUTE = 0x001200A0
FILE_ALL_ACCESS = 0x001F01FF

EVERYONE = "S-1-1-0"
AUTHENTICATED_USERS = "S-1-5-11"
ANONYMOUS = "S-1-5-7"
BUILTIN_USERS = "S-1-5-32-545"
BUILTIN_GUESTS = "S-1-5-32-546"
DOMAIN_USERS_RID = 513
DOMAIN_GUESTS_RID = 514
GUEST_RID = 501

WELL_KNOWN = {
    EVERYONE: "Everyone",
    "S-1-3-0": "CREATOR OWNER",
    "S-1-3-1": "CREATOR GROUP",
    "S-1-3-4": "OWNER RIGHTS",
    ANONYMOUS: "NT AUTHORITY\\ANONYMOUS LOGON",
    "S-1-5-2": "NT AUTHORITY\\NETWORK",
    "S-1-5-4": "NT AUTHORITY\\INTERACTIVE",
    AUTHENTICATED_USERS: "NT AUTHORITY\\Authenticated Users",
    "S-1-5-18": "NT AUTHORITY\\SYSTEM",
    "S-1-5-32-544": "BUILTIN\\Administrators",
    BUILTIN_USERS: "BUILTIN\\Users",
    BUILTIN_GUESTS: "BUILTIN\\Guests",
    "S-1-5-32-547": "BUILTIN\\Power Users",
    "S-1-5-32-549": "BUILTIN\\Server Operators",
    "S-1-5-32-551": "BUILTIN\\Backup Operators",
}
DOMAIN_RIDS = {500: "Administrator", GUEST_RID: "Guest", 512: "Domain Admins", DOMAIN_USERS_RID: "Domain Users",
               DOMAIN_GUESTS_RID: "Domain Guests"}


class DescriptorError(ValueError):
    """A security descriptor (or SID, ACL, ACE) that is not well formed."""


@dataclass(frozen=True, slots=True)
class Ace:
    """One access control entry: allow or deny ``mask`` to ``sid``, with its inheritance ``flags``."""

    type: int
    flags: int
    mask: int
    sid: str

    @property
    def allow(self) -> bool:
        return self.type in ALLOW_TYPES

    @property
    def deny(self) -> bool:
        return self.type in DENY_TYPES

    @property
    def inherited(self) -> bool:
        return bool(self.flags & INHERITED)

    @property
    def effective(self) -> bool:
        """Whether it applies to the object itself (inherit-only ACEs only pass down)."""
        return not self.flags & INHERIT_ONLY and (self.allow or self.deny)

    def sddl(self) -> str:
        """SDDL of the ACE (``(A;OICIID;0x1200a9;;;WD)``): how the evidence shows it."""
        kind = {ACCESS_ALLOWED: "A", ACCESS_DENIED: "D", ACCESS_ALLOWED_CALLBACK: "XA",
                ACCESS_DENIED_CALLBACK: "XD"}.get(self.type, f"0x{self.type:x}")
        flags = "".join(code for bit, code in ((OBJECT_INHERIT, "OI"), (CONTAINER_INHERIT, "CI"),
                                               (NO_PROPAGATE_INHERIT, "NP"), (INHERIT_ONLY, "IO"),
                                               (INHERITED, "ID")) if self.flags & bit)
        return f"({kind};{flags};0x{self.mask:08x};;;{self.sid})"


@dataclass(frozen=True, slots=True)
class SecurityDescriptor:
    """Owner, group and DACL of a file or folder. ``dacl`` None: no DACL (NULL DACL, everyone has
    full access); an empty tuple: nobody is granted anything."""

    control: int
    owner: str | None
    group: str | None
    dacl: tuple[Ace, ...] | None

    @property
    def protected(self) -> bool:
        """Inheritance from the parent is blocked (``SE_DACL_PROTECTED``)."""
        return bool(self.control & SE_DACL_PROTECTED)

    def sddl(self) -> str:
        parts = [f"O:{self.owner}" if self.owner else "", f"G:{self.group}" if self.group else ""]
        if self.dacl is None:
            parts.append("D:NO_ACCESS_CONTROL")
        else:
            parts.append("D:" + ("P" if self.protected else "") + ("AI" if self.control & SE_DACL_AUTO_INHERITED
                                                                     else "") + "".join(a.sddl() for a in self.dacl))
        return "".join(parts)


# -- parsing and encoding -----------------------------------------------------------------------


def parse_sid(data: bytes, offset: int = 0) -> tuple[str, int]:
    """The SID at ``offset`` ([MS-DTYP] 2.4.2.2) as ``S-1-...`` and its length in bytes."""
    if offset < 0 or offset + 8 > len(data):
        raise DescriptorError(f"SID at offset {offset} runs past the end of {len(data)} bytes")
    revision, count = data[offset], data[offset + 1]
    if revision != 1:
        raise DescriptorError(f"SID revision {revision} is not 1")
    if count > 15:
        raise DescriptorError(f"SID has {count} sub-authorities, at most 15 exist")
    end = offset + 8 + 4 * count
    if end > len(data):
        raise DescriptorError(f"SID at offset {offset} runs past the end of {len(data)} bytes")
    authority = int.from_bytes(data[offset + 2 : offset + 8], "big")
    subs = struct.unpack_from(f"<{count}I", data, offset + 8)
    return "S-1-" + "-".join(str(v) for v in (authority, *subs)), end - offset


def encode_sid(sid: str) -> bytes:
    parts = sid.split("-")
    if len(parts) < 3 or parts[0].upper() != "S" or parts[1] != "1" or not all(p.isdigit() for p in parts[2:]):
        raise DescriptorError(f"not a SID: {sid!r}")
    authority, subs = int(parts[2]), [int(p) for p in parts[3:]]
    if len(subs) > 15 or authority >= 1 << 48 or any(s >= 1 << 32 for s in subs):
        raise DescriptorError(f"not a SID: {sid!r}")
    return bytes((1, len(subs))) + authority.to_bytes(6, "big") + struct.pack(f"<{len(subs)}I", *subs)


def parse_acl(data: bytes, offset: int) -> tuple[Ace, ...]:
    """The ACEs of the ACL at ``offset`` ([MS-DTYP] 2.4.5); ACE types without a plain SID (object ACEs,
    audit and label ACEs) are kept with an empty SID so the order of the rest is not disturbed."""
    if offset + 8 > len(data):
        raise DescriptorError(f"ACL at offset {offset} runs past the end of {len(data)} bytes")
    _revision, _sbz, size, count, _sbz2 = struct.unpack_from("<BBHHH", data, offset)
    if offset + size > len(data) or size < 8:
        raise DescriptorError(f"ACL at offset {offset} of {size} bytes runs past the end of {len(data)} bytes")
    aces: list[Ace] = []
    position = offset + 8
    end = offset + size
    for _ in range(count):
        if position + 8 > end:
            raise DescriptorError(f"ACE at offset {position} runs past the end of its ACL")
        kind, flags, ace_size, mask = struct.unpack_from("<BBHI", data, position)
        if ace_size < 8 or position + ace_size > end:
            raise DescriptorError(f"ACE at offset {position} has a bad size {ace_size}")
        sid = ""
        if kind in (*ALLOW_TYPES, *DENY_TYPES, 0x2, 0x3, 0x11):  # allow, deny, audit, alarm, mandatory label
            sid, _ = parse_sid(data[: position + ace_size], position + 8)
        aces.append(Ace(kind, flags, mask, sid))
        position += ace_size
    return tuple(aces)


def parse_security_descriptor(data: bytes) -> SecurityDescriptor:
    """A self-relative security descriptor ([MS-DTYP] 2.4.6); :class:`DescriptorError` when malformed."""
    if len(data) < 20:
        raise DescriptorError(f"a security descriptor has at least 20 bytes, got {len(data)}")
    revision, _sbz, control, owner_at, group_at, _sacl_at, dacl_at = struct.unpack_from("<BBHIIII", data)
    if revision != 1:
        raise DescriptorError(f"security descriptor revision {revision} is not 1")
    if not control & SE_SELF_RELATIVE:
        raise DescriptorError("the security descriptor is not self-relative")
    owner = parse_sid(data, owner_at)[0] if owner_at else None
    group = parse_sid(data, group_at)[0] if group_at else None
    dacl = parse_acl(data, dacl_at) if control & SE_DACL_PRESENT and dacl_at else None
    return SecurityDescriptor(control, owner, group, dacl)


def encode_security_descriptor(sd: SecurityDescriptor) -> bytes:
    """The self-relative form of ``sd`` (no SACL): owner, group, DACL, in that order after the header."""
    body = b""
    offsets = [0, 0, 0]
    at = 20
    for index, sid in enumerate((sd.owner, sd.group)):
        if sid:
            blob = encode_sid(sid)
            offsets[index] = at + len(body)
            body += blob
    control = (sd.control | SE_SELF_RELATIVE) & ~SE_DACL_PRESENT
    if sd.dacl is not None:
        control |= SE_DACL_PRESENT
        aces = b""
        for ace in sd.dacl:
            sid = encode_sid(ace.sid)
            aces += struct.pack("<BBHI", ace.type, ace.flags, 8 + len(sid), ace.mask) + sid
        offsets[2] = at + len(body)
        body += struct.pack("<BBHHH", 2, 0, 8 + len(aces), len(sd.dacl), 0) + aces
    return struct.pack("<BBHIIII", 1, 0, control, offsets[0], offsets[1], 0, offsets[2]) + body


# -- who may read -----------------------------------------------------------------------------


def read_bits(mask: int) -> int:
    """``mask`` with generic rights mapped to the file rights they stand for ([MS-SMB2] 2.2.13.1.1)."""
    mapped = mask & 0x0FFFFFFF
    if mask & GENERIC_READ:
        mapped |= FILE_GENERIC_READ
    if mask & GENERIC_WRITE:
        mapped |= FILE_GENERIC_WRITE
    if mask & GENERIC_EXECUTE:
        mapped |= FILE_GENERIC_EXECUTE
    if mask & GENERIC_ALL:
        mapped |= FILE_ALL_ACCESS
    return mapped


@dataclass(frozen=True, slots=True)
class ReadDecision:
    """Whether a token may read a file's content, and the ACE that decided it (None: NULL DACL grants,
    or no ACE matched and nothing is granted)."""

    granted: bool
    ace: Ace | None
    denied_by: Ace | None = None


def can_read(sd: SecurityDescriptor, token: Iterable[str]) -> ReadDecision:
    """Whether a user carrying the SIDs ``token`` may read the file's data (``FILE_READ_DATA``).

    The DACL is walked in stored order as the access check does: a matching deny ACE refuses the bits
    not granted before it, so a deny placed after an allow (non-canonical order) does not take the
    right away again. Owner implicit rights (READ_CONTROL, WRITE_DAC) never include reading data.
    """
    if sd.dacl is None:
        return ReadDecision(True, None)
    sids = set(token)
    for ace in sd.dacl:
        if not ace.effective or ace.sid not in sids or not read_bits(ace.mask) & FILE_READ_DATA:
            continue
        if ace.deny:
            return ReadDecision(False, None, ace)
        return ReadDecision(True, ace)
    return ReadDecision(False, None)


def domain_rid(sid: str) -> tuple[str, int] | None:
    """(domain SID, RID) of a domain or machine account SID (``S-1-5-21-a-b-c-RID``)."""
    parts = sid.split("-")
    if len(parts) == 8 and parts[:4] == ["S", "1", "5", "21"]:
        return "-".join(parts[:7]), int(parts[7])
    return None


def broad_kind(sid: str) -> str | None:
    """The broad principal a SID is, by name (``Everyone``, ``Domain Users`` …), or None."""
    if sid in (EVERYONE, AUTHENTICATED_USERS, BUILTIN_USERS, ANONYMOUS, BUILTIN_GUESTS):
        return WELL_KNOWN[sid].rsplit("\\", 1)[-1].replace("ANONYMOUS LOGON", "Anonymous")
    found = domain_rid(sid)
    if found and found[1] in (DOMAIN_USERS_RID, DOMAIN_GUESTS_RID, GUEST_RID):
        return DOMAIN_RIDS[found[1]]
    return None


def token_of(sid: str) -> tuple[str, ...]:
    """The SIDs in the token of a typical member of ``sid``: its own, and the groups every such member also
    belongs to (a named account or group's members are authenticated users, so a deny for Everyone reaches
    them and a share open to Everyone lets them in). Anonymous logons carry Everyone only where the server sets
    ``EveryoneIncludesAnonymous`` (off since Windows XP SP2), so their token is the Anonymous SID."""
    if sid == ANONYMOUS:
        return (ANONYMOUS,)
    if sid == EVERYONE:
        return (EVERYONE,)
    if sid == AUTHENTICATED_USERS:
        return (AUTHENTICATED_USERS, EVERYONE)
    if sid == BUILTIN_USERS:
        return (BUILTIN_USERS, AUTHENTICATED_USERS, EVERYONE)
    if sid == BUILTIN_GUESTS:
        return (BUILTIN_GUESTS, EVERYONE)
    found = domain_rid(sid)
    if found and found[1] == DOMAIN_USERS_RID:
        return (sid, BUILTIN_USERS, AUTHENTICATED_USERS, EVERYONE)
    if found and found[1] in (DOMAIN_GUESTS_RID, GUEST_RID):
        return (sid, BUILTIN_GUESTS, EVERYONE)
    if sid in WELL_KNOWN and not sid.startswith("S-1-5-32-"):
        return (sid,)  # SYSTEM, CREATOR OWNER …: not logged-on users
    return (sid, BUILTIN_USERS, AUTHENTICATED_USERS, EVERYONE)  # a named account or group: its members log on


def broad_sids(sd: SecurityDescriptor) -> list[str]:
    """The broad principals to check for ``sd``: the well-known ones and every domain's Domain Users and
    Guests that appear in its DACL (a DACL names the domain SID, which we cannot know otherwise)."""
    found = [EVERYONE, AUTHENTICATED_USERS, BUILTIN_USERS, ANONYMOUS, BUILTIN_GUESTS]
    for ace in sd.dacl or ():
        if ace.sid not in found and broad_kind(ace.sid):
            found.append(ace.sid)
    return found


def principal_name(sid: str, names: dict[str, str] | None = None) -> str:
    """A display name for ``sid``: resolved by the server, well known, or ``DOMAIN RID name``; else the SID."""
    if names and sid in names:
        return names[sid]
    if sid in WELL_KNOWN:
        return WELL_KNOWN[sid]
    found = domain_rid(sid)
    if found and found[1] in DOMAIN_RIDS:
        return DOMAIN_RIDS[found[1]]
    return sid


#: broad audiences from the widest: what "everyone can read it" means, in the order it is reported
BREADTH = (ANONYMOUS, EVERYONE, BUILTIN_GUESTS, AUTHENTICATED_USERS, BUILTIN_USERS)


def audiences(sd: SecurityDescriptor, share: SecurityDescriptor | None
              ) -> list[tuple[str, ReadDecision, bool | None]]:
    """Who can read the file's data through the share: ``(sid, decision, share_allows)``.

    Broad audiences are judged as populations: a member of Authenticated Users carries Everyone too, so an
    ACE for Everyone exposes the file to Authenticated Users even when the share lets only them in. Each
    granting ACE is reported once, for the widest audience that both the file and the share let read
    (``share_allows`` None: the share's permissions are unknown). Named accounts and groups with their own
    allow ACE follow, each judged with its members' token."""
    found: list[tuple[str, ReadDecision, bool | None]] = []
    used: set[Ace | None] = set()
    broad = [*BREADTH, *(s for s in broad_sids(sd) if s not in BREADTH)]
    for sid in broad:
        token = token_of(sid)
        decision = can_read(sd, token)
        if not decision.granted or decision.ace in used:
            continue
        share_allows = None if share is None else can_read(share, token).granted
        if share_allows is False:
            continue
        used.add(decision.ace)
        found.append((sid, decision, share_allows))
    for sid, decision in readers(sd):
        if broad_kind(sid) is None:
            found.append((sid, decision, None if share is None else can_read(share, token_of(sid)).granted))
    return found


def readers(sd: SecurityDescriptor) -> list[tuple[str, ReadDecision]]:
    """Every SID named in an allow ACE that can read the data, judged with a token of only itself (and,
    for a broad principal, what its members also carry); principals denied stay out."""
    if sd.dacl is None:
        return [(EVERYONE, ReadDecision(True, None))]
    seen: list[str] = []
    for ace in sd.dacl:
        if ace.allow and ace.effective and ace.sid not in seen and read_bits(ace.mask) & FILE_READ_DATA:
            seen.append(ace.sid)
    return [(sid, decision) for sid in seen if (decision := can_read(sd, token_of(sid))).granted]


# -- inheritance ------------------------------------------------------------------------------


def reaches(ace: Ace, child_is_dir: bool, depth: int) -> bool:
    """Whether an inheritable ``ace`` on a folder reaches a descendant ``depth`` levels below it (1: a
    direct child) that is a folder or a file: object-inherit reaches files, container-inherit folders;
    below the first level only through folders (container-inherit) and only without no-propagate."""
    if depth > 1 and (not ace.flags & CONTAINER_INHERIT or ace.flags & NO_PROPAGATE_INHERIT):
        return False
    return bool(ace.flags & (CONTAINER_INHERIT if child_is_dir else OBJECT_INHERIT))


def inheritance_source(ace: Ace, child_is_dir: bool,
                       ancestors: Iterable[tuple[str, SecurityDescriptor | None]]) -> str | None:
    """The folder an inherited ``ace`` comes from: the nearest of ``ancestors`` (nearest first, as
    (path, descriptor), read lazily: the walk stops at the folder that holds it; None where a descriptor
    could not be read) holding an ACE for the same SID and type,
    explicitly, whose flags reach the child. None when no folder on the way holds it (it came from
    above the share's root, or a folder on the way could not be read)."""
    for depth, (path, sd) in enumerate(ancestors, start=1):
        if sd is None:
            return None
        for candidate in sd.dacl or ():
            if (candidate.sid == ace.sid and candidate.type == ace.type and reaches(candidate, child_is_dir, depth)
                    and read_bits(candidate.mask) & read_bits(ace.mask) & FILE_READ_DATA):
                if not candidate.inherited:
                    return path
                break  # inherited there too: look further up
        else:
            return None
        if sd.protected:
            return None
    return None
