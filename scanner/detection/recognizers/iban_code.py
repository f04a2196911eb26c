"""International Bank Account Number.

Format: ISO 13616 — two-letter country code, two check digits, country-specific BBAN of up to 30
alphanumerics; check digits per ISO 7064 MOD 97-10, country lengths and BBAN formats from the SWIFT
IBAN registry as ``stdnum.iban`` has them. The electronic form (upper case, no spaces) and the paper
form (groups of four separated by spaces, ISO 13616-1 §5.4) count on their own; other ways people
write them (lower case, dashes, irregular groups such as ``NO 93 86011117947``) only next to a
context word (IBAN, account) or in an IBAN field, where the check digits still decide.

Validation makes ``stdnum.iban.validate``'s checks in its order (MOD 97-10, the country's BBAN
structure, the country's own module such as the French RIB key) with the per-country structure
looked up once instead of per value: in customer exports every row holds a different IBAN and
the lookup was a quarter of their scan time. A hypothesis property checks it agrees with stdnum.

Fictitious test values: ``DE89370400440532013000``, ``GB29 NWBK 6016 1331 9268 19``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from stdnum import numdb
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_97_10
from stdnum.util import get_cc_module

from scanner.detection.recognizer import Candidate, Recognizer, mask_middle
from scanner.registry import RECOGNIZERS

_STRUCTURE_PART = re.compile(r"([1-9][0-9]*)!([nac])")
_CHARACTER_CLASS = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}


# a country code and check digits, then groups, right before a value: the IBAN-shaped token may hold it
_GROUPS_BEFORE = re.compile(rb"(?<![A-Za-z0-9])([A-Za-z]{2}[ -]?[0-9]{2}(?:[ -][A-Za-z0-9]{1,30}){0,8}[ -])\Z")
_ALNUM_RUN = re.compile(rb"[A-Za-z0-9]*")
_NEXT_GROUP = re.compile(rb"[ -][A-Za-z0-9]+")


@lru_cache(maxsize=256)
def _country_rules(country: str) -> tuple[re.Pattern[str], Any, int] | None:
    """The BBAN structure (``4!a6!n8!n`` -> a regex), the country-specific module and the IBAN's length,
    or None for a country without IBANs."""
    info = numdb.get("iban").info(country)[0][1]
    if not info:
        return None
    bban = info.get("bban", "")
    structure = _STRUCTURE_PART.sub(lambda m: f"{_CHARACTER_CLASS[m.group(2)]}{{{m.group(1)}}}", bban)
    length = 4 + sum(int(count) for count, _kind in _STRUCTURE_PART.findall(bban))
    return re.compile(f"^{structure}$"), get_cc_module(country.lower(), "iban"), length


def _iban_countries() -> str:
    """An alternation of the countries with IBANs in stdnum's registry (``AD|AE|AL|…``): the written forms
    start with one of them, not with any two letters (hex trace IDs start ``ab12…`` often enough)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    registry = numdb.get("iban")
    return "|".join(a + b for a in letters for b in letters if registry.info(a + b)[0][1])


@RECOGNIZERS.register
class IbanCodeRecognizer(Recognizer):
    id = "iban_code"
    entity_type = "IBAN_CODE"
    kind = "financial"
    description = "International bank account number"
    candidates = (
        Candidate("iban_plain", r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", 0.6),
        Candidate("iban_grouped", r"[A-Z]{2}[0-9]{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?", 0.6),
        Candidate("iban_written", rf"(?:{_iban_countries()})[ -]?[0-9]{{2}}(?:[ -]?[A-Za-z0-9]){{11,30}}", 0.5,
                  caseless=True, requires_context=True),


    )
    # ``DE89********3000``, ``DE89 3704 **** **** **30 00``, ``DE89 **** **** **** 3000 00``
    masked = (
        r"[A-Z]{2}[0-9]{2}[0-9]{0,8}[*xX#]{4,26}[0-9]{2,8}",
        # hidden groups are stars (or #) or a whole XXXX: BBANs hold letters, and ``287X`` is a group of one
        r"[A-Z]{2}[0-9]{2}(?: [0-9A-Z]{4}){0,2}(?: [0-9]{0,3}[*#]{1,4}| [xX]{4})(?: [*#]{4}| [xX]{4}){0,6}"
        r"(?: [*#]{0,3}[0-9A-Z]{1,4}){1,3}",
    )
    context_words = ("iban", "account", "bank account", "账号", "账户", "国际银行账号")
    priority = 30
    examples = ("DE89370400440532013000", "GB29 NWBK 6016 1331 9268 19")

    def normalize(self, text: str) -> str:
        return text.replace(" ", "").replace("-", "").upper()  # [A-Za-z0-9] in groups separated by " " or "-"

    def validate(self, value: str) -> bool:
        if len(value) < 5 or not value.isalnum() or not value.isascii():
            return False
        if not mod_97_10.is_valid(value[4:] + value[:4]):
            return False
        rules = _country_rules(value[:2])
        if rules is None:
            return False
        structure, country_module, _length = rules
        if not structure.match(value[4:]):
            return False
        if country_module is not None:
            try:
                country_module.validate(value)
            except ValidationError:
                return False
        return True

    def owns_span(self, text: str, value: str) -> bool:
        """A country code, two check digits and exactly the country's IBAN length: a mistyped IBAN (or
        one without the context its written form needs), whose digits are not a card or a mobile number
        (``NO 02 15038901234``, ``de12 4111 1111 1111 1111 00``). A lower-case country code must touch
        its check digits: ``no 12 13812345678`` is more likely "number 12" than an IBAN."""
        if not (value[2:4].isdigit() and value.isalnum()):
            return False
        if not (text[:2].isupper() or (text[:2].islower() and text[2:3].isdigit())):
            return False
        rules = _country_rules(value[:2])
        return rules is not None and len(value) == rules[2]

    def claims_around(self, data: bytes, start: int, end: int) -> bool:
        """Whether the value at ``start:end`` is a group of an IBAN-shaped token (``NO 02 15038901234``,
        ``de00-4111-1111-1111-1111-00``) that :meth:`owns_span`. Asked of values other recognizers took: the
        written forms are searched for only near the word IBAN (see ``Candidate.requires_context``), and
        without separators no other value fits inside such a token anyway."""
        line_start = data.rfind(b"\n", 0, start) + 1
        before = _GROUPS_BEFORE.search(data, max(line_start, start - 48), start)
        if before is None:
            return False
        position = _ALNUM_RUN.match(data, end).end()
        while True:
            text = data[before.start(1) : position].decode("ascii", "replace")
            if self.owns_span(text, self.normalize(text)):
                return True
            group = _NEXT_GROUP.match(data, position)
            if group is None or position - before.start(1) > 64:
                return False
            position = group.end()

    def mask(self, text: str) -> str:
        return mask_middle(self.normalize(text), keep_start=4, keep_end=4)
