"""Resident IDs are never lost: to a validator that raises, or to the credit-code check they also pass."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
