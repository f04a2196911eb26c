"""IP address (IPv4 dotted quad).

Format: RFC 791 dotted-decimal IPv4, each octet 0–255 without leading zeros, checked with the
standard ``ipaddress`` module. An IP address identifies a customer only in some contexts (client
addresses in access logs), so it needs a context word or field name (client ip, remote_addr, 登录IP),
and loopback, private, link-local and reserved addresses are not reported. Version strings
(``v1.2.3.4``) are excluded by the boundary.

Fictitious test values: ``203.0.113.7`` (TEST-NET-3, RFC 5737) — documentation ranges are reserved,
so real-looking public addresses are used only inside tests.
"""

from __future__ import annotations

import ipaddress

from scanner.detection.recognizer import Candidate, Recognizer
from scanner.registry import RECOGNIZERS

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"


@RECOGNIZERS.register
class IpAddressRecognizer(Recognizer):
    id = "ip_address"
    entity_type = "IP_ADDRESS"
    candidates = (
        Candidate("ipv4", rf"(?:{_OCTET}\.){{3}}{_OCTET}", 0.4),
    )
    context_words = ("ip", "client ip", "client_ip", "clientip", "remote_addr", "remote ip", "src ip",
                     "x-forwarded-for", "登录ip", "ip地址", "来源ip")
    boundary = "0-9A-Za-z.:_-"
    requires_context = True
    priority = 5

    def normalize(self, text: str) -> str:
        return text

    def validate(self, value: str) -> bool:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        return address.is_global

    def mask(self, text: str) -> str:
        parts = text.split(".")
        return ".".join([*parts[:2], "*", "*"])
