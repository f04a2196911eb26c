"""Hostile review inputs: the YAML and JSON files a review reads (scan config, waivers, policy, baseline
SARIF, the SARIF ``privaudit report`` reads) shaped by an attacker or saved by a careless editor.

Each must end in a clear error (exit 2, the file and, for YAML, the line), never a hang, a traceback or
gigabytes of memory: alias bombs, recursive aliases and deep nesting, files that are not UTF-8, JSON
of the wrong shape or nested 200,000 levels deep, files past the size caps. Waivers report every broken
entry at once and match names as reports show them (masked). The fuzz tests at the end check that
nothing but the documented error types escapes the loaders and that no planted value is echoed raw.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.cli import main
from scanner.model import Category, Finding, Level, Resource, ScanReport
from scanner.policy import load_policy
from scanner.redaction import for_humans, mask_text
from scanner.review.config import load_config
from scanner.review.waivers import load_waivers
from scanner.yamlschema import MAX_DEPTH, ConfigError
from tests.review.estate import customers_csv, golden_errors, write

REPO = Path(__file__).resolve().parents[2]
RESIDENT_ID = "110101199003070011"  # made up, passes GB 11643
MOBILE = "13812345678"
#: what a hung or exploding loader may take before the test calls it a failure, not a hang
MEMORY_LIMIT = 2 << 30

LOADERS = {"config": load_config, "waivers": load_waivers, "policy": load_policy}
VALID = {
    "config": "version: 1\ntargets:\n  - path: share\n",
    "waivers": "version: 1\nwaivers:\n  - rule: pii_in_file\n    resource: \"exports/*.csv\"\n"
               "    owner: zhang.wei@bank.example\n    reason: Encrypted by the archive job.\n"
               "    expires: 2026-12-31\n",
    "policy": "name: test-pack\ngrades:\n  - id: C3\n    title: Sensitive\n    level: error\n"
              "    security_severity: \"9.0\"\nentities:\n  CN_RESIDENT_ID: C3\n",
}


def laughs(levels: int = 9, fan_out: int = 9) -> str:
    """The billion laughs: each anchor is ``fan_out`` aliases of the previous one (9^9 strings from 100 nodes)."""
    lines = [f"lol0: &lol0 [{', '.join(['lol'] * fan_out)}]"]
    lines += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * fan_out)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def bomb(kind: str, levels: int = 9) -> str:
    """A valid file of ``kind`` with the bomb in front (the bomb's keys are unknown too: it must be refused
    before the schema is even looked at)."""
    return laughs(levels) + VALID[kind]


def privaudit(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process with a memory cap, so a loader that explodes fails instead of
    taking the machine down."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run([sys.executable, "-m", "scanner", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, preexec_fn=limit, env=_env())


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def errors_of(load: object, path: Path) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(path)  # type: ignore[operator]
    return raised.value.errors


# -- 1. alias bombs, recursive aliases, nesting, linear loading ----------------------------------------


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_an_alias_bomb_is_refused_at_its_line_in_well_under_a_second(tmp_path: Path, kind: str) -> None:
    """In process with a 9^6 bomb, so that a loader that expands aliases fails in seconds instead of eating
    the machine (the CLI test below has the 9^9 one, under a memory cap)."""
    path = tmp_path / f"{kind}.yaml"
    path.write_text(bomb(kind, levels=6), encoding="utf-8")
    for_humans("warm up 123")  # the detector that masks messages is built once per process: not the loader's time
    started = time.perf_counter()
    errors = errors_of(LOADERS[kind], path)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"{elapsed:.2f} s"
    assert len(errors) == 1
    # named at the smallest node already past the bound: one of the lolN lines, not the end of the file
    found = re.match(rf"{re.escape(str(path))}:(\d+): YAML aliases \(\*name\) expand this node", errors[0])
    assert found and 2 <= int(found.group(1)) <= 7, errors
    assert "alias bomb is refused" in errors[0] and errors[0].endswith("use fewer aliases")


@pytest.mark.parametrize(("kind", "args"), [
    ("config", ["config", "validate", "{file}"]),
    ("config", ["scan", "--config", "{file}"]),
    ("waivers", ["scan", "share", "--waivers", "{file}"]),
    ("policy", ["scan", "share", "--policy", "{file}"]),
    ("policy", ["policies", "validate", "{file}"]),
])
def test_an_alias_bomb_exits_2_through_the_cli(tmp_path: Path, kind: str, args: list[str]) -> None:
    (tmp_path / "share").mkdir()
    (tmp_path / "share" / "a.txt").write_text("nothing here\n", encoding="utf-8")
    path = tmp_path / f"{kind}.yaml"
    path.write_text(bomb(kind), encoding="utf-8")
    started = time.perf_counter()
    done = privaudit(*(a.format(file=path) for a in args), cwd=tmp_path)
    elapsed = time.perf_counter() - started
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{path}:3: YAML aliases (*name) expand this node" in done.stderr
    assert elapsed < 20, f"{elapsed:.1f} s (the interpreter's start included)"


ALIAS_CASES = [
    # (case, YAML, error expected at line, or None when the aliases are fine)
    ("recursive sequence", "a: &a [1, *a]\n", 1, "refers to a node that contains it"),
    ("recursive mapping", "a: &a\n  b: *a\n", 2, "refers to a node that contains it"),
    ("nested too deeply", "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n", 1,
     f"nested more than {MAX_DEPTH} levels deep"),
    ("deep only through aliases", "".join(f"l{i}: &l{i} [*l{i - 1}]\n" if i else "l0: &l0 [x]\n"
                                          for i in range(MAX_DEPTH + 1)), MAX_DEPTH,
     f"nested more than {MAX_DEPTH} levels deep"),
    ("a wide but bounded expansion", "a: &a [" + ", ".join(["x"] * 50) + "]\n"
     + "".join(f"b{i}: *a\n" for i in range(20)), 1, "YAML aliases (*name) expand this node"),
]


@pytest.mark.parametrize(("case", "text", "line", "message"), ALIAS_CASES, ids=[c[0] for c in ALIAS_CASES])
def test_aliases_that_recurse_nest_or_multiply_are_refused(tmp_path: Path, case: str, text: str, line: int,
                                                           message: str) -> None:
    path = tmp_path / "privaudit.yaml"
    path.write_text(text, encoding="utf-8")
    errors = errors_of(load_config, path)
    assert len(errors) == 1 and errors[0].startswith(f"{path}:{line}: ") and message in errors[0], errors


def test_ordinary_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    """Shared include lists and ``<<`` merges are what aliases are for; they stay well inside the bound."""
    path = tmp_path / "privaudit.yaml"
    path.write_text("""\
