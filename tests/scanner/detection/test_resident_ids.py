"""Resident IDs are never lost: to a validator that raises, or to the credit-code check they also pass."""

from __future__ import annotations

import datetime
import re
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import numdb
from stdnum.cn import ric, uscc

from scanner.connector import ScanOptions
from scanner.demo import division_periods, resident_id
from scanner.detection.engine import Detector
from scanner.detection.recognizers.cn_resident_id import CnResidentIdRecognizer
from scanner.model import Chunk
from scanner.registry import RECOGNIZERS
from scanner.scan import run_scan

#: passes MOD 11-2 but 137038 is no division code stdnum knows a county of (it raised KeyError('county'))
UNKNOWN_DIVISION = "137038184211137714"
ID = "110101199003070011"


@lru_cache(maxsize=1)
def divisions() -> list[tuple[str, int, int]]:
    return division_periods()


@lru_cache(maxsize=1)
def ids_that_are_also_credit_codes() -> list[str]:
    """Valid resident IDs ending in X that also pass the GB 32100 check (about 1 in 31 of those ending X)."""
    out = []
    for day in range(1, 29):
        for sequence in range(100, 400):
            value = resident_id(f"12010119940{1 + day % 9}{day:02d}{sequence}")
            if value.endswith("X") and uscc.is_valid(value):
                out.append(value)
    return out


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


def test_the_table_holds_real_cases() -> None:
    assert ric.calc_check_digit(UNKNOWN_DIVISION) == UNKNOWN_DIVISION[-1] and ric.is_valid(ID)
    assert len(divisions()) > 3000 and len(ids_that_are_also_credit_codes()) >= 5


def both_ways() -> list[tuple[str, list[str]]]:
    both = ids_that_are_also_credit_codes()[0]
    return [
        (f"x {UNKNOWN_DIVISION} y\nid_card={ID}", ["CN_RESIDENT_ID"]),
        (f"order {both} shipped", ["CN_RESIDENT_ID"]),
        (f"身份证号 {both}", ["CN_RESIDENT_ID"]),
        (f"id_card={both.lower()}", ["CN_RESIDENT_ID"]),
        (f"统一社会信用代码 {both}", ["CN_USCC"]),
        (f"uscc={both}", ["CN_USCC"]),
    ]


@pytest.mark.parametrize(("text", "expected"), both_ways())
def test_overlapping_claims_are_settled_by_evidence(detector: Detector, text: str, expected: list[str]) -> None:
    assert [m.entity_type for m in detector.scan(Chunk(text.encode("utf-8"))).matches] == expected


@pytest.mark.parametrize(("column", "expected"), [("id_card", "CN_RESIDENT_ID"), ("notes", "CN_RESIDENT_ID"),
                                                  ("uscc", "CN_USCC"), ("统一社会信用代码", "CN_USCC")])
def test_a_column_name_decides_between_an_id_and_a_credit_code(detector: Detector, column: str,
                                                               expected: str) -> None:
    both = ids_that_are_also_credit_codes()[1]
    chunk = Chunk(f"name,{column}\n客户,{both}\n".encode(), layout="delimited", fields=("name", column))
    assert [m.entity_type for m in detector.scan(chunk).matches] == [expected]


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    code, first, last = draw(st.sampled_from(divisions()))
    year = draw(st.integers(first, last))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    value = resident_id(f"{code}{year}{month:02d}{day:02d}{draw(st.integers(0, 999)):03d}")
    return value.lower() if draw(st.booleans()) else value


@settings(max_examples=400, deadline=None)
@given(value=valid_ids())
def test_every_valid_id_is_found_in_a_log_line_and_a_csv_column(detector: Detector, value: str) -> None:
    assert ric.is_valid(value.upper())
    line = f"2024-11-24 INFO kyc check passed for {value} ok\n".encode()
    assert [m.entity_type for m in detector.scan(Chunk(line)).matches] == ["CN_RESIDENT_ID"]
    row = Chunk(f"name,zjhm\n客户,{value}\n".encode(), layout="delimited", fields=("name", "zjhm"))
    assert [m.entity_type for m in detector.scan(row).matches] == ["CN_RESIDENT_ID"]


@settings(max_examples=1500, deadline=None)
@given(text=st.text(alphabet="0123456789Xx", min_size=18, max_size=18)
       | st.from_regex(r"\A[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]\Z"))
def test_no_18_character_input_makes_a_recognizer_raise(text: str) -> None:
    for cls in RECOGNIZERS:
        recognizer = cls()
        recognizer.validate(recognizer.normalize(text))


