"""People's Republic of China passport number (中华人民共和国护照号码).

Format: ordinary electronic passports ``E`` + 8 digits (since 2012), or ``E`` + letter + 7 digits
once the all-digit series ran out; older ``G`` + 8 digits, service/diplomatic ``P``/``S``/``D`` + 7–8
digits (ICAO Doc 9303 document number field). There is no public check digit outside the MRZ, so
a candidate only counts with a context word (护照, passport) or a passport field name.

Fictitious test values: ``E12345678``, ``EA1234567``, ``G00000001``.
"""

from __future__ import annotations

from scanner.detection.recognizer import Candidate, Recognizer, mask_middle
from scanner.registry import RECOGNIZERS


@RECOGNIZERS.register
class CnPassportRecognizer(Recognizer):
    id = "cn_passport"
    entity_type = "CN_PASSPORT"
    kind = "identity"
    description = "Chinese passport number"
    candidates = (
        Candidate("cn_passport_e", r"E[0-9]{8}", 0.4),
        Candidate("cn_passport_ea", r"E[A-HJ-NP-Z][0-9]{7}", 0.4),
        Candidate("cn_passport_g", r"G[0-9]{8}", 0.4),
        Candidate("cn_passport_official", r"[DSP]E?[0-9]{7}", 0.3),
    )
    masked = (r"[EGDSP][A-Z]?[0-9]{1,2}[*xX#]{4,6}[0-9]{2}",)
    context_words = ("护照", "护照号", "护照号码", "passport", "passport no", "passport_no", "huzhao")
    requires_context = True
    priority = 20
    examples = ("E12345678", "EA1234567")

    def normalize(self, text: str) -> str:
        return text.upper()

    def validate(self, value: str) -> bool | None:
        return None

    def mask(self, text: str) -> str:
        return mask_middle(self.normalize(text), keep_start=1, keep_end=2)