version: 1
targets:
  - path: exports
    include: &globs ["*.csv", "*.xlsx", "**/*.log"]
    exclude: &skip ["tmp/*"]
  - path: archive
    include: *globs
    exclude: *skip
  - &db
    database: postgresql://auditor@db.internal:5432/core
    sample_rows: 50
  - <<: *db
    database: postgresql://auditor@db.internal:5432/ledger
""", encoding="utf-8")
    config = load_config(path)
    assert [t.include for t in config.targets[:2]] == [("*.csv", "*.xlsx", "**/*.log")] * 2
    assert [t.extra.get("sample_rows") for t in config.targets[2:]] == [50, 50]


def test_a_key_given_twice_is_reported_with_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "privaudit.yaml"
    path.write_text("version: 1\ntargets:\n  - path: a\n    max_file_size: 10\n    max_file_size: 1000000\n",
                    encoding="utf-8")
    assert errors_of(load_config, path) == [
        f"{path}:5: targets.0.max_file_size: the key 'max_file_size' is given twice (first at line 4); YAML keeps "
        "only the last one: remove one of them"]


def big_config(targets: int) -> str:
    return "version: 1\ntargets:\n" + "".join(
        f"  - path: /srv/share/dir{i}\n    include: [\"*.csv\", \"*.log\"]\n    exclude: [\"tmp/*\"]\n"
        for i in range(targets))


def test_loading_a_large_config_costs_a_small_multiple_of_parsing_it(tmp_path: Path) -> None:
    """Linear, with a small constant: loading (one parse, one walk over distinct nodes, validation per
    target) against libyaml's bare parse of the same text. Before: two pure-Python parses and an
    ``if`` per target kind, ~14 times the bare parse (5 MB: 56 s)."""
    text = big_config(6000)  # ~0.5 MB
    path = tmp_path / "privaudit.yaml"
    path.write_text(text, encoding="utf-8")

    def best(action: object) -> float:
        times = []
        for _ in range(2):
            started = time.process_time()
            action()  # type: ignore[operator]
            times.append(time.process_time() - started)
        return min(times)

    parse = best(lambda: yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    load = best(lambda: load_config(path))
    assert len(load_config(path).targets) == 6000
    assert load < 8 * parse, f"load {load:.2f} s, parse {parse:.2f} s"


# -- 2. files that are not UTF-8 --------------------------------------------------------------------------

SARIF_MINIMAL = '{"version": "2.1.0", "runs": [], "properties": {"note": "客户资料"}}\n'
TEXT = {**VALID, "config": "version: 1\ntargets:\n  - path: 客户资料\n", "baseline": SARIF_MINIMAL,
        "report": SARIF_MINIMAL}
GB18030_LINE = {"config": 3, "waivers": None, "policy": None, "baseline": 1, "report": 1}
# (case, how the editor saved it, what the error says)
ENCODINGS = [
    ("notepad-unicode", lambda t: t.encode("utf-16"), "the file is UTF-16 (it starts with a UTF-16 byte order mark, "
     "as Windows Notepad writes when saving as \"Unicode\"), not UTF-8; save it as UTF-8"),
    ("utf-16-be", lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"), "the file is UTF-16 (it starts with a "
     "UTF-16 byte order mark"),
    ("utf-32", lambda t: t.encode("utf-32"), "the file is UTF-32 (it starts with a UTF-32 byte order mark"),
    ("utf-16-no-bom", lambda t: t.encode("utf-16-le"), "it holds NUL bytes, so it is probably UTF-16 or UTF-32 "
     "without a byte order mark); save it as UTF-8 or convert it: iconv -f UTF-16LE -t UTF-8"),
    ("latin-1", lambda t: t.replace("test-pack", "tést-pack").replace("share", "shäre").replace("archive", "ärchive")
     .replace("客户资料", "Kündenakten").encode("latin-1"), "its encoding is unknown); save it as UTF-8"),
]


def load_kind(kind: str, path: Path) -> object:
    """The loader of ``kind``; a baseline or report input goes through the SARIF reader both share."""
    from scanner.review.baseline import load_baseline, read_sarif

    return {**LOADERS, "baseline": load_baseline, "report": read_sarif}[kind](path)


def load_error(kind: str, path: Path) -> str:
    from scanner.review.baseline import BaselineError

    with pytest.raises((ConfigError, BaselineError)) as raised:
        load_kind(kind, path)
    return "\n".join(raised.value.errors) if isinstance(raised.value, ConfigError) else str(raised.value)


@pytest.mark.parametrize("kind", ["config", "waivers", "policy", "baseline", "report"])
@pytest.mark.parametrize(("case", "encode", "message"), ENCODINGS, ids=[e[0] for e in ENCODINGS])
def test_a_file_that_is_not_utf8_is_named_with_its_encoding(tmp_path: Path, kind: str, case: str, encode: object,
                                                            message: str) -> None:
    path = tmp_path / ("input.sarif" if kind in ("baseline", "report") else f"{kind}.yaml")
    path.write_bytes(encode(TEXT[kind]))  # type: ignore[operator]
    error = load_error(kind, path)
    assert error.startswith(f"{path}") and message in error, error
    assert error.endswith("FILE.utf8") or error.endswith("UTF-8 FILE > FILE.utf8"), error


@pytest.mark.parametrize("kind", ["config", "baseline", "report"])
def test_gb18030_is_recognised_and_the_first_bad_byte_located(tmp_path: Path, kind: str) -> None:
    path = tmp_path / ("input.sarif" if kind in ("baseline", "report") else f"{kind}.yaml")
    path.write_bytes(TEXT[kind].encode("gb18030"))
    line = GB18030_LINE[kind]
    error = load_error(kind, path)
    assert error.startswith(f"{path}:{line}: the file is not UTF-8 (byte 0x"), error
    assert "it reads as GB18030/GBK, the Chinese Windows encoding); save it as UTF-8 or convert it: iconv -f " \
           "GB18030 -t UTF-8 FILE > FILE.utf8" in error


@pytest.mark.parametrize("kind", ["config", "waivers", "policy", "baseline", "report"])
def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path, kind: str) -> None:
    path = tmp_path / ("input.sarif" if kind in ("baseline", "report") else f"{kind}.yaml")
    path.write_bytes(codecs.BOM_UTF8 + TEXT[kind].encode("utf-8"))
    load_kind(kind, path)


def cli(*args: str) -> Result:
    """The CLI in process; an exception escaping it fails the test (``catch_exceptions=False``)."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize(("kind", "args"), [
    ("config", ["config", "validate", "{file}"]),
    ("config", ["scan", "--config", "{file}"]),
    ("waivers", ["scan", "{share}", "--waivers", "{file}"]),
    ("policy", ["scan", "{share}", "--policy", "{file}"]),
    ("policy", ["policies", "validate", "{file}"]),
    ("baseline", ["scan", "{share}", "--baseline", "{file}"]),
    ("report", ["report", "{file}"]),
    ("report", ["report", "{good}", "--baseline", "{file}"]),
])
def test_utf16_from_notepad_exits_2_through_the_cli(tmp_path: Path, kind: str, args: list[str]) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.txt").write_text("nothing here\n", encoding="utf-8")
    good = tmp_path / "good.sarif"
    good.write_text(SARIF_MINIMAL, encoding="utf-8")
    path = tmp_path / ("input.sarif" if kind in ("baseline", "report") else f"{kind}.yaml")
    path.write_bytes(TEXT[kind].encode("utf-16"))
    result = cli(*(a.format(file=path, share=share, good=good) for a in args))
    assert result.exit_code == 2, result.output
    assert "the file is UTF-16 (it starts with a UTF-16 byte order mark" in result.stderr


