"""The command line through click's CliRunner, stdout and stderr checked separately.

Exit codes: 0 nothing at or above ``--fail-on``, 1 something is, 2 usage or configuration mistakes
with a message that says how to fix them. Findings go to stdout or ``--output``; notices about
unreadable items go to stderr.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scanner import __version__
from scanner.cli import main
from tests.reports.test_sarif import build_estate
from tests.sarif_multitool import validate_sarif

REPO = Path(__file__).resolve().parents[1]
RAW_VALUES = ("110105198503120012", "440304199007010020", "13812345678", "13923456789", "zhang.wei@example.com")


def run(args: list[str], cwd: Path | None = None) -> Result:
    runner = CliRunner()  # click >= 8.2: result.stdout and result.stderr are captured separately
    if cwd is None:
        return runner.invoke(main, args, prog_name="privaudit", catch_exceptions=False)
    with runner.isolated_filesystem(temp_dir=cwd):
        return runner.invoke(main, args, prog_name="privaudit", catch_exceptions=False)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_estate("file_share", tmp_path_factory.mktemp("cli") / "share")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clean")
    (root / "readme.md").write_text("# Templates\n\nNo customer data here. Build 20241124153000.\n", "utf-8")
    return root


@pytest.fixture(scope="module")
def warning_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A policy under which every file rule reports at warning level."""
    text = (REPO / "policies" / "financial-cn.yaml").read_text("utf-8")
    path = tmp_path_factory.mktemp("policy") / "warn.yaml"
    rules = "".join(f"  {rule}:\n    level: warning\n"
                    for rule in ("pii_in_file", "pii_in_log", "file_world_readable_with_pii"))
    path.write_text(text + "\nrules:\n" + rules, "utf-8")
    return path


def assert_no_raw_values(*texts: str) -> None:
    for text in texts:
        for raw in RAW_VALUES:
            assert raw not in text


# -- exit codes -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("target", "policy", "fail_on", "code"),
    [
        ("estate", None, None, 1),
        ("estate", None, "error", 1),
        ("estate", None, "none", 0),
        ("estate", "warning", None, 0),
        ("estate", "warning", "error", 0),
        ("estate", "warning", "warning", 1),
        ("estate", "warning", "note", 1),
        ("clean", None, "note", 0),
        ("clean", None, None, 0),
    ],
)
def test_exit_codes_follow_fail_on(request: pytest.FixtureRequest, warning_policy: Path, target: str,
                                   policy: str | None, fail_on: str | None, code: int) -> None:
    args = ["scan", str(request.getfixturevalue(target)), "--format", "json", "--jobs", "1"]
    if policy:
        args += ["--policy", str(warning_policy)]
    if fail_on:
        args += ["--fail-on", fail_on]
    result = run(args)
    assert result.exit_code == code, result.stderr
    json.loads(result.stdout)


USAGE_ERRORS = [
    # (arguments, text the message must contain)
    (["scan"], "give at least one TARGET to scan"),
    (["scan", "{estate}", "--format", "yaml"], "Invalid value for '--format'"),
    (["scan", "{estate}/does-not-exist"], "does not exist; give an existing path"),
    (["scan", "ftp://example.com/share"], "no connector handles ftp:// targets; use a path or one of:"),
    (["scan", "{estate}", "--fail-on", "critical"], "Invalid value for '--fail-on'"),
    (["scan", "{estate}", "--jobs", "-1"], "Invalid value for '--jobs'"),
    (["scan", "{estate}", "--policy", "no-such-pack"], "unknown policy pack 'no-such-pack'; built-in packs:"),
    (["scan", "{estate}", "--no-such-option"], "No such option '--no-such-option'"),
    (["frobnicate"], "No such command 'frobnicate'"),
    (["scan", "{estate}", "--output", "{estate}/../no/such/dir/out.sarif"], "its directory does not exist; create it"),
    (["scan", "{estate}", "--output", "{estate}/customers.csv"], "is inside the scanned target"),
    (["scan", ""], "an empty TARGET ('') was given"),
    (["scan", "{estate}", ""], "an empty TARGET ('') was given"),
    (["scan", "{estate}", "", "--fail-on-new-only"], "an empty TARGET ('') was given"),
]


