"""``privaudit config``, ``privaudit policies`` and ``privaudit scan --config/--waivers/--baseline``
through the real CLI (click's CliRunner): exit codes, stdout vs stderr, written outputs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scanner.cli import main
from tests.review.estate import app_log, customers_csv, write

DATA = Path(__file__).parent / "data"


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# -- privaudit config --------------------------------------------------------------------------------


def test_config_init_writes_an_example_that_validates(workdir: Path) -> None:
    result = run("config", "init")
    assert result.exit_code == 0, result.output
    assert (workdir / "privaudit.yaml").read_text("utf-8").startswith("# privaudit scan configuration")
    result = run("config", "validate", "privaudit.yaml")
    assert (result.exit_code, result.stdout) == (0, "privaudit.yaml: valid (1 target, policy financial-cn).\n")
    again = run("config", "init")
    assert again.exit_code == 2 and "already exists; pass --force" in again.stderr
    assert run("config", "init", "--force").exit_code == 0


def test_config_validate_prints_golden_errors_and_exits_2(workdir: Path) -> None:
    case = DATA / "config_errors" / "unknown_keys.yaml"
    (workdir / case.name).write_text(case.read_text("utf-8"), encoding="utf-8")
    result = run("config", "validate", case.name)
    assert result.exit_code == 2
    assert result.stdout == ""
    expected = case.with_suffix(".expected").read_text("utf-8").splitlines()
    assert result.stderr.splitlines() == [f"privaudit: {case.name} is not valid:", *(f"  {e}" for e in expected)]


def test_config_validate_checks_the_waivers_and_policy_it_names(workdir: Path) -> None:
    (workdir / "waivers.yaml").write_text((DATA / "waiver_errors" / "text_date.yaml").read_text("utf-8"),
                                          encoding="utf-8")
    (workdir / "privaudit.yaml").write_text("version: 1\npolicy: gdpr\nwaivers: waivers.yaml\n"
                                           "targets:\n  - path: .\n", encoding="utf-8")
    result = run("config", "validate", "privaudit.yaml")
    assert result.exit_code == 2
    assert f"{workdir}/waivers.yaml:7: waivers.0.expires: 'next year' is not a calendar date" in result.stderr


def test_config_validate_warns_about_unresolvable_references(workdir: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIVAUDIT_TEST_DB_PASSWORD", raising=False)
    (workdir / "privaudit.yaml").write_text(
        "version: 1\ntargets:\n  - database: postgresql://auditor@db.internal/core\n"
        "    credentials: {password_env: PRIVAUDIT_TEST_DB_PASSWORD}\n", encoding="utf-8")
    result = run("config", "validate", "privaudit.yaml")
    assert result.exit_code == 0
    assert "privaudit: warning: privaudit.yaml:4: targets.0.credentials.password_env: environment variable " \
           "PRIVAUDIT_TEST_DB_PASSWORD is not set" in result.stderr
    scan = run("scan", "--config", "privaudit.yaml")  # the scan itself refuses: it would fail to log in
    assert scan.exit_code == 2
    assert "names credentials that are not available here" in scan.stderr


def test_config_validate_missing_file(workdir: Path) -> None:
    result = run("config", "validate", "nope.yaml")
    assert result.exit_code == 2 and "privaudit config init" in result.stderr


# -- privaudit policies ------------------------------------------------------------------------------


def test_policies_list_and_show() -> None:
    listed = run("policies", "list")
    assert listed.exit_code == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["financial-cn", "gdpr", "pci-dss"]
    assert "(default)" in listed.stdout.splitlines()[0]
    shown = run("policies", "show", "pci-dss")
    assert shown.exit_code == 0
    assert "  PAN              error   severity 8.0  Primary account number" in shown.stdout
    assert "  4. Req. 3.5.1 PAN rendered unreadable" in shown.stdout
    unknown = run("policies", "show", "hipaa")
    assert unknown.exit_code == 2 and "unknown policy pack 'hipaa'" in unknown.stderr


def test_policies_validate(workdir: Path) -> None:
    case = DATA / "policy_errors" / "bad_pack.yaml"
    (workdir / case.name).write_text(case.read_text("utf-8"), encoding="utf-8")
    result = run("policies", "validate", case.name)
    assert result.exit_code == 2
    expected = case.with_suffix(".expected").read_text("utf-8").splitlines()
    assert result.stderr.splitlines()[1:] == [f"  {e}" for e in expected]
    good = run("policies", "validate", str(Path(__file__).parents[2] / "policies" / "gdpr.yaml"))
    assert good.exit_code == 0 and "valid policy pack 'gdpr'" in good.stdout


# -- privaudit scan with a config, waivers and a baseline ---------------------------------------------


def _estate(root: Path) -> None:
    write(root, "share/exports/customers.csv", customers_csv())
    write(root, "share/tmp/scratch.csv", customers_csv())
    write(root, "logs/app.log", app_log())


def test_scan_with_config_writes_every_output(workdir: Path) -> None:
    _estate(workdir)
    (workdir / "privaudit.yaml").write_text("""\