# -- 3. baselines and report input of the wrong shape, too deep, too large ------------------------------------


def sarif_with(result: dict | None = None, run: dict | None = None) -> str:
    """A minimal privaudit-like SARIF log with one result, ``result`` and ``run`` merged in."""
    base_result = {"ruleId": "pii_in_file", "level": "error", "message": {"text": "x."},
                   "partialFingerprints": {"privaudit/v1": "0" * 32},
                   "properties": {"category": "personal-data", "occurrences": 1, "resource": "file:///srv/a.csv"},
                   "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.csv", "uriBaseId": "ROOT"},
                                                       "region": {"startLine": 2}}}]}
    base_run = {"tool": {"driver": {"name": "privaudit", "rules": []}},
                "originalUriBaseIds": {"ROOT": {"uri": "file:///srv/"}},
                "invocations": [{"workingDirectory": {"uri": "file:///srv/"}}],
                "results": [{**base_result, **(result or {})}]}
    return json.dumps({"version": "2.1.0", "runs": [{**base_run, **(run or {})}]})


SHAPE_CASES = [
    # (case, SARIF text, what the error says after the file name)
    ("results not an array", sarif_with(run={"results": 5}), ": runs[0].results: expected an array, got an integer"),
    ("fingerprints a number", sarif_with({"partialFingerprints": 5}),
     ": runs[0].results[0].partialFingerprints: expected an object, got an integer"),
    ("fingerprint value a number", sarif_with({"partialFingerprints": {"privaudit/v1": 7}}),
     ": runs[0].results[0].partialFingerprints.privaudit/v1: expected a string, got an integer"),
    ("properties an array", sarif_with({"properties": []}),
     ": runs[0].results[0].properties: expected an object, got an array"),
    ("occurrences a string", sarif_with({"properties": {"occurrences": "3"}}),
     ": runs[0].results[0].properties.occurrences: expected an integer, got a string"),
    ("occurrences a boolean", sarif_with({"properties": {"occurrences": True}}),
     ": runs[0].results[0].properties.occurrences: expected an integer, got true or false"),
    ("occurrences NaN", sarif_with({"properties": {"occurrences": float("nan")}}),
     ": runs[0].results[0].properties.occurrences: expected an integer, got a number"),
    ("rule id null", sarif_with({"ruleId": None}), ": runs[0].results[0].ruleId: expected a string, got null"),
    ("locations an object", sarif_with({"locations": {}}),
     ": runs[0].results[0].locations: expected an array, got an object"),
    ("start line a string", sarif_with({"locations": [{"physicalLocation": {"region": {"startLine": "2"}}}]}),
     ": runs[0].results[0].locations[0].physicalLocation.region.startLine: expected an integer, got a string"),
    ("run a string", json.dumps({"version": "2.1.0", "runs": ["run"]}), ": runs[0]: expected an object, got a string"),
    ("working directory a number", sarif_with(run={"invocations": [{"workingDirectory": {"uri": 7}}]}),
     ": runs[0].invocations[0].workingDirectory.uri: expected a string, got an integer"),
    ("base id a string", sarif_with(run={"originalUriBaseIds": {"ROOT": "file:///srv/"}}),
     ": runs[0].originalUriBaseIds.ROOT: expected an object, got a string"),
    ("suppressions an object", sarif_with({"suppressions": {"kind": "external"}}),
     ": runs[0].results[0].suppressions: expected an array, got an object"),
    ("rules a string", sarif_with(run={"tool": {"driver": {"name": "privaudit", "rules": "all"}}}),
     ": runs[0].tool.driver.rules: expected an array, got a string"),
    ("a run null (found by fuzzing)", '{"runs": [null]}', ": runs[0]: expected an object, got null"),
    ("top level an array", "[]", " is not a SARIF log (no 'runs' array)"),
    ("runs an object", '{"version": "2.1.0", "runs": {}}', " is not a SARIF log (no 'runs' array)"),
    ("nested 200,000 levels", "[" * 200_000 + "]" * 200_000, " is nested more than 64 levels deep"),
    ("nested 100 levels inside a property", sarif_with({"properties": {"x": json.loads("[" * 100 + "]" * 100)}}),
     " is nested more than 64 levels deep"),
    ("an integer of 5,000 digits", '{"version": "2.1.0", "runs": [], "n": ' + "9" * 5000 + "}",
     " is not JSON privaudit can read (Exceeds the limit (4300 digits)"),
    ("not JSON", '{"runs": [', " is not JSON (Expecting value at line 1)"),
]


