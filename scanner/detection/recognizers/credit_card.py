"""International payment card number (credit/debit PAN).

Format: ISO/IEC 7812-1 primary account number, 13–19 digits with a Luhn check digit
(``stdnum.luhn``); issuer identification ranges of the card schemes: Visa ``4``, Mastercard
``51–55`` and ``2221–2720`` (16 digits only), American Express ``34``/``37`` (15 digits), Discover
``6011``/``65``, JCB ``3528–3589``, Diners Club International ``300–305``, ``3095``, ``36``, ``38``/``39``
(14 digits), Maestro ``5018``, ``5020``, ``5038``, ``5893``, ``6304``, ``6759``, ``6761–6763`` (16 or 19
digits; the other lengths, 12–18, are rare and too like order and snowflake IDs), Dankort ``5019``
(16 digits; Visa/Dankort is ``4571``). Written plain or in groups (4-4-4-4, 4-4-4-4-3, Amex 4-6-5,
Diners 4-6-4). PCI DSS 3.4 requires PANs to be unreadable wherever stored. UATP airline cards (15
digits from ``1``) are not candidates: fifteen digits from 1 are mostly counters and microsecond
times, and the pattern alone cost a seventh of the candidate scan on logs.

Fictitious test values: ``4111111111111111`` (Visa test PAN), ``5555555555554444``, ``378282246310005``,
``30569309025904`` (Diners test PAN), ``6759649826438453`` (Maestro), ``5019717010103742`` (Dankort).
"""

from __future__ import annotations

from stdnum import luhn

from scanner.detection.recognizer import Candidate, Recognizer, digits_only, mask_middle
from scanner.registry import RECOGNIZERS

_IIN = (
    r"(?:4[0-9]{3}|5[1-5][0-9]{2}|2(?:2[2-9][0-9]|[3-6][0-9]{2}|7[01][0-9]|720)"  # Visa, Mastercard
    r"|6011|65[0-9]{2}|35(?:2[89]|[3-8][0-9]))"  # Discover, JCB
)

_IIN_19 = r"(?:4[0-9]{3}|6011|65[0-9]{2}|35(?:2[89]|[3-8][0-9]))"  # brands that issue 19-digit PANs
_DINERS = r"(?:30[0-5][0-9]|3095|36[0-9]{2}|3[89][0-9]{2})"
_MAESTRO = r"(?:50(?:18|20|38)|5893|6304|6759|676[1-3])"
_DANKORT = r"5019"


@RECOGNIZERS.register
class PaymentCardRecognizer(Recognizer):
    id = "credit_card"
    entity_type = "CREDIT_CARD"
    kind = "financial"
    description = "Payment card number (Luhn)"
    candidates = (
        # Mastercard PANs (51-55, 2221-2720) are 16 digits only; Visa, Discover and JCB also issue 19.
        # Without that split, 19-digit snowflake IDs starting 22-27 were Luhn-valid "cards" one time in ten.
        Candidate("pan_plain_16", _IIN + r"[0-9]{12}", 0.6),
        Candidate("pan_plain_19", _IIN_19 + r"[0-9]{15}", 0.6),
        Candidate("pan_grouped", _IIN + r"(?:[ -][0-9]{4}){3}", 0.6),
        Candidate("amex_plain", r"3[47][0-9]{13}", 0.6),
        Candidate("amex_grouped", r"3[47][0-9]{2}[ -][0-9]{6}[ -][0-9]{5}", 0.6),
        Candidate("diners_plain", _DINERS + r"[0-9]{10}", 0.6),
        Candidate("diners_grouped", _DINERS + r"[ -][0-9]{6}[ -][0-9]{4}", 0.6),
        Candidate("maestro_dankort_plain", rf"(?:{_MAESTRO}(?:[0-9]{{12}}|[0-9]{{15}})|{_DANKORT}[0-9]{{12}})", 0.6),
        Candidate("maestro_dankort_grouped", rf"(?:{_MAESTRO}|{_DANKORT})(?:[ -][0-9]{{4}}){{3}}", 0.6),
        Candidate("pan_grouped_19", rf"(?:{_IIN_19}|{_MAESTRO})(?:[ -][0-9]{{4}}){{3}}[ -][0-9]{{3}}", 0.6),
    )
    # PCI DSS 3.3 display masks (first 6 and last 4 digits at most), plain or grouped:
    # ``411111******1111``, ``4111 **** **** 1111``, ``4111 11XX XXXX 1111``
    masked = (
        r"(?:[2-5][0-9]{3,5}|6011[0-9]{0,2}|65[0-9]{2,4})[*xX#]{4,11}[0-9]{4}",
        r"(?:[2-5][0-9]{3}|6011|65[0-9]{2})[ -][0-9]{0,2}[*xX#]{2,6}(?:[ -][*xX#]{4}){0,2}"
        r"(?:[ -][*xX#]{0,3}[0-9]{1,5}){1,2}",
    )
    context_words = ("card", "credit card", "card no", "card_no", "cardnumber", "pan", "visa", "mastercard", "amex",
                     "信用卡", "卡号")
    priority = 20
    examples = ("4111111111111111", "5555555555554444", "378282246310005", "30569309025904", "6759649826438453",
                "5019717010103742")

    def normalize(self, text: str) -> str:
        return digits_only(text)

    def validate(self, value: str) -> bool:
        return 13 <= len(value) <= 19 and luhn.is_valid(value)

    def mask(self, text: str) -> str:
        return mask_middle(self.normalize(text), keep_start=6, keep_end=4)
