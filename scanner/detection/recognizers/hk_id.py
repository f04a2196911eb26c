"""Hong Kong identity card number (香港身份證號碼).

Format: one or two letters, six digits and a check character in parentheses, e.g. ``A123456(3)``
(Registration of Persons Ordinance, Cap. 177). Check: weights 9 (or the value 36 for a missing
second letter), 8, 7 … 2 over letter values A=10 … Z=35 and the digits; the check character makes
the sum divisible by 11 (``A`` standing for 10). Written with the parentheses or without.

Fictitious test values: ``A123456(3)``, ``AB987654(3)``.
"""

from __future__ import annotations

from scanner.detection.recognizer import Candidate, Recognizer, mask_middle
from scanner.registry import RECOGNIZERS


def hk_check_character(body: str) -> str:
    """Check character of the letters+digits part of an HKID (``A123456`` -> ``3``)."""
    body = body.upper()
    padded = body if len(body) == 8 else " " + body
    total = 0
    for weight, ch in zip(range(9, 1, -1), padded, strict=True):
        value = 36 if ch == " " else (ord(ch) - 55 if ch.isalpha() else int(ch))
        total += weight * value
    check = (11 - total % 11) % 11
    return "A" if check == 10 else str(check)


@RECOGNIZERS.register
class HkIdRecognizer(Recognizer):
    id = "hk_id"
    entity_type = "HK_ID"
    kind = "identity"
    description = "Hong Kong identity card number"
    candidates = (
        Candidate("hkid_paren", r"[A-Z]{1,2}[0-9]{6}\([0-9A]\)", 0.65),
        Candidate("hkid_plain", r"[A-Z]{1,2}[0-9]{6}[0-9A]", 0.4),
    )
    masked = (r"[A-Z]{1,2}[0-9]{2}[*xX#]{4}\([0-9A]\)", r"[A-Z]{1,2}[*xX#]{6}\([0-9A]\)")
    context_words = ("香港身份证", "香港身份證", "身份證", "港澳", "hkid", "hong kong id", "hk id", "identity card")
    # the engine needs a candidate's first and last characters inside the boundary class
    boundary = "0-9A-Za-z()"
    priority = 30
    examples = ("A123456(3)", "AB987654(3)")

    def normalize(self, text: str) -> str:
        return "".join(ch for ch in text if ch.isalnum()).upper()

    def validate(self, value: str) -> bool:
        if len(value) not in (8, 9):
            return False
        body, check = value[:-1], value[-1]
        return hk_check_character(body) == check

    def mask(self, text: str) -> str:
        return mask_middle(self.normalize(text), keep_start=1, keep_end=1)
