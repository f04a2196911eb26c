"""Database rules end to end: real PostgreSQL/MariaDB fixtures -> run_scan -> exact findings -> SARIF."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reports.sarif import build_sarif
from scanner.connector import ScanOptions
from scanner.policy import load_policy
from scanner.scan import run_scan
from scanner.yamlschema import ConfigError
from tests.connectors import dbfixtures as fx

DEFAULT_POLICY = Path(__file__).resolve().parents[3] / "policies" / "financial-cn.yaml"
ACCESS_DEFAULT = DEFAULT_POLICY.read_text("utf-8").split("\naccess:\n")[0]


def policy_with_access(tmp_path: Path, access_yaml: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(ACCESS_DEFAULT + "\naccess:\n" + access_yaml, "utf-8")
    return path


@pytest.fixture(scope="module")
def pg_report_env(postgres_server: Any) -> Iterator[str]:
    target = fx.postgres_fixture_target(postgres_server)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PGPASSWORD", postgres_server.password)
        mp.setenv("PGSSLMODE", "disable")
        yield target


def keyed(report: Any) -> set[tuple[str, str, str | None]]:
    return {(f.rule_id, f.resource.logical_name, f.properties.get("grantee")) for f in report.findings}


@pytest.mark.servers
def test_postgres_default_policy_exact_findings(pg_report_env: str, postgres_server: Any) -> None:
    report = run_scan([pg_report_env], ScanOptions(jobs=2))
    server = f"postgresql://127.0.0.1:{postgres_server.port}/{fx.PG_DB}"
    c3_readers = {(rule, f"public.credentials.{col}", who)
                  for rule in ("db_role_reads_pii_not_allowed",)
                  for col in ("password", "cvv") for who in ("postgres", "ps_auth", "ps_scanner")}
    assert keyed(report) == {
        ("db_plaintext_c3_column", "public.credentials.password", None),
        ("db_plaintext_c3_column", "public.credentials.cvv", None),
        ("db_plaintext_pii_column", "public.customers.id_card_no", None),
        ("db_plaintext_pii_column", "public.customers.mobile", None),
        ("db_plaintext_pii_column", "public.customers.name", None),
        ("db_pii_in_free_text_column", "public.contact_log.notes", None),
        ("pg_public_select_on_pii", "public.contact_log.notes", "PUBLIC"),
        ("pg_rls_missing_on_pii_table", "public.contact_log", None),
        ("pg_rls_missing_on_pii_table", "public.credentials", None),
        ("db_server_accepts_non_tls", server, None),
        ("pg_default_privileges_to_public", "public", "PUBLIC"),
        *c3_readers,
    }
    by_key = {(f.rule_id, f.resource.logical_name, f.properties.get("grantee")): f for f in report.findings}
    scanner = by_key[("db_role_reads_pii_not_allowed", "public.credentials.password", "ps_scanner")]
    assert scanner.properties["via"] == "ps_scanner → pg_read_all_data"
    assert scanner.properties["privilege"] == "SELECT"
    assert scanner.properties["object"] == "public.credentials.password"
    assert "ps_scanner → pg_read_all_data" in scanner.message and "SELECT" in scanner.message
    assert by_key[("db_plaintext_c3_column", "public.credentials.cvv", None)].level.value == "error"
    # nothing about protected or masked columns, nor about the checksum-failing order numbers
    reported = {f.resource.logical_name for f in report.findings}
    for quiet in ("card_no_enc", "password_hash", "password_sha", "masked_id_card", "order_no"):
        assert not any(name.endswith("." + quiet) for name in reported)
    assert report.targets[0].items_examined == 5 * fx.ROWS


@pytest.mark.servers
def test_postgres_named_roles_policy_reports_via_paths(pg_report_env: str, tmp_path: Path) -> None:
    policy = load_policy(str(policy_with_access(tmp_path, """\
  public_grades: []
  wildcard_host_grades: []
  other_role_grades: [C1]
  row_security_grades: [C3, C2]
  exempt_roles: [postgres, ps_scanner]
  roles:
    - name: ps_auth
      grades: [C3, C2]
      objects: [public.credentials]
      reason: authentication service
