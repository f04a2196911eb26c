"""The two DCE/RPC calls the SMB connector makes over named pipes, in NDR by hand.

smbprotocol speaks SMB but no RPC interfaces; impacket has them all but is a large dependency with
its own SMB stack. We need two calls, so they are written out here ([C706] connection-oriented PDUs,
NDR 2.0 little-endian):

* srvsvc ``NetrShareGetInfo`` level 502 ([MS-SRVS] 3.1.4.10): the share's own permissions;
* lsarpc ``LsarOpenPolicy2`` / ``LsarLookupSids`` / ``LsarClose`` ([MS-LSAT] 3.1.4.4, 3.1.4.11): names
  for the SIDs of an ACL, so the policy can allow groups by name.

Every parser checks bounds and raises :class:`RpcError` on anything unexpected: a reply is data from
the network, and a malformed one must cost a note, not the scan.
"""

from __future__ import annotations

import struct
import uuid
from typing import Any

NDR = (uuid.UUID("8a885d04-1ceb-11c9-9fe8-08002b104860"), 2)
SRVSVC = (uuid.UUID("4b324fc8-1670-01d3-1278-5a47bf6ee188"), 3)
LSARPC = (uuid.UUID("12345778-1234-abcd-ef00-0123456789ab"), 0)
MAX_FRAG = 4280
PTYPE_REQUEST, PTYPE_RESPONSE, PTYPE_FAULT, PTYPE_BIND, PTYPE_BIND_ACK = 0, 2, 3, 11, 12


class RpcError(Exception):
    """An RPC call failed (fault, refused bind, Windows error) or its reply did not parse."""


def _header(ptype: int, body_len: int, call_id: int) -> bytes:
    return struct.pack("<BBBBIHHI", 5, 0, ptype, 0x03, 0x10, 16 + body_len, 0, call_id)


def bind_pdu(interface: tuple[uuid.UUID, int], call_id: int = 1) -> bytes:
    abstract, version = interface
    body = struct.pack("<HHI", MAX_FRAG, MAX_FRAG, 0) + struct.pack("<B3x", 1)
    body += struct.pack("<HBx", 0, 1) + abstract.bytes_le + struct.pack("<HH", version, 0)
    body += NDR[0].bytes_le + struct.pack("<I", NDR[1])
    return _header(PTYPE_BIND, len(body), call_id) + body


def request_pdu(opnum: int, stub: bytes, call_id: int) -> bytes:
    body = struct.pack("<IHH", len(stub), 0, opnum) + stub
    return _header(PTYPE_REQUEST, len(body), call_id) + body


def _pad(data: bytes, align: int = 4) -> bytes:
    return data + b"\0" * (-len(data) % align)


def ndr_wstring(text: str) -> bytes:
    """A conformant varying UTF-16 string with its terminating NUL, padded to 4."""
    chars = len(text) + 1
    return _pad(struct.pack("<III", chars, 0, chars) + (text + "\0").encode("utf-16-le"))


