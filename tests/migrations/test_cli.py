"""``privaudit check-migrations`` through the real CLI (click's CliRunner): exit codes, stdout vs
stderr, SARIF locations and suppressions, GitHub annotations, baselines, --schema-from, and the
shipped GitHub workflow and pre-commit hook."""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from scanner.cli import main

REPO = Path(__file__).resolve().parents[2]

V1 = """-- customers
CREATE TABLE customer (
  id bigint PRIMARY KEY,
  id_card varchar(18),
  phone_model text
);
"""
V2 = """
-- privaudit:ignore migration_grant_pii_to_public reason: read-only demo database, DPO-1
GRANT SELECT ON customer TO PUBLIC;
"""


def _run(args: list[str], cwd: Path) -> Result:
    """Invoke the real CLI from ``cwd`` (like a CI job in the repository root)."""
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "V1__customer.sql").write_text(V1, encoding="utf-8")
    (migrations / "V2__grants.sql").write_text(V2, encoding="utf-8")
    return tmp_path


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "V1__t.sql").write_text("CREATE TABLE t (id int, card_type varchar(8), mobile_enc bytea);\n")
    return tmp_path


def test_text_output_and_exit_1(repo: Path) -> None:
    result = _run(["check-migrations", "migrations", "--dialect", "postgres"], repo)
    assert result.exit_code == 1
    assert "migration_plaintext_pii_column" in result.stdout
    assert "migrations/V1__customer.sql:4" in result.stdout  # the column's own line
    assert "migration_grant_pii_to_public" not in result.stdout.split("Findings:", 2)[-1]  # suppressed
    assert "(1 suppressed)" in result.stdout
    assert result.stderr == ""


def test_clean_migrations_exit_0(clean: Path) -> None:
    result = _run(["check-migrations", "migrations", "--dialect", "postgres"], clean)
    assert result.exit_code == 0, result.stdout
    assert "Findings: 0" in result.stdout


def test_sarif_has_file_start_line_and_suppression(repo: Path) -> None:
    result = _run(["check-migrations", "migrations", "--dialect", "postgres", "--format", "sarif",
                   "--output", "out.sarif"], repo)
    assert result.exit_code == 1
    assert result.stdout == ""
    sarif = json.loads((repo / "out.sarif").read_text("utf-8"))
    run = sarif["runs"][0]
    results = {r["ruleId"]: r for r in run["results"]}
    column = results["migration_plaintext_pii_column"]
    physical = column["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "migrations/V1__customer.sql", "uriBaseId": "SCANROOT"}
    assert physical["region"]["startLine"] == 4  # the column's own line, not the CREATE TABLE's
    assert column["properties"]["category"] == "personal-data"
    assert column["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "customer.id_card"
    grant = results["migration_grant_pii_to_public"]
    assert grant["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert grant["suppressions"] == [{"kind": "inSource", "justification": "read-only demo database, DPO-1"}]
    assert grant["properties"]["category"] == "access"
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {"migration_plaintext_pii_column",
                                                                  "migration_grant_pii_to_public"}


def test_sarif_to_stdout_keeps_stderr_for_notices(repo: Path) -> None:
    (repo / "migrations" / "V3__bad.sql").write_text("SELECT 1;\nCREATE TABLE x (a text DEFAULT 'oops);\n")
    result = _run(["check-migrations", "migrations", "--dialect", "postgres", "--format", "sarif"], repo)
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("migrations/V3__bad.sql:2: cannot tokenize" in n["message"]["text"] for n in notes)
    assert "migrations/V3__bad.sql:2: cannot tokenize" in result.stderr


def test_github_format_lines(repo: Path) -> None:
    result = _run(["check-migrations", "migrations", "--dialect", "postgres", "--format", "github"], repo)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::error file=migrations/V1__customer.sql,line=4,title=migration_plaintext_pii_column")
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert not any("migration_grant_pii_to_public" in line for line in lines)  # suppressed: not annotated


def test_fail_on_none_and_baseline(repo: Path) -> None:
    first = _run(["check-migrations", "migrations", "--dialect", "postgres", "-o", "base.sarif"], repo)
    assert first.exit_code == 1
    again = _run(["check-migrations", "migrations", "--dialect", "postgres", "--baseline", "base.sarif",
                  "--format", "sarif", "-o", "now.sarif"], repo)
    assert again.exit_code == 0, again.stdout
    results = json.loads((repo / "now.sarif").read_text())["runs"][0]["results"]
    states = {r["ruleId"]: r["baselineState"] for r in results}
    assert states["migration_plaintext_pii_column"] == "unchanged"
    # moving the statement down does not change its fingerprint
    (repo / "migrations" / "V1__customer.sql").write_text("\n\n\n" + V1)
    (repo / "migrations" / "V3__more.sql").write_text("ALTER TABLE customer ADD COLUMN email text;\n")
    third = _run(["check-migrations", "migrations", "--dialect", "postgres", "--baseline", "base.sarif",
                  "--format", "github"], repo)
    assert third.exit_code == 1
    assert "V3__more.sql" in third.stdout and "V1__customer.sql" not in third.stdout
    none = _run(["check-migrations", "migrations", "--dialect", "postgres", "--fail-on", "none"], repo)
    assert none.exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give the migration files or directories"),
        (["migrations"], "--dialect is required"),
        (["nope", "--dialect", "postgres"], "does not exist"),
        (["empty", "--dialect", "postgres"], "no .sql files"),
        (["migrations", "--dialect", "oracle"], "Invalid value for '--dialect'"),
        (["migrations", "--dialect", "postgres", "--baseline", "bad.sarif"], "--baseline bad.sarif"),
        (["migrations", "--dialect", "postgres", "--schema-from", "oracle://db/x"], "use postgresql://"),
        (["migrations", "--dialect", "mysql", "--schema-from", "postgresql://db/x"], "needs --dialect postgres"),
        (["migrations", "--dialect", "postgres", "--schema-from", "sqlite:///missing.db"], "no SQLite database"),
        (["migrations", "--dialect", "postgres", "--policy", "no-such-pack"], "the policy is not valid"),
        (["migrations", "--dialect", "postgres", "-o", "no/such/dir/out.sarif"], "cannot write it"),
    ],
)
def test_usage_errors_exit_2(repo: Path, args: list[str], message: str) -> None:
    (repo / "empty").mkdir()
    (repo / "bad.sarif").write_text("{}")
    result = _run(["check-migrations", *args], repo)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_schema_from_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE member (id INTEGER, email TEXT, pwd_hash BLOB)")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0002_rename.sql").write_text("ALTER TABLE member RENAME COLUMN pwd_hash TO pwd;\n"
                                                             "CREATE TABLE export AS SELECT email FROM member;\n")
    result = _run(["check-migrations", "migrations", "--dialect", "sqlite", "--schema-from", "sqlite:///live.db",
                   "--format", "github"], tmp_path)
    assert result.exit_code == 1, result.stdout + result.stderr
    # email already existed (not re-reported); the copy into export is new plaintext
    assert "title=migration_plaintext_pii_column [C2]::Column export.email" in result.stdout
    assert "member.email" not in result.stdout.split("::Column ")[1].split(" ")[0]


