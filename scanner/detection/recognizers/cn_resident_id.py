"""Chinese resident identity card number (居民身份证号码).

Format: GB 11643-1999 — 6-digit administrative division code (GB/T 2260), 8-digit birth date
(YYYYMMDD), 3-digit sequence (odd for men), 1 check character computed with ISO 7064 MOD 11-2
(``X`` stands for 10).

Validation checks the check character, that the birth date is a real calendar date and that the
division code is one GB/T 2260 has had (stdnum's ``cn/loc.dat`` table with each code's years), so
18-digit order or trace numbers almost never pass. It deliberately differs from
``stdnum.cn.ric.validate`` in one point: stdnum requires the county code to have existed *in the
birth year*. GB 11643 defines the address code (地址码) as that of the county where the holder's
household was registered *when the number was assigned*, not the birthplace: a person born in 1980
who was first registered (or re-registered after a move) in Beijing's Tongzhou district, created in
1997, holds a number starting 110112 with a 1980 birth date, and stdnum rejects it. Here a code is
accepted if it existed at any time not entirely before the birth year; codes abolished before the
birth year, unknown codes, impossible dates and wrong check characters are still rejected. (A
property test against stdnum pins this as the only difference.)

Fictitious test values: ``11010519491231002X``, ``440106199007120037``.
"""

from __future__ import annotations

import datetime
import re
from functools import lru_cache
from pathlib import Path

from stdnum.cn import ric

from scanner.detection.recognizer import Candidate, Recognizer, mask_middle
from scanner.registry import RECOGNIZERS

_PERIOD = re.compile(r"\[(\d*)-(\d*)\]")
#: the last year a code existed in, for codes that no longer exist
STILL_EXISTS = 9999


def division_table(text: str) -> dict[str, int]:
    """``code -> last year it existed`` (``STILL_EXISTS`` for current codes) from the text of stdnum's
    ``cn/loc.dat``: province lines (``11 province=...``) followed by indented county lines
    (``  0112 county="[1997-]通州区"``; several names with their years separated by commas when a code
    was renamed or reused). A name without years has always existed."""
    last: dict[str, int] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            continue
        code, _, rest = line.strip().partition(" ")
        county = rest.partition("county=")[2].strip().strip('"')
        if not county:
            continue
        years = 0
        for name in county.split(","):
            period = _PERIOD.match(name)
            years = max(years, int(period[2]) if period and period[2] else STILL_EXISTS)
        last[province + code] = years
    return last


@lru_cache(maxsize=1)
def division_last_years() -> dict[str, int]:
    """:func:`division_table` of the ``cn/loc.dat`` that ships with stdnum, read once (~3 ms)."""
    import stdnum.cn

    return division_table((Path(stdnum.cn.__file__).parent / "loc.dat").read_text("utf-8"))


@lru_cache(maxsize=1)
def _provinces() -> frozenset[str]:
    return frozenset(code[:2] for code in division_last_years())


@RECOGNIZERS.register
class CnResidentIdRecognizer(Recognizer):
    id = "cn_resident_id"
    entity_type = "CN_RESIDENT_ID"
    kind = "identity"
    description = "Resident identity card number (GB 11643)"
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
        """Check character, calendar date, and a division code not abolished before the birth year
        (see the module docstring for why a code created after it is accepted)."""
        if len(value) != 18 or not value[:17].isdigit() or value[17] != ric.calc_check_digit(value):
            return False
        year = int(value[6:10])
        try:
            datetime.date(year, int(value[10:12]), int(value[12:14]))
        except ValueError:
            return False
        last = division_last_years().get(value[:6])
        return last is not None and year <= last

    def owns_span(self, text: str, value: str) -> bool:
        """The candidate pattern already requires a birth date's shape; with a province's code in front
        (11 Beijing … 82 Macao), an 18-digit number that fails the checks is a mistyped or made-up ID,
        not a UnionPay card or a credit code that happens to have its digits."""
        return value[:2] in _provinces()

    def is_masked_form(self, text: bytes) -> bool:
        return len(text) == 18

    def mask(self, text: str) -> str:
        return mask_middle(self.normalize(text), keep_start=6, keep_end=4)
