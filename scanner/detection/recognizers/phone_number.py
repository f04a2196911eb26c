"""International telephone number (E.164).

Format: ITU-T E.164 — ``+`` country code and national number, at most 15 digits, usually written
with spaces, hyphens, dots or a parenthesised area code, in groups of any length (``+44 7826 581931``,
``+49 151 20736565``, ``+91 4155550132``). Validated with libphonenumber
(``phonenumbers.is_valid_number``: number length and allocated ranges per country). Only numbers
written with the international ``+`` prefix are candidates: bare digit runs in logs (timestamps,
order numbers, counters) are not phone numbers, and mainland mobiles are CN_MOBILE_NUMBER (which wins
overlaps by priority).

Fictitious test values: ``+44 20 7946 0958`` (Ofcom drama range), ``+1 202-555-0143``.
"""

from __future__ import annotations

import phonenumbers

from scanner.detection.recognizer import Candidate, Recognizer, mask_middle
from scanner.registry import RECOGNIZERS


@RECOGNIZERS.register
class PhoneNumberRecognizer(Recognizer):
    id = "phone_number"
    entity_type = "PHONE_NUMBER"
    candidates = (
        Candidate("e164_plain", r"\+[1-9][0-9]{7,14}", 0.55),
        # groups of up to 12 digits: national numbers are written in one piece after the country code
        # (``+91 4155550132``) or in groups longer than five (``+44 7826 581931``); a candidate that takes
        # a following number along fails validation and its shorter end is tried too
        Candidate("e164_grouped",
                  r"\+[1-9][0-9]{0,3}[ .-]?(?:\([0-9]{1,4}\)[ .-]?)?[0-9]{1,12}(?:[ .-][0-9]{2,12}){1,4}", 0.5),
        Candidate("e164_split", r"\+[1-9][0-9]{0,3}[ .-][0-9]{4,14}", 0.5),  # ``+1 2025550143``, ``+39 212345678``
        # the country code in parentheses: ``(+44) 20 7946 0958``, ``(+49)15120736565``
        Candidate("e164_paren_cc", r"\(\+[1-9][0-9]{0,3}\)[ .-]?[0-9]{1,12}(?:[ .-][0-9]{1,12}){0,4}", 0.5),
    )
    masked = (r"\+[1-9][0-9]{0,3}[ -]?[0-9]{0,4}[ -]?[*xX#]{3,8}[ -]?[0-9]{2,4}",)
    context_words = ("phone", "tel", "telephone", "mobile", "cell", "fax", "contact", "电话", "联系电话", "手机")
    boundary = "0-9A-Za-z+"
    priority = 10
    examples = ("+44 20 7946 0958", "+1 202-555-0143")

    def normalize(self, text: str) -> str:
        return "+" + "".join(ch for ch in text if ch.isdigit())

    def validate(self, value: str) -> bool:
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            return False
        return phonenumbers.is_valid_number(number)

    def mask(self, text: str) -> str:
        return mask_middle(self.normalize(text), keep_start=3, keep_end=2)
