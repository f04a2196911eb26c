"""IP address (IPv4 dotted quad).

Format: RFC 791 dotted-decimal IPv4, each octet 0–255 without leading zeros, checked with the
standard ``ipaddress`` module. An IP address identifies a customer only in some contexts (client
addresses in access logs), so it needs a context word or field name (client ip, remote_addr, 登录IP),
and loopback, private, link-local and reserved addresses are not reported. Version strings
(``v1.2.3.4``) are excluded by the boundary.

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
_HIDDEN = r"(?:\*|[xX]{1,3})"


@RECOGNIZERS.register
class IpAddressRecognizer(Recognizer):
    id = "ip_address"
    entity_type = "IP_ADDRESS"
    candidates = (
        Candidate("ipv4", rf"(?:{_OCTET}\.){{3}}{_OCTET}", 0.4),
    )
    # a hidden octet is ``*``, ``x`` or ``xxx``; the first octet stays (``192.168.*.*``, ``10.x.x.x``)
    masked = (
        rf"{_OCTET}\.{_HIDDEN}(?:\.(?:{_OCTET}|{_HIDDEN})){{2}}",
        rf"{_OCTET}\.{_OCTET}\.{_HIDDEN}\.(?:{_OCTET}|{_HIDDEN})",
        rf"(?:{_OCTET}\.){{3}}{_HIDDEN}",
    )
    context_words = ("ip", "client ip", "client_ip", "clientip", "remote_addr", "remote ip", "src ip",
                     "x-forwarded-for", "登录ip", "ip地址", "来源ip")
    boundary = "0-9A-Za-z.:_-"
    requires_context = True
    priority = 5
    examples = ("1.1.1.1",)

    def normalize(self, text: str) -> str:
        return text

    def validate(self, value: str) -> bool:
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
        parts = text.split(".")
        return ".".join([*parts[:2], "*", "*"])
