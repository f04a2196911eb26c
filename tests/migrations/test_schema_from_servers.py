"""``--schema-from postgresql://`` and ``mysql://`` against real loopback servers.

The migrations here only GRANT, retype or drop policies on tables they never create: what those
tables hold comes from the live catalog, read read-only (no row is read).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from scanner.cli import main

if TYPE_CHECKING:
    from tests.servers import MariaDBServer, PostgresServer

pytest_plugins = ["tests.servers"]
pytestmark = pytest.mark.servers

PG_SCHEMA = """
CREATE TABLE customer (id bigint, id_card varchar(18), mobile_enc bytea, note text);
COMMENT ON COLUMN customer.note IS '联系地址';
CREATE TABLE audit_log (id bigint, action text);
CREATE VIEW customer_v AS SELECT id, id_card FROM customer;
GRANT SELECT ON customer TO teller;
ALTER TABLE customer ENABLE ROW LEVEL SECURITY;
CREATE POLICY branch_only ON customer AS RESTRICTIVE USING (true);
"""

PG_MIGRATION = """-- teller already reads customer (live grant): the view grant is not wider
GRANT SELECT ON customer_v TO teller;
GRANT SELECT ON customer_v TO intern;
GRANT SELECT ON customer TO PUBLIC;
GRANT SELECT ON audit_log TO PUBLIC;
ALTER TABLE customer ALTER COLUMN mobile_enc TYPE varchar(20);
DROP POLICY branch_only ON customer;
"""


def _invoke(args: list[str], cwd: Path, env: dict[str, str]) -> object:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    finally:
        os.chdir(old)


def test_schema_from_postgresql(postgres_server: PostgresServer, tmp_path: Path) -> None:
    dbname = f"mig_{uuid.uuid4().hex[:8]}"
    with postgres_server.admin_connect() as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
        for role in ("teller", "intern"):
            admin.execute(f"DO $$ BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    try:
        with postgres_server.admin_connect(dbname) as conn:
            for statement in filter(str.strip, PG_SCHEMA.split(";")):
                conn.execute(statement)
        (tmp_path / "migrations").mkdir()
        (tmp_path / "migrations" / "V7__access.sql").write_text(PG_MIGRATION, encoding="utf-8")
        uri = postgres_server.dsn(dbname) + "?sslmode=disable"
        result = _invoke(["check-migrations", "migrations", "--dialect", "postgres", "--schema-from", uri,
                          "--format", "github"], tmp_path, {"PGPASSWORD": postgres_server.password})
        assert result.exit_code == 1, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        by_line = {(line.split("line=")[1].split(",")[0], line.split("title=")[1].split(" ")[0].split("::")[0])
                   for line in lines if "line=" in line}
        assert by_line == {
            ("3", "migration_view_exposes_pii_wider"),
            ("4", "migration_grant_pii_to_public"),
            ("6", "migration_plaintext_pii_column"),
            ("7", "migration_policy_dropped_on_pii_table"),
        }, lines
        assert postgres_server.password not in result.stdout + result.stderr
    finally:
        with postgres_server.admin_connect() as admin:
            admin.execute(f'DROP DATABASE "{dbname}" WITH (FORCE)')


def test_schema_from_postgresql_bad_password(postgres_server: PostgresServer, tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "V1__x.sql").write_text("SELECT 1;\n")
    uri = postgres_server.dsn("postgres", password="wrong-secret") + "?sslmode=disable"
    result = _invoke(["check-migrations", "migrations", "--dialect", "postgres", "--schema-from", uri],
                     tmp_path, {})
    assert result.exit_code == 2
    assert "cannot connect" in result.stderr and "wrong-secret" not in result.stderr


def test_schema_from_mysql(mariadb_server: MariaDBServer, tmp_path: Path) -> None:
    db = f"mig_{uuid.uuid4().hex[:8]}"
    with mariadb_server.admin_connect() as admin, admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{db}`")
        cur.execute(f"CREATE TABLE `{db}`.member (id int, c_no varchar(32) COMMENT '身份证号', "
                    "password_hash binary(32))")
        cur.execute(f"CREATE TABLE `{db}`.product (id int, title text)")
    try:
        (tmp_path / "migrations").mkdir()
        (tmp_path / "migrations" / "0003_grants.sql").write_text(
            "GRANT SELECT ON member TO 'bi'@'%';\nGRANT SELECT ON product TO 'bi'@'%';\n"
            "ALTER TABLE member MODIFY COLUMN password_hash varchar(16);\n", encoding="utf-8")
        uri = f"mysql://{mariadb_server.user}@{mariadb_server.host}:{mariadb_server.port}/{db}?ssl=disable"
        result = _invoke(["check-migrations", "migrations", "--dialect", "mysql", "--schema-from", uri,
                          "--format", "github"], tmp_path, {"MYSQL_PWD": mariadb_server.password})
        assert result.exit_code == 1, result.stdout + result.stderr
        assert "line=1,title=migration_grant_pii_to_wildcard_host" in result.stdout
        assert "line=2," not in result.stdout
        assert "line=3,title=migration_plaintext_c3_column" in result.stdout
    finally:
        with mariadb_server.admin_connect() as admin, admin.cursor() as cur:
            cur.execute(f"DROP DATABASE `{db}`")
