"""Unified Social Credit Code (统一社会信用代码) of organisations.

Format: GB 32100-2015 — 18 characters: registration authority and organisation type, 6-digit
division code, 9-character organisation code, and a check character (MOD 31 over the code's
alphabet without I, O, S, V, Z), validated with ``stdnum.cn.uscc``. It identifies companies, not
people: the recognizer exists so an 18-character code is recognised for what it is, and the
default policy grades it as not personal (``CN_USCC: null``) rather than mistaking it for an ID.

Fictitious test values: ``91110000600037341L`` style codes generated in tests with
``uscc.calc_check_digit``.
"""

from __future__ import annotations

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError

from scanner.detection.recognizer import Candidate, Recognizer, mask_middle
from scanner.registry import RECOGNIZERS


@RECOGNIZERS.register
class CnUsccRecognizer(Recognizer):
    id = "cn_uscc"
    entity_type = "CN_USCC"
    kind = "organisation"
    description = "Unified Social Credit Code (GB 32100) of an organisation"
    personal = False
    candidates = (
        Candidate("cn_uscc", r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}", 0.5),
    )
    context_words = ("统一社会信用代码", "信用代码", "uscc", "social credit code", "tyshxydm")
    # below CN_RESIDENT_ID: a value of 17 digits and X that passes both checks is an ID unless a context
    # word or field name says credit code (the engine ranks evidence first); GB 32100's 9th-17th
    # characters are an organisation code, which rarely forms a real birth date as well
    priority = 38
    examples = ("91110000600037341L",)

    def normalize(self, text: str) -> str:
        return text.upper()

    def validate(self, value: str) -> bool:
        if value.isdigit():
            return False  # an all-digit 18-character run is far more likely a resident ID or order number
        try:
            uscc.validate(value)
        except ValidationError:
            return False
        return True

    def mask(self, text: str) -> str:
        return mask_middle(self.normalize(text), keep_start=8, keep_end=2)