@pytest.mark.parametrize(("case", "text", "message"), SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_a_baseline_of_the_wrong_shape_is_named_precisely(tmp_path: Path, case: str, text: str,
                                                          message: str) -> None:
    from scanner.review.baseline import BaselineError, load_baseline

    path = tmp_path / "previous.sarif"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BaselineError) as raised:
        load_baseline(path)
    assert str(raised.value).startswith(f"{path}{message}"), str(raised.value)


def test_the_shape_check_accepts_what_privaudit_writes(tmp_path: Path) -> None:
    from scanner.review.baseline import load_baseline

    path = tmp_path / "previous.sarif"
    path.write_text(sarif_with({"baselineState": "new", "suppressions": [{"kind": "external", "status": "accepted"}],
                                "relatedLocations": [{"physicalLocation": {"region": {"startLine": 3}}}]}),
                    encoding="utf-8")
    assert list(load_baseline(path).results) == ["0" * 32]


@pytest.mark.parametrize("case", ["results not an array", "fingerprints a number", "nested 200,000 levels",
                                  "occurrences a string"])
@pytest.mark.parametrize("how", ["scan --baseline", "report", "report --baseline"])
def test_a_bad_baseline_or_report_input_exits_2(tmp_path: Path, case: str, how: str) -> None:
    text = next(c[1] for c in SHAPE_CASES if c[0] == case)
    bad = tmp_path / "bad.sarif"
    bad.write_text(text, encoding="utf-8")
    good = tmp_path / "good.sarif"
    good.write_text(sarif_with(), encoding="utf-8")
    (tmp_path / "share").mkdir()
    args = {"scan --baseline": ["scan", str(tmp_path / "share"), "--baseline", str(bad)],
            "report": ["report", str(bad)], "report --baseline": ["report", str(good), "--baseline", str(bad)]}[how]
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert str(bad) in result.stderr and "give the SARIF file" in result.stderr