def test_workflow_parses_and_its_command_runs(repo: Path) -> None:
    """The example workflow's action step, run as the action runs it (action.yml's scan step)."""
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "privaudit-migrations.yml").read_text("utf-8"))
    steps = workflow["jobs"]["check-migrations"]["steps"]
    step = next(s for s in steps if s.get("with", {}).get("command") == "check-migrations")
    argv = [step["with"]["command"], *step["with"]["args"].split(), "--format", "github-sarif",
            "--output", "privaudit.sarif"]
    result = _run(argv, repo)
    assert result.exit_code == 1  # the sample has an unsuppressed finding
    sarif = json.loads((repo / "privaudit.sarif").read_text("utf-8"))
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert all("uriBaseId" not in r["locations"][0]["physicalLocation"]["artifactLocation"]
               for r in sarif["runs"][0]["results"])


def test_pre_commit_hook_parses_and_runs(repo: Path) -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    hook = next(h for h in hooks if h["id"] == "privaudit-check-migrations")
    assert hook["language"] == "python" and hook["files"] == r"\.sql$"
    entry = shlex.split(hook["entry"])
    assert entry == ["privaudit", "check-migrations"]
    # pre-commit runs: entry + args + the staged file names
    files = ["migrations/V1__customer.sql", "migrations/V2__grants.sql"]
    result = _run([*entry[1:], *hook.get("args", []), *files], repo)
    assert result.exit_code == 1
    assert "migration_plaintext_pii_column" in result.stdout


def test_sarif_passes_the_sarif_multitool_with_github_rules(repo: Path) -> None:
    multitool = pytest.importorskip("tests.sarif_multitool")
    (repo / "migrations" / "V3__bad.sql").write_text("CREATE TABLE x (a int;\n")
    result = _run(["check-migrations", "migrations", "--dialect", "postgres", "-o", "out.sarif"], repo)
    assert result.exit_code == 1
    assert multitool.validate_sarif(repo / "out.sarif") == []


@pytest.mark.parametrize(("named", "expected_rules"), [
    # the staged file alone: its GRANT is judged against the table V1 created, V1's own results are not shown
    (["migrations/V3__open.sql"], {"migration_grant_pii_to_public"}),
    (["migrations/V1__customer.sql"], {"migration_plaintext_pii_column"}),
    (["migrations/V1__customer.sql", "migrations/V3__open.sql"],
     {"migration_plaintext_pii_column", "migration_grant_pii_to_public"}),
])
def test_named_files_are_judged_against_their_directory(repo: Path, named: list[str], expected_rules: set[str]) -> None:
    (repo / "migrations" / "V3__open.sql").write_text("GRANT SELECT ON customer TO PUBLIC;\n", encoding="utf-8")
    result = _run(["check-migrations", *named, "--dialect", "postgres", "--format", "json"], repo)
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    assert {f["ruleId"] for f in findings} == expected_rules
    assert {f["resource"] for f in findings} <= set(named)


def test_column_results_point_at_the_columns_line_and_column(tmp_path: Path) -> None:
    """Editors, GitHub annotations and reviewers land on the column itself (SARIF region startColumn)."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "V1__people.sql").write_text(
        "CREATE TABLE customer (\n    id bigint,\n    id_card_no varchar(18),\n      mobile varchar(11)\n);\n")
    result = _run(["check-migrations", "migrations", "--dialect", "postgres", "--format", "sarif", "-o", "out.sarif"],
                  tmp_path)
    assert result.exit_code == 1, result.output
    results = json.loads((tmp_path / "out.sarif").read_text("utf-8"))["runs"][0]["results"]
    regions = {r["properties"]["column"]: r["locations"][0]["physicalLocation"]["region"] for r in results
               if r["ruleId"] == "migration_plaintext_pii_column"}
    assert {c: (r["startLine"], r.get("startColumn")) for c, r in regions.items()} == {
        "id_card_no": (3, 5), "mobile": (4, 7)}
