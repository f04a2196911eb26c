"""Chinese bank card number (银行卡号): UnionPay and other domestic debit/credit cards.

Format: ISO/IEC 7812 primary account number of 16–19 digits; UnionPay IINs start with ``62``
(China UnionPay issuer identification ranges), domestic debit cards of the large banks also with
``4``/``5``/``9`` (e.g. ``955880`` ICBC legacy). The last digit is a Luhn (ISO/IEC 7812-1 annex B)
check digit, validated with ``stdnum.luhn``. Written plain or in groups of four.

Any other 16–19-digit Luhn-valid number is a bank card only with a card context word (卡号, 银行卡,
card no) or in a card field (``card_no``, ``kahao``, ``卡号``): on its own it is as likely an order
or trace number. More specific than CREDIT_CARD (higher priority), so a UnionPay number is reported
once, as a bank card.

Fictitious test values: ``6222021000112233449`` (Luhn-valid; ``6222021000112233440`` is not); tests
generate more with ``luhn.calc_check_digit``.
"""

from __future__ import annotations

from stdnum import luhn

from scanner.detection.recognizer import Candidate, Recognizer, digits_only, mask_middle
from scanner.registry import RECOGNIZERS

#: Maestro (5018, 5020, 5038, 5893) and Dankort (5019) IINs inside the ``pan_in_card_context`` ranges
_INTERNATIONAL_IN_DOMESTIC_RANGES = frozenset(("5018", "5019", "5020", "5038", "5893"))


@RECOGNIZERS.register
class CnBankCardRecognizer(Recognizer):
    id = "cn_bank_card"
    entity_type = "CN_BANK_CARD"
    kind = "financial"
    description = "UnionPay / domestic bank card or account number"
    candidates = (
        Candidate("unionpay_plain", r"62[0-9]{14,17}", 0.6),
        Candidate("unionpay_grouped", r"62[0-9]{2}(?:[ -][0-9]{4}){3}(?:[ -]?[0-9]{1,3})?", 0.6),
        Candidate("cn_debit_955", r"9558[0-9]{15}", 0.55),
        # other 16-19-digit numbers outside the international brands' IIN ranges (Visa 4, Mastercard
        # 51-55, Amex/JCB 3, Discover 6011/65: CREDIT_CARD) count only next to a card word or in a card
        # field: the base score is below the engine's threshold until context or a field name raises it
        Candidate("pan_in_card_context", r"(?:60(?:[02-9][0-9]|1[02-9])|5[06-9][0-9]{2}|[7-9][0-9]{3})[0-9]{12,15}",
                  0.2),
    )
    # display masks (JR/T 0171: first 6 and last 4 digits at most): ``622202******1234``,
    # ``6222 **** **** 1234``, ``6222 02XX XXXX 1234``, 19 digits ``6222 02** **** ***3 449``
    masked = (
        r"62[0-9]{2,4}[*xX#]{6,11}[0-9]{3,4}",
        r"62[0-9]{2}[ -][0-9]{0,2}[*xX#]{2,4}(?:[ -][*xX#]{4}){1,2}(?:[ -][*xX#]{0,3}[0-9]{1,4}){1,2}",
        r"[*#]{12,15}[0-9]{4}",
    )
    context_words = ("卡号", "银行卡", "银行卡号", "账号", "借记卡", "信用卡", "银联", "card", "card no", "card_no",
                     "cardno", "kahao", "unionpay", "pan", "account")
    boundary = "0-9A-Za-z"
    priority = 35
    examples = ("6222021000112233449",)

    def normalize(self, text: str) -> str:
        return digits_only(text)

    def validate(self, value: str) -> bool:
        if value[:4] in _INTERNATIONAL_IN_DOMESTIC_RANGES:
            return False  # Maestro and Dankort cards are CREDIT_CARD's
        return 16 <= len(value) <= 19 and luhn.is_valid(value)

    def mask(self, text: str) -> str:
        return mask_middle(self.normalize(text), keep_start=6, keep_end=4)
