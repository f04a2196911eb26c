"""Chinese resident identity card number (居民身份证号码).

Format: GB 11643-1999 — 6-digit administrative division code (GB/T 2260), 8-digit birth date
(YYYYMMDD), 3-digit sequence (odd for men), 1 check character computed with ISO 7064 MOD 11-2
(``X`` stands for 10). Validation (``stdnum.cn.ric``) checks the check character, that the birth
date is a real calendar date and that the division code exists, so 18-digit order or trace
numbers almost never pass.

Fictitious test values: ``11010519491231002X``, ``440106199007120037``.
"""

from __future__ import annotations

from functools import lru_cache

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from scanner.detection.recognizer import Candidate, Recognizer, mask_middle
from scanner.registry import RECOGNIZERS


@lru_cache(maxsize=65536)
def _division_existed(division: str, year: str) -> bool:
    """Whether the division code was assigned in the birth year (``stdnum``'s GB/T 2260 table, which
    costs ~0.2 ms a lookup): only these two decide it, so it is cached on them."""
    try:
        ric.get_birth_place(f"{division}{year}0101000")
    except (ValidationError, KeyError):  # stdnum raises KeyError('county') for codes it has no county of
        return False
    return True


@RECOGNIZERS.register
class CnResidentIdRecognizer(Recognizer):
    id = "cn_resident_id"
    entity_type = "CN_RESIDENT_ID"
    candidates = (
        Candidate(
            "cn_ric_18",
            r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]",
            0.7,
        ),
    )
    # any split of kept and hidden characters (``110101********123X``, ``110101****0307123X``,
    # ``1101**********123X``); ``is_masked_form`` checks the 18 characters
    masked = (
        r"[0-9]{0,8}[*xX#]{4,17}[0-9]{0,8}[0-9Xx]",
        r"[*#]{14}[0-9]{3}[0-9Xx]",
    )
    context_words = ("身份证", "证件号", "证件号码", "身份证号", "sfz", "sfzh", "id card", "id_card", "idcard",
                     "id no", "id_no", "resident id", "citizen id", "identity")
    priority = 40
    examples = ("11010519491231002X", "440106199007120037")

    def normalize(self, text: str) -> str:
        return text.upper()

    def validate(self, value: str) -> bool:
        """``stdnum.cn.ric.validate``'s checks in its order, with the division lookup cached."""
        if len(value) != 18 or not value[:17].isdigit() or value[17] != ric.calc_check_digit(value):
            return False
        try:
            ric.get_birth_date(value)
        except ValidationError:
            return False
        return _division_existed(value[:6], value[6:10])

    def is_masked_form(self, text: bytes) -> bool:
        return len(text) == 18

    def mask(self, text: str) -> str:
        return mask_middle(self.normalize(text), keep_start=6, keep_end=4)
