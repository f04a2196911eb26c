"""Security descriptors without a server: parsing (property-tested), the DACL walk, broad audiences,
inheritance sources, and the hand-written RPC reply parsers against malformed input."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors import _dcerpc
from connectors import _ntacl as nt
from connectors._ntacl import Ace, SecurityDescriptor

DOMAIN = "S-1-5-21-1004336348-1177238915-682003330"
GROUP = f"{DOMAIN}-1105"
READ, FULL, WRITE_ONLY = 0x1200A9, 0x1F01FF, 0x120116
A, D = nt.ACCESS_ALLOWED, nt.ACCESS_DENIED


def sd(*aces: Ace, control: int = nt.SE_DACL_PRESENT) -> SecurityDescriptor:
    return SecurityDescriptor(control | nt.SE_SELF_RELATIVE, "S-1-5-32-544", f"{DOMAIN}-513", tuple(aces))


# -- who may read -----------------------------------------------------------------------------------

CAN_READ = [
    ("everyone allowed", sd(Ace(A, 0, READ, nt.EVERYONE)), nt.token_of(nt.AUTHENTICATED_USERS), True),
    ("generic read maps to read data", sd(Ace(A, 0, nt.GENERIC_READ, nt.EVERYONE)), (nt.EVERYONE,), True),
    ("generic all", sd(Ace(A, 0, nt.GENERIC_ALL, nt.EVERYONE)), (nt.EVERYONE,), True),
    ("write only is not read", sd(Ace(A, 0, WRITE_ONLY, nt.EVERYONE)), (nt.EVERYONE,), False),
    ("deny first wins", sd(Ace(D, 0, READ, nt.EVERYONE), Ace(A, 0, READ, nt.AUTHENTICATED_USERS)),
     nt.token_of(nt.AUTHENTICATED_USERS), False),
    ("allow before a deny (non-canonical) keeps the right", sd(Ace(A, 0, READ, GROUP), Ace(D, 0, READ, nt.EVERYONE)),
     nt.token_of(GROUP), True),
    ("inherit-only ACE does not apply", sd(Ace(A, nt.INHERIT_ONLY | nt.OBJECT_INHERIT, READ, nt.EVERYONE)),
     (nt.EVERYONE,), False),
    ("empty DACL grants nothing", sd(), (nt.EVERYONE,), False),
    ("NULL DACL grants everything", SecurityDescriptor(nt.SE_SELF_RELATIVE, None, None, None), (nt.EVERYONE,), True),
    ("anonymous does not carry Everyone", sd(Ace(A, 0, READ, nt.EVERYONE)), nt.token_of(nt.ANONYMOUS), False),
    ("domain users carry BUILTIN\\Users", sd(Ace(A, 0, READ, nt.BUILTIN_USERS)), nt.token_of(f"{DOMAIN}-513"), True),
]


@pytest.mark.parametrize(("descriptor", "token", "granted"), [c[1:] for c in CAN_READ], ids=[c[0] for c in CAN_READ])
def test_can_read(descriptor: SecurityDescriptor, token: tuple[str, ...], granted: bool) -> None:
    assert nt.can_read(descriptor, token).granted is granted


AUDIENCES = [
    ("Everyone ACE, open share", sd(Ace(A, 0, READ, nt.EVERYONE)), sd(Ace(A, 0, FULL, nt.EVERYONE)),
     [(nt.EVERYONE, nt.EVERYONE, True)]),
    ("Everyone ACE, share for Authenticated Users", sd(Ace(A, 0, READ, nt.EVERYONE)),
     sd(Ace(A, 0, FULL, nt.AUTHENTICATED_USERS)), [(nt.AUTHENTICATED_USERS, nt.EVERYONE, True)]),
    ("Everyone ACE, share for Administrators only", sd(Ace(A, 0, READ, nt.EVERYONE)),
     sd(Ace(A, 0, FULL, "S-1-5-32-544")), []),
    ("share unknown", sd(Ace(A, 0, READ, nt.AUTHENTICATED_USERS)), None,
     [(nt.AUTHENTICATED_USERS, nt.AUTHENTICATED_USERS, None)]),
    ("Domain Users of the DACL's domain", sd(Ace(A, 0, READ, f"{DOMAIN}-513")), None,
     [(f"{DOMAIN}-513", f"{DOMAIN}-513", None)]),
    ("a named group is listed, not broad", sd(Ace(A, 0, READ, GROUP)), None, [(GROUP, GROUP, None)]),
    ("Everyone denied: nobody", sd(Ace(D, 0, READ, nt.EVERYONE), Ace(A, 0, READ, nt.AUTHENTICATED_USERS),
                                   Ace(A, 0, READ, GROUP)), None, []),
]


@pytest.mark.parametrize(("descriptor", "share", "expected"), [c[1:] for c in AUDIENCES],
                         ids=[c[0] for c in AUDIENCES])
def test_audiences(descriptor: SecurityDescriptor, share: SecurityDescriptor | None,
                   expected: list[tuple[str, str, bool | None]]) -> None:
    found = [(sid, d.ace.sid if d.ace else "", allows) for sid, d, allows in nt.audiences(descriptor, share)]
    assert found == expected


def test_broad_kind_and_names() -> None:
    assert [nt.broad_kind(s) for s in (nt.EVERYONE, nt.ANONYMOUS, f"{DOMAIN}-513", f"{DOMAIN}-514", GROUP)] == [
        "Everyone", "Anonymous", "Domain Users", "Domain Guests", None]
    assert nt.principal_name(f"{DOMAIN}-513") == "Domain Users"
    assert nt.principal_name(GROUP, {GROUP: "CORP\\hr"}) == "CORP\\hr"


# -- inheritance ------------------------------------------------------------------------------------

OICI = nt.OBJECT_INHERIT | nt.CONTAINER_INHERIT
INHERITED_AU = Ace(A, nt.INHERITED, READ, nt.AUTHENTICATED_USERS)
SOURCES = [
    ("parent holds it explicitly", [("hr", sd(Ace(A, OICI, READ, nt.AUTHENTICATED_USERS)))], "hr"),
    ("grandparent through an inheriting folder",
     [("hr\\2026", sd(Ace(A, OICI | nt.INHERITED, READ, nt.AUTHENTICATED_USERS))),
      ("hr", sd(Ace(A, OICI, READ, nt.AUTHENTICATED_USERS)))], "hr"),
    ("container-only ACE does not reach a file", [("hr", sd(Ace(A, nt.CONTAINER_INHERIT, READ,
                                                                 nt.AUTHENTICATED_USERS)))], None),
    ("no-propagate stops below the first level",
     [("a\\b", sd(Ace(A, nt.OBJECT_INHERIT | nt.INHERITED, READ, nt.AUTHENTICATED_USERS))),
      ("a", sd(Ace(A, OICI | nt.NO_PROPAGATE_INHERIT, READ, nt.AUTHENTICATED_USERS)))], None),
    ("unreadable folder on the way", [("hr", None)], None),
    ("from the share root", [("hr", sd(Ace(A, OICI | nt.INHERITED, READ, nt.AUTHENTICATED_USERS))),
                             ("", sd(Ace(A, OICI, READ, nt.AUTHENTICATED_USERS)))], ""),
]


@pytest.mark.parametrize(("ancestors", "source"), [c[1:] for c in SOURCES], ids=[c[0] for c in SOURCES])
def test_inheritance_source(ancestors: list, source: str | None) -> None:
    assert nt.inheritance_source(INHERITED_AU, False, ancestors) == source


def test_inheritance_source_reads_only_the_folders_it_needs() -> None:
    read: list[str] = []

    def folders():  # nearest first, as the connector passes them
        for path in ("hr\\2026", "hr", ""):
            read.append(path)
            yield path, sd(Ace(A, OICI | (nt.INHERITED if path == "hr\\2026" else 0), READ, nt.AUTHENTICATED_USERS))

    assert nt.inheritance_source(INHERITED_AU, False, folders()) == "hr"
    assert read == ["hr\\2026", "hr"]


# -- parsing ----------------------------------------------------------------------------------------

SIDS = st.one_of(
    st.sampled_from([nt.EVERYONE, nt.AUTHENTICATED_USERS, nt.BUILTIN_USERS, "S-1-5-18", GROUP]),
    st.builds(lambda a, subs: "S-1-" + "-".join(map(str, (a, *subs))), st.integers(0, 2**48 - 1),
              st.lists(st.integers(0, 2**32 - 1), max_size=15)),
)
ACES = st.builds(Ace, st.sampled_from([A, D]), st.integers(0, 0x1F), st.integers(0, 2**32 - 1), SIDS)
DESCRIPTORS = st.builds(
    SecurityDescriptor,
    st.sampled_from([0, nt.SE_DACL_PROTECTED, nt.SE_DACL_AUTO_INHERITED]).map(lambda c: c | nt.SE_SELF_RELATIVE),
    st.one_of(st.none(), SIDS), st.one_of(st.none(), SIDS), st.one_of(st.none(), st.tuples(ACES).map(tuple),
                                                                   st.lists(ACES, max_size=20).map(tuple)),
)


@given(DESCRIPTORS)
def test_encode_then_parse_round_trips(descriptor: SecurityDescriptor) -> None:
    parsed = nt.parse_security_descriptor(nt.encode_security_descriptor(descriptor))
    assert (parsed.owner, parsed.group, parsed.dacl) == (descriptor.owner, descriptor.group, descriptor.dacl)
    assert parsed.protected == descriptor.protected


@given(st.binary(max_size=300))
def test_garbage_is_a_descriptor_error_or_a_descriptor(data: bytes) -> None:
    with contextlib.suppress(nt.DescriptorError):
        nt.parse_security_descriptor(data)


@given(DESCRIPTORS, st.integers(0, 400), st.integers(0, 255))
def test_corrupted_descriptors_never_raise_anything_else(descriptor: SecurityDescriptor, at: int, value: int) -> None:
    blob = bytearray(nt.encode_security_descriptor(descriptor))
    blob[at % len(blob)] = value
    with contextlib.suppress(nt.DescriptorError):
        nt.parse_security_descriptor(bytes(blob))


def test_samba_share_descriptor_parses() -> None:
    """What Samba's srvsvc returned for a share open to Everyone (captured from smbd 4.17)."""
    blob = bytes.fromhex("010004800000000000000000000000001400000002001c000100000000001400ff011f00"
                         "0101000000000001000000000000")[:48]
    parsed = nt.parse_security_descriptor(blob)
    assert parsed.dacl == (Ace(A, 0, FULL, nt.EVERYONE),)


@given(st.binary(max_size=400))
def test_rpc_reply_parsers_raise_only_rpc_errors(data: bytes) -> None:
    for parse in (_dcerpc.parse_share_info_502, lambda d: _dcerpc.parse_lookup_sids(d, [GROUP])):
        with contextlib.suppress(_dcerpc.RpcError):
            parse(data)


def test_share_info_reply_with_an_error_status() -> None:
    with pytest.raises(_dcerpc.RpcError, match="access denied"):
        _dcerpc.parse_share_info_502(struct.pack("<III", 502, 0, 5))
