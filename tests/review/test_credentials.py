"""Credential references from a scan config reach a real PostgreSQL server (tests.servers):
the password from a named environment variable or a pgpass file, never from the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.review.config import load_config
from tests.review.estate import scan


def _config(tmp_path: Path, server: Any, credentials: str) -> Path:
    path = tmp_path / "privaudit.yaml"
    path.write_text(f"version: 1\ntargets:\n  - database: {server.dsn()}?sslmode=disable\n"
                    f"    credentials:\n{credentials}", encoding="utf-8")
    return path


@pytest.mark.parametrize("how", ["password_env", "pgpass", "wrong_password"])
def test_postgres_credentials_by_reference(tmp_path: Path, postgres_server: Any, monkeypatch: pytest.MonkeyPatch,
                                           how: str) -> None:
    for name in ("PGPASSWORD", "PGPASSFILE", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.pgpass of the machine running the tests
    if how == "pgpass":
        pgpass = tmp_path / "pgpass"
        pgpass.write_text(f"{postgres_server.host}:{postgres_server.port}:*:{postgres_server.user}:"
                          f"{postgres_server.password}\n", encoding="utf-8")
        pgpass.chmod(0o600)  # libpq ignores group/world-readable password files
        credentials = "      pgpass: pgpass\n"
    else:
        value = postgres_server.password if how == "password_env" else "not-the-password"
        monkeypatch.setenv("PRIVAUDIT_TEST_PG_PASSWORD", value)
        credentials = "      password_env: PRIVAUDIT_TEST_PG_PASSWORD\n"
    config = load_config(_config(tmp_path, postgres_server, credentials))
    assert config.reference_problems() == []
    (target,) = config.targets
    report = scan([(target.target, target.options(jobs=1))])
    (summary,) = report.targets
    assert summary.failed is (how == "wrong_password"), [n.message for n in report.notifications]
    assert postgres_server.password not in repr(report)


@pytest.mark.parametrize("how", ["password_env", "mysql_option_file"])
def test_mariadb_credentials_by_reference(tmp_path: Path, mariadb_server: Any, monkeypatch: pytest.MonkeyPatch,
                                          how: str) -> None:
    for name in ("MYSQL_PWD", "MYSQL_OPTION_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    if how == "password_env":
        monkeypatch.setenv("PRIVAUDIT_TEST_MYSQL_PASSWORD", mariadb_server.password)
        credentials = "      password_env: PRIVAUDIT_TEST_MYSQL_PASSWORD\n"
    else:
        option_file = tmp_path / "my.cnf"
        option_file.write_text(f"[client]\nuser={mariadb_server.user}\npassword={mariadb_server.password}\n",
                               encoding="utf-8")
        option_file.chmod(0o600)
        credentials = "      mysql_option_file: my.cnf\n"
    path = tmp_path / "privaudit.yaml"
    path.write_text(f"version: 1\ntargets:\n  - database: mysql://{mariadb_server.user}@{mariadb_server.host}:"
                    f"{mariadb_server.port}/mysql?ssl-mode=DISABLED\n    include: ['mysql.user']\n"
                    f"    credentials:\n{credentials}", encoding="utf-8")
    (target,) = load_config(path).targets
    report = scan([(target.target, target.options(jobs=1))])
    assert report.targets[0].failed is False, [n.message for n in report.notifications]
    assert mariadb_server.password not in repr(report)