@pytest.mark.parametrize(("args", "message"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_exit_2_with_a_helpful_message(estate: Path, args: list[str], message: str) -> None:
    result = run([a.replace("{estate}", str(estate)) for a in args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith(("Usage: privaudit ", "privaudit: "))
    assert result.stdout == ""


def test_invalid_policy_file_exits_2_with_file_and_line(estate: Path, tmp_path: Path) -> None:
    policy = tmp_path / "bank.yaml"
    policy.write_text((REPO / "policies" / "financial-cn.yaml").read_text("utf-8") + "\nrule:\n  x: 1\n", "utf-8")
    result = run(["scan", str(estate), "--policy", str(policy)])
    assert result.exit_code == 2 and result.stdout == ""
    assert f"{policy}:" in result.stderr and "unknown key 'rule'" in result.stderr


# -- output ---------------------------------------------------------------------------------------

def test_text_summary(estate: Path) -> None:
    result = run(["scan", str(estate), "--format", "text", "--jobs", "1"])
    assert result.exit_code == 1
    out = result.stdout
    assert out.startswith(f"privaudit {__version__} — policy financial-cn\n")
    assert f"Target {estate}: 10 resources" in out and "skipped: binary 1" in out
    assert "encrypted/protected: 1" in out and "masked values seen: 6" in out
    assert "Findings: 10\n" in out
    assert "  by grade:    C2 10\n" in out
    assert "  by category: exposure 1, personal-data 9\n" in out
    assert "Top resources:\n     3  exports/客户名单.csv\n" in out
    assert "pii_in_log" in out and "logs/app.log:1 [138****5678]" in out
    assert "Could not read or check 1 item(s):" in out
    # stderr: one line per unreadable item, nothing else
    assert result.stderr.splitlines() == [
        "privaudit: warning: logs/broken.log.gz: content could not be read: "
        "Compressed file ended before the end-of-stream marker was reached."
    ]
    assert_no_raw_values(result.stdout, result.stderr)


def test_text_is_the_default_format(estate: Path) -> None:
    result = run(["scan", str(estate), "--jobs", "1"])
    assert result.stdout.startswith("privaudit ") and "Top resources:" in result.stdout


@pytest.mark.parametrize(("name", "extra", "kind"), [
    ("out.sarif", [], "sarif"),
    ("out.sarif.json", [], "sarif"),
    ("out.json", [], "json"),
    ("out.txt", [], "text"),
    ("report.log", ["--format", "sarif"], "sarif"),
])
def test_output_file(estate: Path, tmp_path: Path, name: str, extra: list[str], kind: str) -> None:
    path = tmp_path / name
    result = run(["scan", str(estate), "--output", str(path), "--jobs", "1", *extra])
    assert result.exit_code == 1
    assert result.stdout == ""  # findings go to the file only
    assert "broken.log.gz" in result.stderr
    text = path.read_text("utf-8")
    if kind == "sarif":
        assert json.loads(text)["version"] == "2.1.0"
    elif kind == "json":
        data = json.loads(text)
        assert len(data["findings"]) == 10 and data["notifications"][0]["kind"] == "corrupt"
    else:
        assert text.startswith("privaudit ")
    assert_no_raw_values(text)


def test_output_sarif_validates(estate: Path, tmp_path: Path) -> None:
    path = tmp_path / "scan.sarif"
    run(["scan", str(estate), "-o", str(path), "--include", "*.csv", "--exclude", "exports/analytics*"])
    sarif = json.loads(path.read_text("utf-8"))
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]} \
        == {"exports/%E5%AE%A2%E6%88%B7%E5%90%8D%E5%8D%95.csv"}
    assert validate_sarif(path) == []


def test_max_file_size_and_follow_symlinks(estate: Path, tmp_path: Path) -> None:
    result = run(["scan", str(estate), "--max-file-size", "100", "--format", "json", "--follow-symlinks"])
    data = json.loads(result.stdout)
    assert {n["kind"] for n in data["notifications"]} == {"too-large", "corrupt"}
    assert "--max-file-size" in result.stderr


# -- demo, help, version --------------------------------------------------------------------------

def test_demo_finds_the_expected_kinds_of_findings(tmp_path: Path) -> None:
    sarif_path = tmp_path / "demo.sarif"
    result = run(["demo", "--dir", str(tmp_path / "estate"), "--output", str(sarif_path), "--jobs", "1"])
    assert result.exit_code == 0, result.stderr
    assert f"Demo estate created in {tmp_path / 'estate'}" in result.stderr
    assert f"SARIF written to {sarif_path}" in result.stderr
    sarif = json.loads(sarif_path.read_text("utf-8"))
    found = {(r["ruleId"], r["properties"]["resource"].rsplit("/", 1)[-1]) for r in sarif["runs"][0]["results"]}
    rules = {rule for rule, _ in found}
    assert {"pii_in_log", "pii_in_file", "file_world_readable_with_pii", "db_plaintext_pii_column",
            "sqlite_file_world_readable_with_pii"} <= rules
    assert ("pii_in_log", "app.log") in found and ("pii_in_log", "app.log.1.gz") in found
    assert not any(name == "gateway.log" for _, name in found)  # masked log
    assert not any(name.endswith(".age") for _, name in found)  # encrypted export
    assert ("pii_in_file", "%E5%AE%A2%E6%88%B7%E5%9B%9E%E8%AE%BF%E8%AE%B0%E5%BD%95.txt") in found  # GB18030
    world = {name for rule, name in found if rule == "file_world_readable_with_pii"}
    assert world == {"%E5%AE%A2%E6%88%B7%E5%90%8D%E5%8D%95_2024Q4.csv"}
    targets = sarif["runs"][0]["invocations"][0]["properties"]["targets"]
    assert targets[0]["protected"] == {"age": 1} and targets[0]["masked"]
    assert [t["connector"] for t in targets] == ["files", "sqlite"]
    assert "Top resources:" in result.stdout
    assert_no_raw_values(result.stdout, result.stderr, sarif_path.read_text("utf-8"))


def test_help_lists_commands() -> None:
    result = run(["--help"])
    assert result.exit_code == 0
    for command in ("scan", "demo", "check-migrations"):
        assert command in result.stdout
    scan_help = run(["scan", "--help"]).stdout
    for option in ("--format", "--output", "--fail-on", "--include", "--exclude", "--jobs"):
        assert option in scan_help


def test_python_m_scanner_version() -> None:
    done = subprocess.run([sys.executable, "-m", "scanner", "--version"], capture_output=True, text=True,
                          cwd=REPO, timeout=60, check=False)
    assert done.returncode == 0
    assert done.stdout == f"privaudit, version {__version__}\n" and done.stderr == ""


# -- exit statuses and what a person sees on stderr ---------------------------------------------------


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(("extra_target", "findings_too"), [
    (None, True),  # the estate alone: findings -> 1
    ("postgresql://scanner@127.0.0.1:{port}/bank?connect_timeout=2", True),  # + an unreachable database -> 3
])
def test_a_target_that_could_not_be_scanned_exits_3_after_writing_every_output(
    estate: Path, tmp_path: Path, extra_target: str | None, findings_too: bool
) -> None:
    out = tmp_path / "out.sarif"
    targets = [str(estate)] + ([extra_target.format(port=closed_port())] if extra_target else [])
    result = run(["scan", *targets, "-o", str(out), "-j", "1"])
    assert result.exit_code == (3 if extra_target else 1), result.stderr
    results = json.loads(out.read_text("utf-8"))["runs"][0]["results"]
    assert results  # the estate's findings were written although the database failed
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("privaudit: ") and f"written to {out}" in summary and summary.endswith(".")
    assert ("(1 could not be scanned)" in summary) == bool(extra_target)


def test_a_missing_path_in_a_config_exits_3_and_config_validate_warns(estate: Path, tmp_path: Path) -> None:
    config = tmp_path / "privaudit.yaml"
    config.write_text(f"version: 1\ntargets:\n  - path: {estate}\n  - path: {tmp_path}/unmounted-share\n", "utf-8")
    result = run(["scan", "--config", str(config), "-o", str(tmp_path / "o.sarif"), "-j", "1"])
    assert result.exit_code == 3, result.stderr
    validate = run(["config", "validate", str(config)])
    assert validate.exit_code == 0 and "unmounted-share" in validate.stderr and "does not exist" in validate.stderr


def test_quiet_and_output_to_stdout(estate: Path) -> None:
    loud = run(["scan", str(estate), "-o", "-", "--format", "sarif", "-j", "1"])
    assert json.loads(loud.stdout)["runs"] and loud.exit_code == 1
    assert "written to" not in loud.stderr  # the report went to stdout: no summary line
    quiet = run(["scan", str(estate), "-o", str(estate.parent / "q.sarif"), "-q", "-j", "1"])
    assert quiet.exit_code == 1 and "finding" not in quiet.stderr and "note:" not in quiet.stderr
    assert all(line.startswith(("privaudit: warning:", "privaudit: error:")) for line in quiet.stderr.splitlines())


def test_progress_counts_resources_not_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import connectors.files as files_module
    from scanner.connector import ScanOptions
    from scanner.scan import run_scan

    monkeypatch.setattr(files_module, "SPLIT_THRESHOLD", 1000)
    monkeypatch.setattr(files_module, "PART_SIZE", 1000)
    (tmp_path / "big.log").write_text("x\n" * 5000)  # ten parts, one resource
    (tmp_path / "small.log").write_text("y\n")
    seen: list[tuple[int, int]] = []
    run_scan([str(tmp_path)], ScanOptions(jobs=1), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 1), (2, 2)]  # found so far: discovery streams, big.log is done before small.log is listed


def test_a_target_whose_extra_is_missing_exits_2_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.s3 import S3Connector

    monkeypatch.setattr(S3Connector, "requires", ("boto3_not_installed_here",))
    result = run(["scan", "s3://exports"])
    assert result.exit_code == 2
    assert "install the s3 extra, pip install 'privaudit[s3]'" in result.stderr


def test_every_connector_extra_is_a_distribution_extra() -> None:
    import tomllib

    from scanner.registry import CONNECTORS

    extras = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text("utf-8"))[
        "project"]["optional-dependencies"]
    for cls in CONNECTORS:
        assert (cls.extra is None) == (not cls.requires), cls.name
        if cls.extra:
            assert cls.extra in extras and cls.extra in extras["all"][0], cls.name


