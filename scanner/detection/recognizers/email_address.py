"""E-mail address (RFC 5322 ``addr-spec``, the dot-atom subset seen in practice).

Validation requires a registrable domain: the top-level domain must be on the Public Suffix List,
read from tldextract's bundled snapshot (``suffix_list_urls=()``) so the scanner never fetches the
list over the network (Presidio's own e-mail recognizer does, on first use). File names such as
``logo@2x.png`` fail that check.

Fictitious test values: ``zhang.san@example.com``, ``li_si+bank@example.cn``.
"""

from __future__ import annotations

from functools import lru_cache

import tldextract

from scanner.detection.recognizer import Candidate, Recognizer
from scanner.registry import RECOGNIZERS


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=4096)
def _has_public_suffix(domain: str) -> bool:
    parts = _extractor()(domain)
    return bool(parts.suffix) and bool(parts.domain)


@RECOGNIZERS.register
class EmailAddressRecognizer(Recognizer):
    id = "email_address"
    entity_type = "EMAIL_ADDRESS"
    candidates = (
        Candidate(
            "email",
            r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}",
            0.6,
        ),
    )
    masked = (r"[A-Za-z0-9][*]{2,}[A-Za-z0-9]?@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}",)
    context_words = ("email", "e-mail", "mail", "邮箱", "电子邮件", "youxiang")
    boundary = "0-9A-Za-z._%+@-"
    priority = 10

    def normalize(self, text: str) -> str:
        return text.lower()

    def validate(self, value: str) -> bool:
        local, _, domain = value.rpartition("@")
        if not local or len(local) > 64 or len(domain) > 253 or ".." in value or local.endswith("."):
            return False
        return _has_public_suffix(domain)

    def mask(self, text: str) -> str:
        local, _, domain = self.normalize(text).rpartition("@")
        return f"{local[0]}***@{domain}"