def test_a_baseline_past_the_cap_is_refused_unread(tmp_path: Path) -> None:
    """A 2 GiB baseline (sparse: nothing is written) must not be read into memory: the child process has
    2 GiB of address space in all, reading it would fail with MemoryError."""
    from scanner.review.baseline import MAX_BASELINE_BYTES

    big = tmp_path / "huge.sarif"
    with big.open("wb") as handle:
        handle.truncate(2 << 30)
    (tmp_path / "share").mkdir()
    for args in (["scan", "share", "--baseline", str(big)], ["report", str(big)]):
        started = time.perf_counter()
        done = privaudit(*args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert f"{big}: is 2,147,483,648 bytes, more than the {MAX_BASELINE_BYTES:,} bytes a SARIF log may have" \
               in done.stderr
        assert time.perf_counter() - started < 20


def test_a_fifo_in_place_of_a_baseline_is_refused_not_waited_on(tmp_path: Path) -> None:
    from scanner.review.baseline import BaselineError, load_baseline

    fifo = tmp_path / "previous.sarif"
    os.mkfifo(fifo)
    with pytest.raises(BaselineError, match=r"is not a regular file \(a FIFO\); give the SARIF log itself"):
        load_baseline(fifo)


# -- 4. a waivers file with several broken entries: every error at once ------------------------------------

WAIVER_ERRORS = Path(__file__).parent / "data" / "waiver_errors"


@pytest.mark.parametrize("case", ["several_broken", "broken_entries"])
def test_every_broken_waiver_is_reported_with_its_line(case: str) -> None:
    """Dates that are not dates, unknown rules, missing fields, duplicate keys and entries that are not even
    YAML, each with file:line, in file order: fixing one must not reveal the next."""
    got, expected = golden_errors(WAIVER_ERRORS / f"{case}.yaml", load_waivers)
    assert got == expected
    assert len(got) >= 5 and len({line.split(":")[1] for line in got}) >= 5


def test_every_broken_waiver_reaches_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "share").mkdir()
    case = WAIVER_ERRORS / "broken_entries.yaml"
    result = cli("scan", str(tmp_path / "share"), "--waivers", str(case))
    assert result.exit_code == 2, result.output
    expected = case.with_suffix(".expected").read_text("utf-8").splitlines()
    assert [line.strip().replace(f"{case.parent}/", "") for line in result.stderr.splitlines()[1:]] == expected