def test_a_validator_that_raises_costs_one_candidate_not_the_file(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    original = CnResidentIdRecognizer.validate

    def validate(self: CnResidentIdRecognizer, value: str) -> bool:
        if value == UNKNOWN_DIVISION:
            raise KeyError("county")
        return original(self, value)

    monkeypatch.setattr(CnResidentIdRecognizer, "validate", validate)
    log = tmp_path / "b.log"
    log.write_text(f"x {UNKNOWN_DIVISION} y\nid_card={ID}\nagain {UNKNOWN_DIVISION}\nmobile=13812345678\n")
    report = run_scan([str(log)], ScanOptions(jobs=1))
    assert {f.entity_type for f in report.findings} >= {"CN_RESIDENT_ID", "CN_MOBILE_NUMBER"}
    notes = [n for n in report.notifications if n.exception == "ValidationError"]
    assert len(notes) == 1 and notes[0].kind == "internal-error"
    assert "cn_resident_id failed to validate 1 candidate(s)" in notes[0].message


# -- which division codes a valid number may carry (GB 11643 地址码: the county of household registration when
# the number was assigned, not of birth) ------------------------------------------------------------------------


def stdnum_valid(number: str) -> bool:
    """``ric.is_valid``, with its KeyError('county') for codes of a known province but unknown county a no."""
    try:
        return ric.is_valid(number)
    except KeyError:
        return False


def stdnum_periods(code: str) -> list[tuple[int | None, int | None]] | None:
    """(first year, last year) of each name stdnum's table gives ``code`` (None: open), or None when unknown."""
    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    if "county" not in info:
        return None
    periods = []
    for name in info["county"].split(","):
        years = re.match(r"\[(\d*)-(\d*)\]", name)
        periods.append((int(years[1]) if years and years[1] else None, int(years[2]) if years and years[2] else None))
    return periods


RESIDENT_ID_CASES = [
    # (number, should be reported, stdnum's verdict)
    (resident_id("11011219800101001"), True, False),  # Tongzhou (110112) exists since 1997: a 1980-born resident
    (resident_id("11011819550301002"), True, False),  # Miyun district (110118) since 2015
    (resident_id("12011019900101003"), True, True),  # 120110 was renamed in 1992 (东郊区 -> 东丽区): the same code
    (resident_id("11010320150101001"), False, False),  # Chongwen (110103) was merged into Dongcheng in 2010
    (resident_id("11020120000101001"), False, False),  # 110201 abolished 1982, a birth in 2000
    (resident_id("11010320100101001"), True, True),  # 110103 still existed in 2010
    (UNKNOWN_DIVISION, False, False),  # passes MOD 11-2, no such county code
    (resident_id("11010519900230001"), False, False),  # 30 February
    (resident_id("11010519901301001"), False, False),  # month 13
    (ID[:-1] + "2", False, False),  # wrong check character
    (ID, True, True),
]


@pytest.mark.parametrize(("number", "reported", "stdnum_verdict"), RESIDENT_ID_CASES)
def test_resident_id_table(detector: Detector, number: str, reported: bool, stdnum_verdict: bool) -> None:
    assert stdnum_valid(number) == stdnum_verdict
    found = [m.entity_type for m in detector.scan(Chunk(f"身份证号 {number}".encode())).matches]
    assert (found == ["CN_RESIDENT_ID"]) == reported


@st.composite
def ids_around_division_periods(draw: st.DrawFn) -> str:
    """Numbers over every county code, born up to 30 years before the code was created and up to 10 after it
    was abolished, some with a wrong check character, and some with unknown codes."""
    if draw(st.integers(0, 9)) == 0:
        code, first, last = draw(st.sampled_from(["137038", "110199", "990000", "710000"])), 1900, 2020
    else:
        code, first, last = draw(st.sampled_from(divisions()))
    year = draw(st.integers(max(1900, first - 30), min(2030, last + 10)))
    birth = draw(st.dates(datetime.date(year, 1, 1), datetime.date(year, 12, 31)))
    body = f"{code}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    check = ric.calc_check_digit(body + "0") if draw(st.booleans()) else draw(st.sampled_from("0123456789X"))
    return body + check


@settings(max_examples=1500, deadline=None)
@given(number=ids_around_division_periods())
def test_resident_id_validation_differs_from_stdnum_only_for_codes_created_after_birth(number: str) -> None:
    """The one intended difference from ``stdnum.cn.ric``: a county code created after the birth year (and
    not abolished before it) is accepted, because the code is where the household was registered when the
    number was assigned. Everything else (check character, date, unknown or abolished codes) agrees."""
    ours, theirs = CnResidentIdRecognizer().validate(number), stdnum_valid(number)
    if ours == theirs:
        return
    assert ours and not theirs
    year = int(number[6:10])
    periods = stdnum_periods(number[:6])
    assert periods is not None
    assert not any((first is None or first <= year) and (last is None or year <= last) for first, last in periods)
    assert any(first is not None and year < first for first, _last in periods)  # created after the birth year
    assert any(last is None or year <= last for _first, last in periods)  # not abolished before it
