"""The pre-commit hook through the real ``pre-commit`` tool, on a throwaway repository.

A throwaway project's ``.pre-commit-config.yaml`` names this repository at its current commit, as a
user's would name a release; ``pre-commit run`` installs it into a fresh hook environment (base
dependencies only: the hook must not pull in boto3, paramiko, database drivers or Presidio) and runs
the hook on staged migrations.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]

PLAINTEXT = "CREATE TABLE customers (id BIGINT PRIMARY KEY, id_card VARCHAR(18), mobile VARCHAR(20));\n"
CLEAN = "CREATE TABLE branches (id BIGINT PRIMARY KEY, city VARCHAR(40));\n"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})


@pytest.fixture(scope="module")
def hook_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.fail("git is needed to run pre-commit")
    return tmp_path_factory.mktemp("pre-commit-home")


def run_hook(project: Path, home: Path, *files: str) -> subprocess.CompletedProcess[str]:
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.strip()
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO}\n    rev: {rev}\n    hooks:\n      - id: privaudit-check-migrations\n", "utf-8")
    return subprocess.run(
        [*PRE_COMMIT, "run", "privaudit-check-migrations", "--files", *files],
        cwd=project, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )


@pytest.mark.parametrize(("sql", "passes"), [(CLEAN, True), (PLAINTEXT, False)], ids=["clean", "plaintext-pii"])
def test_the_hook_gates_staged_migrations(tmp_path: Path, hook_home: Path, sql: str, passes: bool) -> None:
    project = tmp_path / "app"
    (project / "migrations").mkdir(parents=True)
    git(project, "init", "-q")
    (project / "migrations" / "V1__init.sql").write_text(sql, "utf-8")
    git(project, "add", "migrations/V1__init.sql")
    result = run_hook(project, hook_home, "migrations/V1__init.sql")
    assert (result.returncode == 0) == passes, result.stdout + result.stderr
    if not passes:
        assert "migration_plaintext_pii_column" in result.stdout or "plaintext" in result.stdout
    environments = [p for p in hook_home.rglob("pyvenv.cfg")]
    assert environments, "pre-commit built no Python environment"
    for env in environments:
        site = list(env.parent.glob("lib/python*/site-packages"))
        installed = {p.name.lower() for s in site for p in s.iterdir()}
        assert not {"boto3", "paramiko", "presidio_analyzer", "psycopg", "pymysql", "spacy"} & installed
