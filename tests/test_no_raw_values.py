"""No output of a scan repeats a personal value it found.

Raw values (resident IDs, bank cards, mobiles, e-mails, written plainly, grouped and in other
encodings) are planted in an estate of every supported format; the scan runs through the CLI in
every output format (stdout and ``--output``) and every registered reporter renders the report.
Each output, stdout and stderr is searched for every planted value, its digits-only form, and its
unkeyed MD5/SHA-1/SHA-256 digests (an unkeyed hash of a phone number is reversible by enumeration).
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import sqlite3
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.connector import ScanOptions
from scanner.demo import card_from, make_iban, resident_id
from scanner.output import render_report
from scanner.registry import REPORTERS
from scanner.scan import run_scan
from tests.sarif_multitool import validate_sarif

RIDS = [resident_id("11010519850312001"), resident_id("44030419900701002"), resident_id("31010419781120003"),
        resident_id("51010719951231004"), resident_id("11010819800101007")]
RID_X = next(r for r in (resident_id(f"11010519900101{n:03d}") for n in range(100, 200)) if r.endswith("X"))
CARDS = [card_from("622202100011223344"), card_from("622848001234567890"), card_from("621700123456789012"),
         card_from("453201511283036")]
MOBILES = ["13812345678", "13923456789", "15034567890", "18645678901", "17756789012"]
EMAILS = ["zhang.wei@example.com", "wang.fang@example.cn", "li_na+bank@example.org"]
IBAN = make_iban("DE", "370400440532013000")
PLANTED = [*RIDS, RID_X, *CARDS, *MOBILES, *EMAILS, IBAN]


def grouped_mobile(mobile: str) -> str:
    return f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"


def grouped_card(card: str) -> str:
    return " ".join(card[i : i + 4] for i in range(0, len(card), 4))


def build_planted_estate(root: Path) -> Path:
    write = _writer(root)
    rows = ["姓名,身份证号,手机号,银行卡号,邮箱"]
    rows += [f"客户{i},{RIDS[i]},{MOBILES[i]},{CARDS[i]},{EMAILS[i % 3]}" for i in range(4)]
    write("exports/客户名单.csv", "\n".join(rows) + "\n", 0o644)
    write("exports/intl.tsv", f"iban\tmobile\tcard\n{IBAN}\t{grouped_mobile(MOBILES[1])}\t{grouped_card(CARDS[3])}\n")
    log = [f"2024-11-24T15:30:0{i}Z INFO login mobile={MOBILES[i]} idCard={RIDS[i]} card={CARDS[i]} "
           f"email={EMAILS[i % 3]}" for i in range(4)]
    log.append(f"2024-11-24T15:31:00Z WARN kyc id_no={RID_X.lower()} contact {grouped_mobile(MOBILES[2])}")
    write("logs/app.log", "\n".join(log) + "\n", 0o604)
    write("logs/app.log.1.gz", gzip.compress("\n".join(log).encode()))
    write("logs/app.log.2.bz2", bz2.compress("\n".join(log).encode()))
    write("logs/events.jsonl", "".join(json.dumps({"sfzh": r, "shouji": m, "kahao": c}) + "\n"
                                       for r, m, c in zip(RIDS[:4], MOBILES[:4], CARDS, strict=True)))
    write("docs/回访.txt", f"客户身份证号：{RIDS[1]}，联系电话{MOBILES[1]}，卡号{CARDS[1]}\n".encode("gb18030"), 0o644)
    write("docs/utf16.txt", f"身份证号 {RIDS[2]}\nmobile {MOBILES[2]}\nemail {EMAILS[2]}\n".encode("utf-16"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.csv", "\n".join(rows) + "\n")
    write("outbox/batch.zip", buffer.getvalue(), 0o644)
    write("logs/gateway.log", f"card={CARDS[0][:6]}*********{CARDS[0][-4:]} mobile={MOBILES[0][:3]}****"
                              f"{MOBILES[0][-4:]}\n")
    write("logs/broken.log.gz", gzip.compress("\n".join(log).encode())[:50])  # unreadable: a notification
    build_planted_names(root)
    return root


def build_planted_names(root: Path) -> None:
    """Values in names: KYC uploads named after the ID, directories after mobiles, headerless exports,
    JSON keys, archive members, a SQLite table and column, and a name that tries to forge stderr lines."""
    write = _writer(root)
    write(f"kyc/{RIDS[0]}.txt", f"证件号 {RIDS[0]}\n", 0o644)
    write(f"kyc/{MOBILES[3]}/{CARDS[2]}_statement.log", f"2024-11-24 INFO card={CARDS[2]}\n")
    write(f"kyc/客户{EMAILS[0]}/note.txt", f"email {EMAILS[0]}\n")
    write("exports/headerless.csv", "".join(f"{RIDS[i]},{MOBILES[i]},{CARDS[i]}\n" for i in range(3)), 0o644)
    write("logs/keys.jsonl", json.dumps({RIDS[3]: {"mobile": MOBILES[0]}, "note": "ok"}) + "\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"kyc/{RIDS[1]}.csv", f"id\n{RIDS[1]}\n")
    write("outbox/kyc.zip", buffer.getvalue(), 0o644)
    write(f"logs/{FORGED_NAME}.log", f"login mobile={MOBILES[1]}\n")
    database = root / "data" / f"{MOBILES[2]}.sqlite"
    database.parent.mkdir(exist_ok=True)
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        conn.execute(f'CREATE TABLE "c_{MOBILES[2]}" ("{RIDS[2]}" TEXT, "card_{CARDS[0]}" TEXT, note TEXT)')
        conn.execute(f'INSERT INTO "c_{MOBILES[2]}" VALUES (?, ?, ?)', (RIDS[2], CARDS[0], f"call {MOBILES[2]}"))
    os.chmod(database, 0o644)
    build_hostile(root)


def build_hostile(root: Path) -> None:
    """The hostile share's other cases, with values in their names too: a FIFO, a name that is not
    UTF-8, a gzip bomb, a ZIP inside a ZIP, a line longer than a read block."""
    write = _writer(root)
    os.mkfifo(root / "kyc" / f"{RIDS[4]}.pipe")
    with open(os.path.join(os.fsencode(root / "kyc"), b"\xff" + MOBILES[4].encode() + b".csv"), "wb") as handle:
        handle.write(f"mobile\n{MOBILES[4]}\n".encode())
    write(f"logs/{CARDS[3]}.log.gz", gzip.compress(f"card={CARDS[3]}\n".encode() + b"a" * (8 << 20)))
    inner, outer = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("x.csv", f"id\n{RIDS[4]}\n")
    with zipfile.ZipFile(outer, "w") as archive:
        archive.writestr(f"{RIDS[4]}.zip", inner.getvalue())
    write("outbox/nested.zip", outer.getvalue())
    write("logs/oneline.txt", "|" * ((1 << 20) - 7) + RIDS[4] + "|" * (1 << 20))


#: a file name that would forge a stderr line and clear the terminal if printed raw
FORGED_NAME = f"x\r\x1b[2Jprivaudit: error: {MOBILES[0]}\x07\nforged"


def planted_targets(root: Path) -> list[str]:
    return [str(root), f"sqlite://{quote(str(next((root / 'data').glob('*.sqlite')).absolute()))}"]


def _writer(root: Path):  # type: ignore[no-untyped-def]
    def write(relative: str, content: str | bytes, mode: int = 0o600) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        os.chmod(path, mode)

    return write


def forbidden_forms(value: str) -> set[str]:
    """The value, its digits-only form and its unkeyed digests: none may appear in any output."""
    forms = {value, value.lower(), value.upper()}
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 11:
        forms.add(digits)
    for form in list(forms):
        for algorithm in ("md5", "sha1", "sha256"):
            forms.add(hashlib.new(algorithm, form.encode()).hexdigest())
    return forms


FORBIDDEN = sorted({form for value in PLANTED for form in forbidden_forms(value)})


def leaks(text: str) -> list[str]:
    return [form for form in FORBIDDEN if form in text]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_planted_estate(tmp_path_factory.mktemp("planted") / "share")


def test_the_estate_really_holds_findings(planted: Path) -> None:
    """Guard against a vacuous pass: the scan must find the planted values (masked)."""
    report = run_scan([str(planted)], ScanOptions(jobs=1))
    entities = {f.entity_type for f in report.findings}
    assert {"CN_RESIDENT_ID", "CN_MOBILE_NUMBER", "EMAIL_ADDRESS"} <= entities
    rules = {f.rule_id for f in report.findings}
    assert {"pii_in_log", "pii_in_file", "file_world_readable_with_pii"} <= rules
    assert sum(f.occurrences for f in report.findings) > 40
    assert report.notifications  # the corrupt log
    assert len(RID_X) == 18 and RID_X.endswith("X")
    assert any(loc.evidence == f"{RID_X[:6]}********{RID_X[-4:]}" for f in report.findings for loc in f.locations)
    # the search itself works: every planted value is found in the input it was planted in
    planted_text = "".join(p.read_bytes().decode("utf-8", "ignore") for p in planted.rglob("*")
                           if p.is_file() and p.suffix in (".log", ".tsv", ".txt", ".csv"))
    assert {v for v in PLANTED if any(f in planted_text for f in forbidden_forms(v))} == set(PLANTED)


@pytest.mark.parametrize("fmt", ["sarif", "github-sarif", "json", "text", "github"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_cli_outputs_hold_no_raw_value(planted: Path, tmp_path: Path, fmt: str, jobs: str) -> None:
    runner = CliRunner()
    targets = planted_targets(planted)
    to_stdout = runner.invoke(main, ["scan", *targets, "--format", fmt, "--jobs", jobs], catch_exceptions=False)
    output = tmp_path / f"out.{fmt}"
    to_file = runner.invoke(main, ["scan", *targets, "--format", fmt, "--output", str(output), "--jobs", jobs],
                            catch_exceptions=False)
    assert to_stdout.exit_code == to_file.exit_code == 1
    assert len(to_stdout.stdout) > 1000 and output.stat().st_size > 1000
    for name, text in (("stdout", to_stdout.stdout), ("stderr", to_stdout.stderr),
                       ("file stdout", to_file.stdout), ("file stderr", to_file.stderr),
                       ("output file", output.read_text("utf-8"))):
        assert leaks(text) == [], f"{fmt} {name} repeats planted values"


def test_names_are_masked_with_a_keyed_hash_and_stay_locatable(planted: Path, tmp_path: Path) -> None:
    """The KYC upload named after an ID is reported masked, and ``locate`` finds the real file again."""
    sarif = tmp_path / "out.sarif"
    CliRunner().invoke(main, ["scan", *planted_targets(planted), "-o", str(sarif), "--jobs", "1"],
                       catch_exceptions=False)
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in json.loads(sarif.read_text("utf-8"))["runs"][0]["results"] for loc in result["locations"]}
    kyc = [uri for uri in uris if uri.startswith(f"kyc/{RIDS[0][:6]}")]
    assert len(kyc) == 1 and kyc[0].startswith(f"kyc/{RIDS[0][:6]}********{RIDS[0][-4:]}.txt;k=")
    located = CliRunner().invoke(main, ["locate", kyc[0], "--under", str(planted)], catch_exceptions=False)
    assert located.exit_code == 0
    assert located.stdout_bytes.decode().splitlines() == [str(planted / "kyc" / f"{RIDS[0]}.txt")]
    assert any(uri.startswith(f"kyc/{MOBILES[3][:3]}****{MOBILES[3][-4:]};k=") for uri in uris)  # a directory
    fields = {r["properties"].get("field") for r in json.loads(sarif.read_text("utf-8"))["runs"][0]["results"]}
    assert leaks(json.dumps(sorted(f for f in fields if f))) == []
    # masked names are still valid URIs for SARIF consumers (GH1006, the SQLite target's absolute file URI
    # that GitHub code scanning cannot place in a checkout, is not about names)
    assert [e for e in validate_sarif(sarif) if not e.startswith("GH1006")] == []


def test_names_cannot_forge_stderr_lines_or_drive_the_terminal(planted: Path) -> None:
    result = CliRunner().invoke(main, ["scan", str(planted), "--format", "text", "--jobs", "1"],
                                catch_exceptions=False)
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text), f"{name} holds a raw control character"
        assert not any(line.startswith("forged") for line in text.splitlines()), name
    assert "x\\x0d\\x1b[2Jprivaudit: error: 138****5678;k=" in result.stdout


def test_no_artifact_of_a_scan_holds_a_raw_value(planted: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file a scan leaves behind (outputs, caches, key and state directories) and every byte it
    prints: nothing repeats a planted value, and nothing is written inside the scanned estate."""
    home = tmp_path / "home"
    for variable in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "HOME"):
        monkeypatch.setenv(variable, str(home / variable.lower()))
    monkeypatch.delenv("PRIVAUDIT_CACHE_DIR", raising=False)
    before = sorted((p.relative_to(planted), p.stat().st_size, p.stat().st_mtime_ns) for p in planted.rglob("*"))
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    results = [CliRunner().invoke(main, ["scan", *planted_targets(planted), "--format", fmt, "-o",
                                         str(outputs / f"out.{fmt}"), "--jobs", "2"], catch_exceptions=False)
               for fmt in ("sarif", "json", "text")]
    assert sorted((p.relative_to(planted), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in planted.rglob("*")) == before
    artifacts = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(artifacts) >= 3
    for path in artifacts:
        assert leaks(path.read_bytes().decode("utf-8", "replace")) == [], path
        assert leaks(path.name) == [], path
    for result in results:
        assert leaks(result.stdout + result.stderr) == []


@pytest.mark.parametrize("name", REPORTERS.names())
def test_every_registered_reporter_holds_no_raw_value(planted: Path, name: str) -> None:
    report = run_scan(planted_targets(planted), ScanOptions(jobs=1))
    text = render_report(report, name)
    assert text.strip()
    assert leaks(text) == [], f"report format {name} repeats planted values"


def test_demo_outputs_hold_no_raw_value(tmp_path: Path) -> None:
    from scanner.demo import CUSTOMERS

    sarif = tmp_path / "demo.sarif"
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path / "d"), "-o", str(sarif), "--jobs", "1"],
                                catch_exceptions=False)
    forms = {form for customer in CUSTOMERS for value in customer[1:] for form in forbidden_forms(value)}
    for text in (result.stdout, result.stderr, sarif.read_text("utf-8")):
        assert [form for form in forms if form in text] == []