def test_a_syntax_error_outside_the_entries_is_reported_as_such(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text("version: [1\nwaivers:\n  - rule: pii_in_file\n    resource: \"a\n", encoding="utf-8")
    errors = errors_of(load_waivers, path)
    assert len(errors) == 1 and errors[0].startswith(f"{path}:2: not valid YAML: "), errors


# -- 5. waivers written from masked reports match -------------------------------------------------------------


def kyc_finding(relative: str = f"kyc/{RESIDENT_ID}.pdf") -> Finding:
    resource = Resource(uri=f"file:///srv/share/{relative}", kind="file", display_name=relative, connector="files",
                        root_uri="file:///srv/share/", relative_path=relative)
    return Finding(rule_id="pii_in_file", level=Level.ERROR, category=Category.PERSONAL_DATA, message="x.",
                   resource=resource, grade="C2", entity_type="CN_RESIDENT_ID", occurrences=1, fingerprint="f" * 32)


OTHER_ID = "110101199003070038"  # another made-up, valid resident ID
MASKED_CASES = [
    # (case, the waiver's resource glob, selects the KYC upload?)
    ("real relative path", f"kyc/{RESIDENT_ID}.pdf", True),
    ("masked relative path as the report shows it", lambda: mask_text(f"kyc/{RESIDENT_ID}.pdf"), True),
    ("masked URI as the report shows it", lambda: mask_text(f"file:///srv/share/kyc/{RESIDENT_ID}.pdf"), True),
    ("glob over masked names", "kyc/110101????????0011.pdf;k=*", True),
    ("masked name without its keyed hash, as a glob", "kyc/110101*0011.pdf*", True),
    ("masked form of another ID", lambda: mask_text(f"kyc/{OTHER_ID}.pdf"), False),
    ("another directory", lambda: mask_text(f"archive/{RESIDENT_ID}.pdf"), False),
]


@pytest.mark.parametrize(("case", "glob", "selected"), MASKED_CASES, ids=[c[0] for c in MASKED_CASES])
def test_a_waiver_selects_a_resource_by_its_real_or_its_masked_name(tmp_path: Path, case: str, glob: object,
                                                                   selected: bool) -> None:
    pattern = glob() if callable(glob) else glob
    assert RESIDENT_ID not in mask_text(f"kyc/{RESIDENT_ID}.pdf")
    path = tmp_path / "waivers.yaml"
    path.write_text("version: 1\nwaivers:\n  - rule: pii_in_file\n    resource: " + json.dumps(pattern)
                    + "\n    owner: zhang.wei@bank.example\n    reason: KYC uploads are encrypted at rest.\n"
                    "    expires: 2026-12-31\n", encoding="utf-8")
    waiver = load_waivers(path).waivers[0]
    assert waiver.matches(kyc_finding()) is selected


def test_a_waiver_copied_from_a_masked_sarif_suppresses_the_finding(tmp_path: Path) -> None:
    """End to end: scan a share holding a KYC upload named after the customer's ID, copy the (masked) name
    from the SARIF into a waiver, scan again: the finding is suppressed and the waiver is not stale."""
    share = tmp_path / "share"
    write(share, f"kyc/{RESIDENT_ID}.csv", customers_csv())
    first = tmp_path / "first.sarif"
    assert cli("scan", str(share), "--format", "sarif", "--output", str(first)).exit_code in (0, 1)
    log = json.loads(first.read_text("utf-8"))
    result = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "pii_in_file")
    shown = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert RESIDENT_ID not in first.read_text("utf-8") and shown.startswith("kyc/110101********0011.csv;k=")
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("version: 1\nwaivers:\n  - rule: pii_in_file\n    resource: " + json.dumps(shown)
                       + "\n    owner: zhang.wei@bank.example\n    reason: KYC uploads are encrypted at rest.\n"
                       "    ticket: SEC-1234\n    expires: 2099-12-31\n", encoding="utf-8")
    second = tmp_path / "second.sarif"
    done = cli("scan", str(share), "--waivers", str(waivers), "--format", "sarif", "--output", str(second))
    log = json.loads(second.read_text("utf-8"))
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert results["pii_in_file"]["suppressions"][0]["status"] == "accepted"
    assert "waiver_stale" not in results
    assert done.exit_code == 0, done.output


