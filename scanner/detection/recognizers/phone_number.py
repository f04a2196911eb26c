"""International telephone number (E.164).

Format: ITU-T E.164 — ``+`` country code and national number, at most 15 digits, usually written
with spaces, hyphens, dots or a parenthesised area code, in groups of any length (``+44 7826 581931``,
``+49 151 20736565``, ``+91 4155550132``). Validated with libphonenumber
(``phonenumbers.is_valid_number``: number length and allocated ranges per country). Numbers written
with the international ``+`` prefix count on their own. Numbers in a national format (``(415) 555-0132``,
``020 7946 0958``, ``010-6552 9988``) count only next to a context word (phone, tel, call, 电话 …) or
in a phone field, when they are valid in one of ``NATIONAL_REGIONS`` (their region is otherwise
unknown): digit groups in logs (dates, amounts, counters) are far too many to be phone numbers
without that. Bare digit runs without ``+`` are never candidates, and mainland mobiles are
CN_MOBILE_NUMBER (which wins overlaps by priority).

Fictitious test values: ``+44 20 7946 0958`` (Ofcom drama range), ``+1 202-555-0143``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from scanner.detection.recognizer import Candidate, Recognizer, mask_middle
from scanner.registry import RECOGNIZERS

#: regions a national-format number is tried in, in this order (the first that validates it gives its E.164)
NATIONAL_REGIONS = ("CN", "HK", "TW", "US", "GB", "DE", "FR", "IN", "JP", "IL", "BR", "AU", "SG")
_DATE = re.compile(r"(?:19|20)[0-9]{2}[-./ ](?:0?[1-9]|1[0-2])[-./ ](?:0?[1-9]|[12][0-9]|3[01])\Z"
                   r"|(?:0?[1-9]|[12][0-9]|3[01])[-./ ](?:0?[1-9]|1[0-2])[-./ ](?:19|20)[0-9]{2}\Z")


@lru_cache(maxsize=4096)
def national_number(text: str) -> phonenumbers.PhoneNumber | None:
    """The number a national-format ``text`` is in the first of ``NATIONAL_REGIONS`` where it is valid. Eight
    to twelve digits (the national numbers of those regions), and not a date: the shorter digit groups
    around are dates, times and amounts that some numbering plan always has a number for."""
    if not 8 <= sum(ch.isdigit() for ch in text) <= 12 or _DATE.match(text):
        return None
    for region in NATIONAL_REGIONS:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
    return None


@RECOGNIZERS.register
class PhoneNumberRecognizer(Recognizer):
    id = "phone_number"
    entity_type = "PHONE_NUMBER"
    kind = "contact"
    description = "Telephone number (E.164 or national)"
    candidates = (
        Candidate("e164_plain", r"\+[1-9][0-9]{7,14}", 0.55),
        # groups of up to 12 digits: national numbers are written in one piece after the country code
        # (``+91 4155550132``) or in groups longer than five (``+44 7826 581931``); a candidate that takes
        # a following number along fails validation and its shorter end is tried too
        Candidate("e164_grouped",
                  r"\+[1-9][0-9]{0,3}[ .-]?(?:\([0-9]{1,4}\)[ .-]?)?[0-9]{1,12}(?:[ .-][0-9]{1,12}){1,4}", 0.5),
        Candidate("e164_split", r"\+[1-9][0-9]{0,3}[ .-][0-9]{4,14}", 0.5),  # ``+1 2025550143``, ``+39 212345678``
        # the country code in parentheses: ``(+44) 20 7946 0958``, ``(+49)15120736565``
        Candidate("e164_paren_cc", r"\(\+[1-9][0-9]{0,3}\)[ .-]?[0-9]{1,12}(?:[ .-][0-9]{1,12}){0,4}", 0.5),
        # national formats, with context only: a parenthesised area code (``(415) 555-0132``, ``(11) 96123-0000``),
        # a trunk prefix 0 (``090-1234-5678``, ``06 12 34 56 78``, ``010-6552 9988``), the North American
        # 3-3-4 (``415-555-0132``), eight digits in two groups (Hong Kong, Singapore: ``2123 4567``)
        Candidate("national_area_code", r"\([0-9]{1,5}\) ?[0-9]{2,5}[ .-]?[0-9]{3,5}", 0.5, requires_context=True),
        Candidate("national_trunk", r"0[0-9]{1,5}(?:[ .-][0-9]{2,8}){1,4}", 0.5, requires_context=True),
        Candidate("national_nanp", r"[2-9][0-9]{2}[ .-][2-9][0-9]{2}[ .-][0-9]{4}", 0.5, requires_context=True),
        Candidate("national_eight", r"[2-9][0-9]{3}[ -][0-9]{4}", 0.5, requires_context=True),
    )
    masked = (r"\+[1-9][0-9]{0,3}[ -]?[0-9]{0,4}[ -]?[*xX#]{3,8}[ -]?[0-9]{2,4}",)
    context_words = ("phone", "tel", "telephone", "mobile", "cell", "fax", "contact", "call", "hotline", "电话",
                     "联系电话", "手机", "座机", "致电")
    # ``-``: a number inside a hyphenated token (a UUID's ``4390-9485``) is none
    boundary = "0-9A-Za-z+-"
    priority = 10
    examples = ("+44 20 7946 0958", "+1 202-555-0143")

    def prepare(self) -> None:
        """Also load every national region's metadata (a number valid in none of them tries them all)."""
        super().prepare()
        national_number("0000 0000")

    def normalize(self, text: str) -> str:
        """``+`` and the digits of an international number; a national one as written (its separators tell
        a date from a number, and ``canonical`` gives the form it is hashed in)."""
        if "+" in text:
            return "+" + "".join(ch for ch in text if ch.isdigit())
        return text

    def canonical(self, value: str) -> str:
        """A national number in its E.164 form in the first of ``NATIONAL_REGIONS`` that has it."""
        if value.startswith("+"):
            return value
        number = national_number(value)
        if number is None:
            return "".join(ch for ch in value if ch.isdigit())
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def validate(self, value: str) -> bool:
        if not value.startswith("+"):
            return national_number(value) is not None
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            return False
        return phonenumbers.is_valid_number(number)

    def owns_span(self, text: str, value: str) -> bool:
        """An international number of a length its country can have that fails validation (``+44 7826
        58193``, a digit short) is a mistyped number, not a national number in its tail. One too long
        for its country has likely taken the next number along, and claims nothing."""
        if "+" not in text:
            return False
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            return False
        return phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.TOO_LONG

    def mask(self, text: str) -> str:
        if "+" not in text:  # a national number: its region is a guess, the evidence does not name one
            return mask_middle("".join(ch for ch in text if ch.isdigit()), keep_start=3, keep_end=2)
        return mask_middle(self.normalize(text), keep_start=3, keep_end=2)
