"""Unit tests below the golden cases: statement lines, suppressions, column classification, the
policy-driven role rule, and the GitHub annotation escaping."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest

from reports.github import annotation, escape_property
from scanner.migrations.check import MigrationCheck
from scanner.migrations.parsing import parse_file, parse_sql
from scanner.migrations.schema import ColumnType, Grantee, classify_column
from scanner.policy import load_policy


def test_statement_start_line_skips_leading_comments() -> None:
    sql = "-- one\n/* two\n three */\n\n  CREATE TABLE a (id int);\nSELECT 1; SELECT 2;\n# not a comment in pg\n"
    parsed = parse_sql(sql.replace("# not a comment in pg\n", ""), "postgres", "f.sql")
    assert [s.start_line for s in parsed.statements] == [5, 6, 6]
    assert parsed.problems == []


def test_suppression_on_a_line_of_the_statement_or_above_it() -> None:
    sql = (
        "CREATE TABLE a (id int); -- privaudit:ignore r1 reason: same line\n"
        "-- privaudit:ignore r2, r3 reason: above\n\n"
        "CREATE TABLE b (\n  id int -- privaudit:ignore r4\n);\n"
    )
    a, b = parse_sql(sql, "postgres", "f.sql").statements
    assert [(s.rules, s.reason) for s in a.suppressions] == [(("r1",), "same line")]
    assert [(s.rules, s.reason) for s in b.suppressions] == [(("r2", "r3"), "above"), (("r4",), "")]


def test_gb18030_file(tmp_path: Path) -> None:
    path = tmp_path / "V1__gbk.sql"
    path.write_bytes("CREATE TABLE 客户 (证件号码 varchar(18));\n".encode("gb18030"))
    parsed = parse_file(path, "postgres", "V1__gbk.sql")
    assert parsed.statements and parsed.statements[0].start_line == 1


@pytest.mark.parametrize(
    ("name", "ctype", "comment", "expected"),
    [
        ("id_card", ColumnType("VARCHAR(18)", "string", 18), None, ("C2", False)),
        ("sfzh", ColumnType("TEXT", "string"), None, ("C2", False)),
        ("身份证号", ColumnType("TEXT", "string"), None, ("C2", False)),
        ("c1", ColumnType("TEXT", "string"), "手机号码", ("C2", False)),
        ("id_card", ColumnType("BYTEA", "binary"), None, ("C2", True)),
        ("mobile_hash", ColumnType("CHAR(64)", "string", 64), None, ("C2", True)),
        ("mobile_hash", ColumnType("VARCHAR(11)", "string", 11), None, ("C2", False)),
        ("mobile_enc", ColumnType("BIGINT", "other"), None, ("C2", False)),
        ("password_hash", ColumnType("VARCHAR(255)", "string", 255), None, ("C3", True)),
        ("cvv", ColumnType("CHAR(3)", "string", 3), None, ("C3", False)),
        ("phone_model", ColumnType("TEXT", "string"), None, None),
        ("email_template_id", ColumnType("INT", "other"), None, None),
        ("card_type", ColumnType("TEXT", "string"), None, None),
        ("has_mobile", ColumnType("BOOLEAN", "boolean"), None, None),
        ("created_at", ColumnType("TIMESTAMP", "other"), None, None),
    ],
)
def test_classify_column(name: str, ctype: ColumnType, comment: str | None, expected: tuple | None) -> None:
    sens = classify_column(name, ctype, comment, load_policy())
    assert (None if sens is None else (sens.grade.id, sens.protected)) == expected


def test_grantee_forms() -> None:
    from scanner.migrations.analysis import parse_grantee

    assert parse_grantee("PUBLIC", "postgres") == Grantee("public")
    assert parse_grantee('"Public"', "postgres") == Grantee("Public")
    assert parse_grantee("'app'@'%'", "mysql").wildcard_host
    assert parse_grantee("app", "mysql").wildcard_host  # MySQL: no host part means '%'
    assert not parse_grantee("'etl'@'10.0.0.%'", "mysql").wildcard_host
    assert not parse_grantee("app", "postgres").wildcard_host


GRANTS = """CREATE TABLE customer (id bigint, id_card varchar(18), pwd text);
GRANT SELECT ON customer TO teller;
GRANT SELECT (id, id_card) ON customer TO analyst;
GRANT SELECT ON customer TO dba_admin;
"""


def _run_with(tmp_path: Path, policy: object) -> list[tuple[int, str, str | None]]:
    (tmp_path / "V1__a.sql").write_text(GRANTS)
    report = MigrationCheck([str(tmp_path)], "postgres", policy, cwd=tmp_path).run()  # type: ignore[arg-type]
    return sorted((f.locations[0].line or 0, f.rule_id, f.grade) for f in report.findings
                  if f.rule_id == "migration_grant_pii_to_unapproved_role")


def test_unapproved_role_uses_policy_access(tmp_path: Path) -> None:
    def role_allowed(role: str, grade: str, obj: str | None = None) -> bool:
        assert obj is not None and obj.startswith("public.customer.")
        return role.startswith("dba_") or grade == "C2"

    policy = dataclasses.replace(load_policy())
    policy.access = SimpleNamespace(role_allowed=role_allowed)  # type: ignore[attr-defined]
    # teller reads pwd (C3) -> reported; analyst only C2 columns -> fine; dba_* allowed everything
    assert _run_with(tmp_path, policy) == [(2, "migration_grant_pii_to_unapproved_role", "C3")]


def test_unapproved_role_silent_without_access_section(tmp_path: Path) -> None:
    policy = dataclasses.replace(load_policy())
    if hasattr(policy, "access"):
        policy.access = None  # type: ignore[attr-defined]
    assert _run_with(tmp_path, policy) == []


def test_github_annotation_escaping() -> None:
    line = annotation("error", "50%\nmore", "dir/a,b:c.sql", 3, "rule [C2]")
    assert line == "::error file=dir/a%2Cb%3Ac.sql,line=3,title=rule [C2]::50%25%0Amore"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"


def test_rule_metadata_and_categories() -> None:
    from scanner.migrations.check import migration_rule_classes

    categories = {cls.id: cls.metadata().category.value for cls in migration_rule_classes()}
    assert categories == {
        "migration_default_privileges_to_public": "access",
        "migration_grant_pii_to_public": "access",
        "migration_grant_pii_to_unapproved_role": "access",
        "migration_grant_pii_to_wildcard_host": "access",
        "migration_json_column_may_hold_pii": "personal-data",
        "migration_plaintext_c3_column": "personal-data",
        "migration_plaintext_credential_column": "personal-data",
        "migration_plaintext_pii_column": "personal-data",
        "migration_policy_dropped_on_pii_table": "access",
        "migration_rls_disabled_on_pii_table": "access",
        "migration_statement_not_analysed": "schema-change",
        "migration_suppression_without_reason": "schema-change",
        "migration_view_exposes_pii_wider": "access",
    }
    assert all(getattr(cls, "scope", None) == "migrations" for cls in migration_rule_classes())