# -- 6. fuzzing: nothing but the documented errors escapes, no planted value is echoed raw ------------------
#
# The documented errors: ConfigError for the YAML loaders (the CLI prints its lines and exits 2),
# BaselineError for the SARIF reader (the CLI makes it a click.UsageError, exit 2). FUZZ_EXAMPLES=5000 for a
# longer campaign than the suite's.

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: a planted value standing as a value (not inside a longer run of digits, which would be another number)
RAW = re.compile(rf"(?<![0-9])(?:{RESIDENT_ID}|{MOBILE})(?![0-9])")
VOCABULARY = [
    "version", "targets", "path", "database", "s3", "sftp", "include", "exclude", "credentials", "password_env",
    "max_file_size", "outputs", "format", "policy", "waivers", "baseline", "fail_on", "concurrency", "rule",
    "resource", "fingerprint", "owner", "reason", "ticket", "expires", "entity_type", "name", "grades", "id",
    "title", "level", "security_severity", "entities", "rules", "enabled", "access", "roles", "retention",
    "password", "token", "<<", RESIDENT_ID, MOBILE, f"c_{MOBILE}", f"{RESIDENT_ID}.pdf",
]
WORDS = [
    "1", "0", "-1", "2026-12-31", "2026-02-30", "2026-13-01", "soon", "pii_in_file", "pii_in_lgo", "C3",
    "CN_RESIDENT_ID", "error", "fatal", "9.0", "0" * 32, "share", "*.csv", "postgresql://auditor@db/core", f"postgresql://u:{MOBILE}@db/x",
    "mysql://[::1", "sftp://[", "s3://bucket/", f"/srv/kyc/{RESIDENT_ID}.pdf", RESIDENT_ID, MOBILE, f"ID{RESIDENT_ID}",
    "~", "null", "yes", "0x1F", "1e400", "9" * 5000, ".inf", "\u202e", "客户", "\\ud800",
]
YAML_TOKENS = [
    "&a ", "&b ", "*a", "*b", "<<: *a\n", "!!int ", "!!bool ", "!!timestamp ", "!!binary ", "!!float ", "!!set ",
    "!!omap ", "!foo ", "!!python/object:os.system ", "? ", "- ", ": ", "{", "}", "[", "]", ", ", '"', "'", "\t",
    "\n", "  ", "    ", "# x\n", "%YAML 1.1\n", "---\n", "...\n", "|\n", ">-\n", '"\\ud800"', "\x00", "\x85", "\ufeff",
    "\x1b[31m", RESIDENT_ID, MOBILE, f" {RESIDENT_ID}: ", f"- {MOBILE}\n",
]
SCALARS = st.one_of(st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from(WORDS), st.text(max_size=12))
#: mapping keys: mostly names privaudit knows, also text, numbers, booleans and dates (YAML keys need not be text)
KEYS = st.sampled_from(VOCABULARY) | st.text(max_size=6) | st.integers(-2, 2) | st.booleans() | st.dates()
TREES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
                     max_leaves=25)


@st.composite
def yaml_texts(draw: st.DrawFn, kind: str) -> str:
    """A document near ``kind``'s shape (its valid example with random parts merged in), dumped, then
    mutated with YAML's own syntax (anchors, aliases, tags, flow brackets, quotes) and planted values."""
    data = yaml.safe_load(VALID[kind])
    for key, value in draw(st.dictionaries(KEYS, TREES, max_size=3)).items():
        data[key] = value
    if draw(st.booleans()):
        items = next((k for k in ("targets", "waivers", "grades") if isinstance(data.get(k), list)), None)
        if items:
            data[items] = [*data[items], *draw(st.lists(TREES, max_size=3))]
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False,
                          default_flow_style=draw(st.sampled_from([False, None, True])))
    for _ in range(draw(st.integers(0, 5))):
        at = draw(st.integers(0, len(text)))
        operation = draw(st.sampled_from(["insert", "insert", "delete", "repeat"]))
        if operation == "insert":
            text = text[:at] + draw(st.sampled_from(YAML_TOKENS)) + text[at:]
        elif operation == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)):]
        else:
            line = text[:at].rsplit("\n", 1)[-1] + "\n"
            text = text[:at] + line * draw(st.integers(1, 3)) + text[at:]
    return text


def yaml_inputs(kind: str) -> st.SearchStrategy[bytes]:
    encodings = st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "gb18030", "latin-1"])
    return st.one_of(
        st.tuples(yaml_texts(kind), encodings).map(lambda pair: pair[0].encode(pair[1], "replace")),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=200),
    )


def check_messages(messages: list[str], path: Path) -> None:
    for message in messages:
        assert isinstance(message, str) and "\n" not in message, message
        assert message.startswith(str(path)), message
        assert not RAW.search(message), f"raw planted value in: {message}"


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_fuzz_yaml_loaders_raise_only_config_errors_without_raw_values(fuzz_dir: Path, kind: str) -> None:
    path = fuzz_dir / f"{kind}.yaml"
    outcomes = {"loaded": 0, "refused": 0}

    @FUZZ
    @given(content=yaml_inputs(kind))
    def run(content: bytes) -> None:
        path.write_bytes(content)
        try:
            LOADERS[kind](path)
        except ConfigError as exc:
            check_messages(exc.errors, path)
            assert str(exc) == "\n".join(exc.errors)
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1

    run()
    print(f"fuzz {kind}: {outcomes}")  # pytest -s shows how many examples ran and how they ended


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.sampled_from(WORDS)
                    | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(VOCABULARY) | st.text(max_size=6), inner, max_size=3),
                    max_leaves=10)