def test_a_config_in_the_working_directory_is_used_when_no_target_is_given(
    estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "privaudit.yaml").write_text(f"version: 1\ntargets:\n  - path: {estate}\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    result = run(["scan", "--format", "json", "-j", "1"])
    assert result.exit_code == 1, result.stderr
    assert "scanning the targets of ./privaudit.yaml" in result.stderr
    assert json.loads(result.stdout)["findings"]
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert run(["scan"]).exit_code == 2


@pytest.mark.parametrize(("name", "fmt"), [("out.html", "html"), ("out.md", "markdown"), ("out.sarif", "sarif"),
                                           ("out.sarif.json", "sarif"), ("out.json", "json"), ("out.txt", "text"),
                                           ("out.log", "text")])
def test_the_output_format_follows_the_file_name_the_same_way_everywhere(
    estate: Path, tmp_path: Path, name: str, fmt: str
) -> None:
    from scanner.review.config import infer_format

    assert infer_format(name) == fmt
    out = tmp_path / name
    run(["scan", str(estate), "-o", str(out), "-j", "1", "-q"])
    head = out.read_text("utf-8")[:200]
    expected_start = {"html": "<!DOCTYPE html", "sarif": "{", "json": "{", "markdown": "#", "text": "privaudit"}[fmt]
    assert head.lstrip().startswith(expected_start), head