version: 1
policy: financial-cn
fail_on: error
concurrency: 1
outputs:
  - path: reviews/h2.sarif
  - path: reviews/h2.txt
targets:
  - path: share
    exclude: ["tmp/*"]
  - path: logs
""", encoding="utf-8")
    result = run("scan", "--config", "privaudit.yaml")
    assert result.exit_code == 1  # plaintext resident IDs in an export and a log
    assert result.stdout == ""
    log = json.loads((workdir / "reviews/h2.sarif").read_text("utf-8"))
    resources = {r["properties"]["resource"] for r in log["runs"][0]["results"]}
    assert (workdir / "share/exports/customers.csv").as_uri() in resources
    assert not any("scratch" in r for r in resources)  # the target's own exclude applied
    assert {t["target"] for t in log["runs"][0]["invocations"][0]["properties"]["targets"]} == {
        str(workdir / "share"), str(workdir / "logs")}
    assert (workdir / "reviews/h2.txt").read_text("utf-8").startswith("privaudit ")


def test_command_line_overrides_and_additions(workdir: Path) -> None:
    _estate(workdir)
    (workdir / "privaudit.yaml").write_text(
        "version: 1\nfail_on: none\nconcurrency: 1\noutputs:\n  - path: never.sarif\ntargets:\n  - path: logs\n",
        encoding="utf-8")
    # an extra TARGET with its own --exclude; --format/--output replace the config's outputs; --fail-on wins
    result = run("scan", "--config", "privaudit.yaml", "share", "--exclude", "tmp/*", "--format", "json",
                 "--fail-on", "error")
    assert result.exit_code == 1
    assert not (workdir / "never.sarif").exists()
    findings = json.loads(result.stdout)["findings"]
    uris = {f["resource"] for f in findings}
    assert any("app.log" in u for u in uris) and any("customers.csv" in u for u in uris)
    assert not any("scratch" in u for u in uris)
    # per-target options without command-line targets are a usage mistake
    mistake = run("scan", "--config", "privaudit.yaml", "--exclude", "*.log")
    assert mistake.exit_code == 2 and "only apply to TARGETs given on the command line" in mistake.stderr


def test_fail_on_new_only_needs_a_baseline(workdir: Path) -> None:
    result = run("scan", ".", "--fail-on-new-only")
    assert result.exit_code == 2 and "--fail-on-new-only needs a baseline" in result.stderr


def test_waivers_and_baseline_from_the_command_line(workdir: Path) -> None:
    write(workdir, "logs/app.log", app_log())
    first = run("scan", "logs", "--jobs", "1", "--output", "h1.sarif", "--baseline", "missing.sarif")
    assert first.exit_code == 2 and "--baseline: cannot read missing.sarif" in first.stderr
    first = run("scan", "logs", "--jobs", "1", "--output", "h1.sarif")
    assert first.exit_code == 1
    (workdir / "waivers.yaml").write_text("""\
version: 1
waivers:
  - rule: pii_in_log
    resource: "app.log"
    owner: zhang.wei@bank.example
    reason: Logs are purged by the platform after 7 days; masking ships in release 4.2.
    ticket: SEC-1234
    expires: 2099-12-31
""", encoding="utf-8")
    second = run("scan", "logs", "--jobs", "1", "--waivers", "waivers.yaml", "--baseline", "h1.sarif",
                 "--output", "h2.sarif", "--fail-on-new-only")
    assert second.exit_code == 0, second.stderr
    (result,) = json.loads((workdir / "h2.sarif").read_text("utf-8"))["runs"][0]["results"]
    assert result["baselineState"] == "unchanged"
    assert result["suppressions"][0]["properties"]["owner"] == "zhang.wei@bank.example"
    bad = run("scan", "logs", "--waivers", "h1.sarif")
    assert bad.exit_code == 2 and "the waivers file is not valid" in bad.stderr


def test_config_validate_warns_about_a_missing_ner_model(workdir: Path) -> None:
    """The model may be installed only on the scanning host: validate warns, the scan refuses (exit 2)."""
    (workdir / "privaudit.yaml").write_text("version: 1\nner_model: zh_core_web_does_not_exist\n"
                                           "targets:\n  - path: .\n", encoding="utf-8")
    result = run("config", "validate", "privaudit.yaml")
    assert result.exit_code == 0
    assert "privaudit: warning: privaudit.yaml:2: ner_model: NER model 'zh_core_web_does_not_exist' is not " \
           "installed" in result.stderr