@st.composite
def sarif_texts(draw: st.DrawFn) -> str:
    """privaudit-like SARIF with parts replaced by random JSON, keys dropped or planted, or the text cut."""
    log = json.loads(sarif_with({"relatedLocations": [{"physicalLocation": {"region": {"startLine": 3}}}],
                                 "suppressions": [{"kind": "external", "status": "accepted"}]}))
    for _ in range(draw(st.integers(1, 4))):
        container: Any = log
        target = None
        while True:  # walk down to a random member, stop at a random depth
            children = list(container.items()) if isinstance(container, dict) else list(enumerate(container))
            if not children:
                break
            key, child = draw(st.sampled_from(children))
            target = (container, key)
            if not isinstance(child, dict | list) or not draw(st.integers(0, 3)):
                break
            container = child
        if target is None:
            continue
        parent, key = target
        operation = draw(st.sampled_from(["replace", "replace", "drop", "plant"]))
        if operation == "replace":
            parent[key] = draw(JSON)
        elif operation == "drop" and isinstance(parent, dict):
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from([RESIDENT_ID, MOBILE, "properties", "partialFingerprints"]))] = draw(JSON)
    text = json.dumps(log, allow_nan=True)
    if draw(st.integers(0, 5)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text


def sarif_inputs() -> st.SearchStrategy[bytes]:
    return st.one_of(
        sarif_texts().map(lambda t: t.encode("utf-8")),
        sarif_texts().map(lambda t: t.encode("utf-16")),
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.integers(0, 3000).map(lambda n: ("[" * n + "]" * n).encode()),
    )


def empty_report() -> ScanReport:
    return ScanReport(findings=[], notifications=[], targets=[], rules=[], started="2026-06-30T12:00:00Z",
                      finished="2026-06-30T12:00:01Z", tool_version="0", policy_name="financial-cn")


def test_fuzz_the_sarif_reader_raises_only_baseline_errors_without_raw_values(fuzz_dir: Path) -> None:
    """Whatever the reader accepts, the baseline comparison and the auditor report then handle."""
    from reports.html import render_html
    from reports.markdown import render_markdown
    from scanner.review.baseline import BaselineError, load_baseline, read_sarif

    path = fuzz_dir / "previous.sarif"
    outcomes = {"loaded": 0, "refused": 0}

    @FUZZ
    @given(content=sarif_inputs())
    def run(content: bytes) -> None:
        path.write_bytes(content)
        try:
            baseline = load_baseline(path)
        except BaselineError as exc:
            check_messages([str(exc)], path)
            outcomes["refused"] += 1
            return
        outcomes["loaded"] += 1
        report = empty_report()
        baseline.compare(report)
        baseline.finish(report, [], frozenset({"waiver_expired", "waiver_stale"}))
        sarif = read_sarif(path)
        render_markdown(sarif, lang="en", previous=sarif, source="f.sarif", baseline_name="p.sarif")
        render_html(sarif, lang="zh", previous=None, source="f.sarif", baseline_name=None)

    run()
    print(f"fuzz SARIF reader: {outcomes}")


# what fuzzing found (each crashed with a traceback before it was fixed): (loader, file text, first error)
FOUND_BY_FUZZING = [
    ("config", "\x1f", ":1: not valid YAML: unacceptable character #x001f: special characters are not allowed"),
    ("config", "version: 1\ntargets:\n  - database: mysql://[::1\n",
     ":3: targets.0.database: expected a database URI such as"),
    ("config", "version: 1\ntargets:\n  - database: mysql://u:secret@[::1\n",
     ":3: targets.0.database: the URI contains a password; remove it"),
    ("config", "version: 1\n1: a\n~: b\n2026-01-01: c\ntargets:\n  - path: x\n",
     ":1: 1: unknown key 1; expected one of: baseline,"),
    ("waivers", "version: 1\nwaivers: []\nnull: x\n", ":1: None: unknown key None; expected one of: version,"),
    ("policy", "name: p\ngrades: []\nentities: {}\n2: x\n", ":1: 2: unknown key 2; expected one of: access,"),
    ("config", "version: 1\n!!int : 2\ntargets:\n  - path: x\n", ":2: '' is not an integer"),
    ("waivers", 'version: 1\nwaivers:\n  - rule: "\\U11010119"\n',
     ":3: waivers.0: not valid YAML: found invalid Unicode character escape code"),
    ("waivers", 'version: 1\nwaivers:\n  - rule: "x\n  - rule: "\\U11010119"\n',
     ":3: waivers.0: not valid YAML: a quoted value is not closed (found unexpected end of stream)"),
]


@pytest.mark.parametrize(("kind", "text", "first"), FOUND_BY_FUZZING)
def test_what_fuzzing_found_is_a_clear_error(tmp_path: Path, kind: str, text: str, first: str) -> None:
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text, encoding="utf-8")
    errors = errors_of(LOADERS[kind], path)
    assert errors[0].startswith(f"{path}{first}"), errors
