"""IP address (IPv4 dotted quad, IPv6).

Format: RFC 791 dotted-decimal IPv4, each octet 0–255 without leading zeros; RFC 4291 §2.2 IPv6 text
(eight groups of up to four hex digits, ``::`` for a run of zero groups, RFC 5952 compressed or not),
checked with the standard ``ipaddress`` module. An IP address identifies a customer only in some contexts (client
addresses in access logs), so it needs a context word or field name (client ip, remote_addr, 登录IP),
and loopback, private, link-local and reserved addresses are not reported. Version strings
(``v1.2.3.4``) are excluded by the boundary. IPv6 addresses count only inside global unicast
(``2000::/3``, RFC 4291 §2.4) and when ``ipaddress`` calls them global: link-local ``fe80::/10``,
unique-local ``fc00::/7``, loopback ``::1``, documentation ``2001:db8::/32`` (RFC 3849) and the other
special-purpose blocks (RFC 6890) are not a person's. (A global unicast first group is 2000–3fff,
always four hex digits: ``ipv6`` candidates start there, and times, MACs and C++ ``a::b`` are not.)

Fictitious test values: ``203.0.113.7`` (TEST-NET-3, RFC 5737) is rejected as not global; the one
valid example is ``1.1.1.1``, a public resolver's address, not a person's.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from scanner.detection.recognizer import Candidate, Recognizer
from scanner.registry import RECOGNIZERS


@lru_cache(maxsize=65536)
def _global_slash24(prefix: str) -> bool:
    """``is_global`` of every address in ``prefix``.0/24: outside 192.0.0.0/24 the IANA special-purpose
    registry (which ``ipaddress`` encodes) has no block smaller than /24, so one answer per /24 holds,
    and access logs are full of addresses from the same /24s."""
    try:
        return ipaddress.ip_address(f"{prefix}.0").is_global
    except ValueError:
        return False


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_HEXTET = r"[0-9A-Fa-f]{1,4}"
_GLOBAL_UNICAST_FIRST = r"[23][0-9A-Fa-f]{3}"
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


@lru_cache(maxsize=4096)
def _global_v6(text: str) -> bool:
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return address in _GLOBAL_UNICAST and address.is_global
_HIDDEN = r"(?:\*|[xX]{1,3})"


@RECOGNIZERS.register
class IpAddressRecognizer(Recognizer):
    id = "ip_address"
    entity_type = "IP_ADDRESS"
    kind = "network"
    description = "Public IP address (an online identifier)"
    candidates = (
        Candidate("ipv4", rf"(?:{_OCTET}\.){{3}}{_OCTET}", 0.4),
        Candidate("ipv6_full", rf"{_GLOBAL_UNICAST_FIRST}(?::{_HEXTET}){{7}}", 0.4),
        Candidate("ipv6_compressed",
                  rf"{_GLOBAL_UNICAST_FIRST}(?::{_HEXTET}){{0,5}}::(?:{_HEXTET}(?::{_HEXTET}){{0,5}})?", 0.4),
    )
    # a hidden octet is ``*``, ``x`` or ``xxx``; the first octet stays (``192.168.*.*``, ``10.x.x.x``)
    masked = (
        rf"{_OCTET}\.{_HIDDEN}(?:\.(?:{_OCTET}|{_HIDDEN})){{2}}",
        rf"{_OCTET}\.{_OCTET}\.{_HIDDEN}\.(?:{_OCTET}|{_HIDDEN})",
        rf"(?:{_OCTET}\.){{3}}{_HIDDEN}",
    )
    context_words = ("ip", "client ip", "client_ip", "clientip", "remote_addr", "remote ip", "src ip",
                     "x-forwarded-for", "登录ip", "ip地址", "来源ip")
    # no ``.``: an address may end a sentence; a dotted run around it (``1.2.3.4.5``) is a decimal's digits
    # on either side, which the engine rejects
    boundary = "0-9A-Za-z:_-"
    requires_context = True
    priority = 5
    examples = ("1.1.1.1",)

    def normalize(self, text: str) -> str:
        return text.lower() if ":" in text else text

    def validate(self, value: str) -> bool:
        if ":" in value:
            return _global_v6(value)
        prefix, dot, _ = value.rpartition(".")
        if not dot:
            return False
        if prefix == "192.0.0":  # the one special-purpose block cut finer than /24 (RFC 6890)
            try:
                return ipaddress.ip_address(value).is_global
            except ValueError:
                return False
        return _global_slash24(prefix)

    def mask(self, text: str) -> str:
        if ":" in text:  # the routing prefix's first two groups stay (a provider, a region; not a subscriber)
            return ":".join([*self.normalize(text).split(":")[:2], "*"])
        parts = text.split(".")
        return ".".join([*parts[:2], "*", "*"])