class Reader:
    """Bounds-checked NDR reading."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.at = offset

    def align(self, n: int = 4) -> None:
        self.at += -self.at % n

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise RpcError(f"reply ends after {len(self.data)} bytes, {self.at + n} needed")
        piece = self.data[self.at : self.at + n]
        self.at += n
        return piece

    def u32(self) -> int:
        self.align(4)
        return int(struct.unpack("<I", self.take(4))[0])

    def u16(self) -> int:
        self.align(2)
        return int(struct.unpack("<H", self.take(2))[0])

    def wstring(self) -> str:
        """A conformant varying string (after its pointer was seen non-null)."""
        _max, _offset, actual = self.u32(), self.u32(), self.u32()
        if actual > 65536:
            raise RpcError(f"string of {actual} characters")
        text = self.take(2 * actual).decode("utf-16-le", "replace")
        return text.rstrip("\0")


def _response_stub(reply: bytes) -> bytes:
    if len(reply) < 24:
        raise RpcError(f"reply of {len(reply)} bytes is not an RPC response")
    ptype = reply[2]
    if ptype == PTYPE_FAULT:
        status = struct.unpack_from("<I", reply, 24)[0] if len(reply) >= 28 else 0
        raise RpcError(f"RPC fault 0x{status:08x}")
    if ptype != PTYPE_RESPONSE:
        raise RpcError(f"unexpected RPC packet type {ptype}")
    frag_len = struct.unpack_from("<H", reply, 8)[0]
    if reply[3] & 0x02 == 0 or frag_len > len(reply):  # not the last fragment: replies here are small
        raise RpcError("fragmented RPC reply")
    return reply[24:frag_len]


class Pipe:
    """An RPC client over an opened smbprotocol named-pipe handle."""

    def __init__(self, handle: Any, interface: tuple[uuid.UUID, int]) -> None:
        self.handle = handle
        self.call_id = 1
        reply = self._transceive(bind_pdu(interface))
        if len(reply) < 24 or reply[2] != PTYPE_BIND_ACK:
            raise RpcError("the server refused the RPC bind")

    def _transceive(self, pdu: bytes) -> bytes:
        self.handle.write(pdu, 0)
        return bytes(self.handle.read(0, MAX_FRAG))

    def call(self, opnum: int, stub: bytes) -> bytes:
        self.call_id += 1
        return _response_stub(self._transceive(request_pdu(opnum, stub, self.call_id)))


def share_info_502(handle: Any, host: str, share: str) -> bytes | None:
    """The security descriptor of ``share`` (self-relative bytes; None when the share has none)."""
    pipe = Pipe(handle, SRVSVC)
    stub = struct.pack("<I", 0x20000) + ndr_wstring(f"\\\\{host}") + ndr_wstring(share) + struct.pack("<I", 502)
    return parse_share_info_502(pipe.call(16, stub))


def parse_share_info_502(stub: bytes) -> bytes | None:
    """The descriptor out of a NetrShareGetInfo level-502 reply stub; raises on a Windows error."""
    r = Reader(stub)
    if len(stub) >= 4:
        status = struct.unpack_from("<I", stub, len(stub) - 4)[0]
        if status:
            raise RpcError(f"NetShareGetInfo returned Windows error {status}"
                           + (" (access denied)" if status == 5 else ""))
    level, pointer = r.u32(), r.u32()
    if level != 502 or not pointer:
        raise RpcError(f"NetShareGetInfo answered level {level}")
    netname, _type, remark, _perms, _max, _current, path, passwd, reserved, sd = (r.u32() for _ in range(10))
    for present in (netname, remark, path, passwd):
        if present:
            r.wstring()
    if not sd:
        return None
    size = r.u32()
    if size != reserved or size > 1 << 20:
        raise RpcError(f"share descriptor of {size} bytes (header says {reserved})")
    return r.take(size)


# -- lsarpc ---------------------------------------------------------------------------------------


def _ndr_sid(sid: str) -> bytes:
    from connectors._ntacl import encode_sid

    blob = encode_sid(sid)
    return struct.pack("<I", blob[1]) + blob


def lookup_sids(handle: Any, sids: list[str]) -> dict[str, str]:
    """``DOMAIN\\name`` for each SID the server can name (LsarLookupSids, level 1: local and domain)."""
    if not sids:
        return {}
    pipe = Pipe(handle, LSARPC)
    # LsarOpenPolicy2(SystemName=NULL, ObjectAttributes={24, 0...}, DesiredAccess=POLICY_LOOKUP_NAMES)
    stub = struct.pack("<I", 0) + struct.pack("<IIIIII", 24, 0, 0, 0, 0, 0) + struct.pack("<I", 0x800)
    reply = pipe.call(44, stub)
    if len(reply) < 24 or struct.unpack_from("<I", reply, 20)[0]:
        raise RpcError("LsarOpenPolicy2 was refused")
    policy = reply[:20]
    try:
        body = struct.pack("<III", len(sids), 0x20000, len(sids))
        body += b"".join(struct.pack("<I", 0x20004 + 4 * i) for i in range(len(sids)))
        body += b"".join(_pad(_ndr_sid(s)) for s in sids)
        stub = policy + body + struct.pack("<II", 0, 0) + struct.pack("<HxxI", 1, 0)
        return parse_lookup_sids(pipe.call(15, stub), sids)
    finally:
        pipe.call(0, policy)


def parse_lookup_sids(stub: bytes, sids: list[str]) -> dict[str, str]:
    """Names out of an LsarLookupSids reply (referenced domains, then translated names)."""
    r = Reader(stub)
    domains: list[str] = []
    if r.u32():  # PLSAPR_REFERENCED_DOMAIN_LIST
        entries, pointer, _max = r.u32(), r.u32(), r.u32()
        if entries > 1024:
            raise RpcError(f"{entries} referenced domains")
        if pointer:
            max_count = r.u32()
            heads = []
            for _ in range(max_count):
                length, _size, name_ptr, sid_ptr = r.u16(), r.u16(), r.u32(), r.u32()
                heads.append((length, name_ptr, sid_ptr))
            for _length, name_ptr, sid_ptr in heads:
                domains.append(r.wstring() if name_ptr else "")
                if sid_ptr:
                    count = r.u32()
                    r.take(8 + 4 * count)
    count, pointer = r.u32(), r.u32()
    names: dict[str, str] = {}
    if pointer:
        r.u32()
        heads = []
        for _ in range(count):
            use, _length, _size, name_ptr, domain_index = r.u16(), r.u16(), r.u16(), r.u32(), r.u32()
            heads.append((use, name_ptr, domain_index))
        for sid, (use, name_ptr, domain_index) in zip(sids, heads, strict=False):
            name = r.wstring() if name_ptr else ""
            if name and use not in (7, 8):  # SidTypeInvalid, SidTypeUnknown
                domain = domains[domain_index] if 0 <= domain_index < len(domains) else ""
                names[sid] = f"{domain}\\{name}" if domain else name
    return names
