"""International Bank Account Number.

Format: ISO 13616 — two-letter country code, two check digits, country-specific BBAN of up to 30
alphanumerics; check digits per ISO 7064 MOD 97-10, country lengths and BBAN formats validated with
``stdnum.iban``. Written plain or in groups of four separated by spaces.

Fictitious test values: ``DE89370400440532013000``, ``GB29 NWBK 6016 1331 9268 19``.
"""

from __future__ import annotations

from stdnum import iban
from stdnum.exceptions import ValidationError

from scanner.detection.recognizer import Candidate, Recognizer, mask_middle
from scanner.registry import RECOGNIZERS


@RECOGNIZERS.register
class IbanCodeRecognizer(Recognizer):
    id = "iban_code"
    entity_type = "IBAN_CODE"
    candidates = (
        Candidate("iban_plain", r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", 0.6),
        Candidate("iban_grouped", r"[A-Z]{2}[0-9]{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?", 0.6),
    )
    masked = (r"[A-Z]{2}[0-9]{2}[*xX#]{8,26}[0-9]{4}",)
    context_words = ("iban", "account", "bank account", "账号", "账户", "国际银行账号")
    priority = 30
    examples = ("DE89370400440532013000", "GB29 NWBK 6016 1331 9268 19")

    def normalize(self, text: str) -> str:
        return "".join(ch for ch in text if ch.isalnum()).upper()

    def validate(self, value: str) -> bool:
        try:
            iban.validate(value)
        except ValidationError:
            return False
        return True

    def mask(self, text: str) -> str:
        return mask_middle(self.normalize(text), keep_start=4, keep_end=4)
