"""Names that leave the process: masked where they hold a value, untouched where they do not."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from scanner.cli import main
from scanner.demo import card_from, resident_id
from scanner.model import Level, Notification, Resource
from scanner.redaction import HASH_MARK, escape_controls, for_humans, mask_text, name_hash, redact

RID = resident_id("11010519900307001")
CARD = card_from("622202100011223344")
MOBILE = "13812345678"
EMAIL = "zhang.wei@example.com"

# (name, what its masked form starts with, or None when it holds no personal value and stays as it is)
NAMES = [
    (f"{RID}.pdf", f"{RID[:6]}********{RID[-4:]}.pdf;k="),
    (f"ID{RID}_front.jpg", f"ID{RID[:6]}********{RID[-4:]}_front.jpg;k="),
    (f"file:///srv/kyc/{RID}.pdf", f"file:///srv/kyc/{RID[:6]}********{RID[-4:]}.pdf;k="),
    (f"file:///srv/%E8%BA%AB{RID}.pdf", f"file:///srv/%E8%BA%AB{RID[:6]}********{RID[-4:]}.pdf;k="),
    (f"s3://bucket/{MOBILE}/statement.csv", "s3://bucket/138****5678;k="),
    (f"main.c_{MOBILE}.{RID}", "main.c_138****5678."),
    (f"card{CARD}", f"card{CARD[:6]}"),
    (f"{EMAIL}.csv", "Z***@example.com.csv;k="),
    (f"客户{RID}", f"客户{RID[:6]}********"),
    (f"Directory /srv/{RID} could not be listed.", f"Directory /srv/{RID[:6]}********{RID[-4:]};k="),
    (resident_id("11010519920414174"), "110105********174X;k="),  # also passes as a credit code: still an ID
    ("postgresql://auditor@db.example.com:5432/core", None),
    ("logs/app.log.1.gz", None),
    ("2026-12-02T19:00:00Z", None),
    ("order 20241124153000123 done", None),
    ("abcdef0123456789abcdef0123456789", None),  # our own keyed fingerprints
    ("91350100M000100Y43", None),  # an organisation's credit code is not personal data
    ("v1.2.3/release-2024.tar.gz", None),
]


@pytest.mark.parametrize(("name", "masked_prefix"), NAMES)
def test_names_are_masked_only_where_they_hold_a_value(name: str, masked_prefix: str | None) -> None:
    masked = mask_text(name)
    if masked_prefix is None:
        assert masked == name
        return
    assert masked.lower().startswith(masked_prefix.lower())  # e-mail evidence keeps the case it was first seen in
    assert HASH_MARK in masked
    for value in (RID, CARD, MOBILE, EMAIL):
        assert value not in masked


def test_the_hash_is_keyed_and_of_the_real_name(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"{RID}.pdf"
    first = mask_text(name)
    assert first.endswith(HASH_MARK + name_hash(name.encode()))
    assert mask_text(f"{resident_id('11010519900307002')}.pdf") != first  # same mask, other hash
    from scanner import fingerprint, redaction

    monkeypatch.setenv(fingerprint.ENV_KEY, "another key of at least sixteen bytes")
    fingerprint.load_key.cache_clear()
    redaction.mask_token.cache_clear()
    try:
        assert mask_text(name) != first
    finally:
        monkeypatch.undo()
        fingerprint.load_key.cache_clear()
        redaction.mask_token.cache_clear()


@pytest.mark.parametrize(("text", "shown"), [
    ("evil\r\x1b[2Jname\x07", "evil\\x0d\\x1b[2Jname\\x07"),
    ("a\nprivaudit: error: forged", "a\\x0aprivaudit: error: forged"),
    ("right-to-left \u202etxt.exe", "right-to-left \\u202etxt.exe"),
    ("plain 中文 name", "plain 中文 name"),
])
def test_control_characters_are_shown_as_escapes(text: str, shown: str) -> None:
    assert escape_controls(text) == shown


def test_undecodable_bytes_of_posix_names_come_out_as_valid_utf8() -> None:
    name = os.fsdecode(b"/srv/kyc/" + MOBILE.encode() + b"\xff\xfe.csv")
    shown = mask_text(name)
    assert shown.encode("utf-8") and "\\xff\\xfe.csv" in shown and MOBILE not in shown


def test_keyed_hashes_of_ours_are_never_masked() -> None:
    """A digit run inside a fingerprint is not a mobile number: fingerprint fields are left alone."""
    fingerprint = f"a{MOBILE}b" + "0" * 19
    walked = redact({"partialFingerprints": {"v1": fingerprint}, "fingerprint": fingerprint, "name": f"a{MOBILE}b"})
    assert walked["partialFingerprints"] == {"v1": fingerprint} and walked["fingerprint"] == fingerprint
    assert MOBILE not in walked["name"]


def test_redact_walks_report_models_without_touching_enums_or_numbers() -> None:
    resource = Resource(uri=f"file:///kyc/{RID}.pdf", kind="file", display_name=f"{RID}.pdf", connector="files",
                        size=12, metadata={"member": f"{MOBILE}.csv", "uid": 0})
    note = Notification(f"{RID}.pdf\n: unreadable.", resource.uri, level=Level.ERROR)
    walked = redact([resource, note], human=True)
    assert RID not in repr(walked) and MOBILE not in repr(walked)
    assert walked[0].size == 12 and walked[0].metadata["uid"] == 0
    assert walked[1].level is Level.ERROR and "\n" not in walked[1].message


_SEPARATORS = st.sampled_from(["", "_", "-", ".", " ", "/", "%20", "客户", "ID", "x"])


@settings(max_examples=300, deadline=None)
@given(before=_SEPARATORS, after=_SEPARATORS, value=st.sampled_from([RID, RID.lower(), CARD, MOBILE, EMAIL]),
       noise=st.text(alphabet="abcxyzX_-. 中", max_size=12))
@example(before="_", after="_", value=EMAIL, noise="_______")  # a run of separators before an address
def test_no_value_survives_in_any_name(before: str, after: str, value: str, noise: str) -> None:
    """A valid identifier glued into a name by any separator never comes out raw; masking is idempotent.
    (Digits glued to digits make a longer number, which is not the identifier: no digits in the noise;
    letters glued to an address's end continue its domain: ``example.comID`` is another address.)"""
    name = f"{noise}{before}{value}{after}{noise}"
    assume(value != EMAIL or not (after + noise)[:1].isalpha())
    masked = mask_text(name)
    assert value not in masked and value.upper() not in masked
    assert mask_text(masked) == masked
    assert not re.search(r"[\x00-\x1f]", for_humans(name + "\x1b\n"))


def test_locate_finds_the_real_file_behind_a_masked_name(tmp_path: Path) -> None:
    real = tmp_path / "kyc" / MOBILE / f"{RID}.pdf"
    real.parent.mkdir(parents=True)
    real.write_bytes(b"%PDF")
    (tmp_path / "kyc" / MOBILE / f"{resident_id('11010519900307002')}.pdf").write_bytes(b"%PDF")
    masked = mask_text(real.as_uri())
    result = CliRunner().invoke(main, ["locate", masked], catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout_bytes == os.fsencode(real) + b"\n"
    relative = mask_text(f"kyc/{MOBILE}/{RID}.pdf")
    result = CliRunner().invoke(main, ["locate", relative, "--under", str(tmp_path)], catch_exceptions=False)
    assert result.stdout_bytes.decode().splitlines() == [str(real)]


def test_locate_matches_candidate_names_of_other_systems() -> None:
    key = f"exports/{MOBILE}/{RID}.csv"
    result = CliRunner().invoke(main, ["locate", mask_text(key), "--candidates", "-"],
                                input=f"exports/other.csv\n{key}\n", catch_exceptions=False)
    assert (result.exit_code, result.stdout) == (0, key + "\n")


@pytest.mark.parametrize(("args", "code"), [
    (["locate", "plain/name.txt"], 2),  # no masked component: a usage mistake
    (["locate", f"/nonexistent/{RID[:6]}********{RID[-4:]}.pdf;k=000000000000"], 1),
])
def test_locate_exit_codes(args: list[str], code: int) -> None:
    assert CliRunner().invoke(main, args).exit_code == code