""")))
    report = run_scan([pg_report_env], ScanOptions(jobs=1), policy=policy)
    access = {(f.resource.logical_name, f.properties["grantee"], f.properties["via"])
              for f in report.findings if f.rule_id == "db_role_reads_pii_not_allowed"}
    customers = ("name", "id_card_no", "mobile")
    assert access == {
        *((f"public.customers.{c}", "ps_analyst_group", "direct") for c in customers),
        *((f"public.customers.{c}", "ps_alice", "ps_alice → ps_analyst_group") for c in customers),
        ("public.customers.name", "ps_support", "direct column grant"),
        ("public.customers.mobile", "ps_support", "direct column grant"),
        ("public.customer_contacts.name", "ps_alice", "direct"),
        ("public.customer_contacts.mobile", "ps_alice", "direct"),
    }


@pytest.mark.servers
def test_postgres_sarif_columns_and_fingerprints(pg_report_env: str, tmp_path: Path) -> None:
    from tests.sarif_multitool import validate_sarif

    runs = [build_sarif(run_scan([pg_report_env], ScanOptions(jobs=1))) for _ in range(2)]
    results = runs[0]["runs"][0]["results"]
    result = next(r for r in results if r["ruleId"] == "db_plaintext_pii_column"
                  and r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "public.customers.id_card_no")
    location = result["locations"][0]
    assert location["logicalLocations"][0]["kind"] == "column"
    uri = location["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith(".privscan/postgresql/") and "://" not in uri
    prints = [{(r["ruleId"], json.dumps(r["partialFingerprints"])) for r in run["runs"][0]["results"]} for run in runs]
    assert prints[0] == prints[1]
    text = json.dumps(runs[0], ensure_ascii=False)
    assert fx.resident_id(1) not in text and fx.mobile(1) not in text
    path = tmp_path / "db.sarif"
    path.write_text(text, "utf-8")
    assert validate_sarif(path) == []  # SARIF 2.1.0 + GitHub code scanning rules


@pytest.mark.servers
def test_mariadb_wildcard_and_roles(mariadb_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = fx.mariadb_fixture_target(mariadb_server)
    monkeypatch.setenv("MYSQL_PWD", fx.MY_SCAN_PASSWORD)
    policy = load_policy(str(policy_with_access(tmp_path, """\
  other_role_grades: [C1]
  exempt_roles: ["root", "ps_scan", "mariadb.sys"]
""")))
    report = run_scan([target], ScanOptions(jobs=1), policy=policy)
    access_rules = ("mysql_wildcard_host_reads_pii", "db_role_reads_pii_not_allowed")
    found = {(f.rule_id, f.resource.logical_name, f.properties.get("grantee"))
             for f in report.findings if f.rule_id in access_rules}
    graded = ("customers.name", "customers.id_card_no", "customers.mobile", "customers.notes", "credentials.password")
    assert found == {
        *(("mysql_wildcard_host_reads_pii", f"ps_app.{c}", "'ps_app'@'%'") for c in graded),
        *(("db_role_reads_pii_not_allowed", f"ps_app.customers.{c}", "'ps_report'@'10.0.0.5'")
          for c in ("name", "id_card_no", "mobile", "notes")),
        ("db_role_reads_pii_not_allowed", "ps_app.customers.mobile", "'ps_cols'@'127.0.0.1'"),
    }
    assert any(f.rule_id == "db_server_accepts_non_tls" for f in report.findings)


def test_policy_access_unknown_key_rejected_with_line(tmp_path: Path) -> None:
    path = policy_with_access(tmp_path, "  other_role_grades: [C1]\n  rolez: []\n")
    with pytest.raises(ConfigError) as info:
        load_policy(str(path))
    message = str(info.value)
    line = path.read_text("utf-8").splitlines().index("  rolez: []") + 1
    assert f"{path}:{line}" in message
    assert "rolez" in message and "other_role_grades" in message and "roles" in message


def test_policy_access_role_typo_and_undefined_grade(tmp_path: Path) -> None:
    typo = policy_with_access(
        tmp_path, "  roles:\n    - name: app\n      grades: [C2]\n      objectz: ['*']\n", "a.yaml")
    with pytest.raises(ConfigError, match="objectz"):
        load_policy(str(typo))
    undefined = policy_with_access(tmp_path, "  roles:\n    - name: app\n      grades: [C9]\n", "b.yaml")
    with pytest.raises(ConfigError, match=r"b\.yaml:\d+: access\.roles\.0\.grades: grade 'C9' is not defined"):
        load_policy(str(undefined))


def test_default_policy_access_section() -> None:
    access = load_policy().access
    assert access is not None
    assert access.public_grades == () and access.wildcard_host_grades == ()
    assert access.role_allowed("any_role", "C2") and not access.role_allowed("any_role", "C3")


def test_role_allowance_objects_and_baseline(tmp_path: Path) -> None:
    access = load_policy(str(policy_with_access(tmp_path, """\
  other_role_grades: [C1]
  exempt_roles: ["dba_*"]
  roles:
    - name: "auth_*"
      grades: [C3]
      objects: [public.credentials]
"""))).access
    assert access is not None
    assert access.role_allowed("auth_svc", "C3", "public.credentials.password")
    assert not access.role_allowed("auth_svc", "C3", "public.other.password")
    assert not access.role_allowed("auth_svc", "C2", "public.credentials.mobile")
    assert access.role_allowed("anyone", "C1", "public.t.ip") and access.role_allowed("dba_x", "C3", "a.b.c")
