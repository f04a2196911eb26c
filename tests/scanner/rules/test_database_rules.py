"""Database rules end to end: real PostgreSQL/MariaDB fixtures -> run_scan -> exact findings -> SARIF."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reports.sarif import build_sarif
from scanner.connector import ScanOptions
from scanner.model import Level
from scanner.policy import builtin_policy_names, load_policy
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
        *((rule, f"public.customers.{c}", None) for rule in ("db_plaintext_pii_column", "db_pii_column_not_encrypted")
          for c in ("id_card_no", "mobile", "name")),
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
    assert uri.startswith(".privaudit/postgresql/") and "://" not in uri
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


# -- every plaintext personal-data column is listed, under every shipped pack ------------------------------------

LOOKALIKE_DB = "ps_lookalikes"
PERSON_NAMES = ["张伟", "王秀英", "李娜", "刘洋", "陈静", "杨磊", "黄敏", "赵丽", "吴强", "周杰"]
BRANCHES = ["北京分行", "上海分行", "张江支行", "王府井支行", "深圳分行", "广州分行", "天河支行", "杭州分行"]
PRODUCTS = ["Gold Card", "Platinum Card", "Premium Plan", "Basic Savings", "Travel Card", "Home Loan"]
CAMPAIGNS = ["Spring Sale", "Double Eleven", "Welcome Bonus", "Card Cashback", "Summer Promo", "New Year Offer"]


def _lookalike_rows(n: int) -> dict[str, Any]:
    return {
        "email": f"kehu{n}@163.com", "login_name": f"kehu_{n:03d}", "bank_account": fx.bank_card(n + 100),
        "phone_model": ["iPhone 15", "Mate 60 Pro", "Xiaomi 14"][n % 3],
        "email_template_id": fx.mobile(n + 900),  # mobile-shaped template IDs: a name known not personal
        "email_sha256": fx.sha256_hex(n), "mobile_masked": fx.mobile(n)[:3] + "****" + fx.mobile(n)[-4:],
        "card_ref": fx.order_no(n),  # 18 digits failing GB 11643
        "remark": (f"客户来电, 身份证 {fx.resident_id(n)} 手机 {fx.mobile(n + 300)}" if n % 4 == 0 else
                   f"客户来电, 手机 {fx.mobile(n + 300)}" if n % 4 == 1 else "一般咨询"),
    }


LISTED_LOOKALIKE_DB = {
    # (rule, table.column, entity type): the plaintext personal data in the look-alike database
    ("db_plaintext_pii_column", "app_users.email", "EMAIL_ADDRESS"),
    ("db_plaintext_pii_column", "app_users.login_name", "USERNAME"),
    ("db_plaintext_pii_column", "app_users.bank_account", "CN_BANK_CARD"),
    ("db_plaintext_pii_column", "referrals.name", "PERSON_NAME"),  # not a table of people: the values say so
    ("db_pii_in_free_text_column", "app_users.remark", "CN_RESIDENT_ID"),
    ("db_pii_in_free_text_column", "app_users.remark", "CN_MOBILE_NUMBER"),
}
NEVER_LISTED = ("phone_model", "email_template_id", "phone_confirmed_at", "email_sha256", "mobile_masked",
                "id_card_cipher", "address_type", "password_min_length", "card_ref", "branch.name", "products.name",
                "campaigns.name")


def _populate_lookalikes_pg(conn: Any) -> None:
    run = conn.execute
    run("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    run("CREATE TYPE address_kind AS ENUM ('home', 'work')")
    run("""CREATE TABLE app_users (id serial PRIMARY KEY, email text, login_name varchar(32), bank_account varchar(32),
           phone_model text, email_template_id varchar(20), phone_confirmed_at timestamptz DEFAULT now(),
           email_sha256 text, mobile_masked text, id_card_cipher bytea, address_type address_kind DEFAULT 'home',
           password_min_length int DEFAULT 8, card_ref varchar(18), remark text)""")
    for n in range(fx.ROWS):
        row = _lookalike_rows(n)
        run("""INSERT INTO app_users (email, login_name, bank_account, phone_model, email_template_id, email_sha256,
               mobile_masked, id_card_cipher, card_ref, remark) VALUES (%s, %s, %s, %s, %s, %s, %s,
               pgp_sym_encrypt(%s, 'fixture-key'), %s, %s)""",
            (row["email"], row["login_name"], row["bank_account"], row["phone_model"], row["email_template_id"],
             row["email_sha256"], row["mobile_masked"], fx.resident_id(n), row["card_ref"], row["remark"]))
    for table, names in (("branch", BRANCHES), ("products", PRODUCTS), ("campaigns", CAMPAIGNS),
                         ("referrals", PERSON_NAMES)):
        run(f"CREATE TABLE {table} (id serial PRIMARY KEY, name text)")
        for name in names:
            run(f"INSERT INTO {table} (name) VALUES (%s)", (name,))
    run("ANALYZE")


def create_lookalikes_pg(postgres_server: Any) -> str:
    """The look-alike database on a PostgreSQL test server; its target URI."""
    import psycopg

    with postgres_server.admin_connect() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{LOOKALIKE_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{LOOKALIKE_DB}"')
    with psycopg.connect(postgres_server.dsn(LOOKALIKE_DB), password=postgres_server.password,
                         autocommit=True) as conn:
        _populate_lookalikes_pg(conn)
    return str(postgres_server.dsn(LOOKALIKE_DB))


@pytest.fixture(scope="module")
def pg_lookalikes(postgres_server: Any, pg_report_env: str) -> str:
    return create_lookalikes_pg(postgres_server)


@pytest.fixture(scope="module")
def my_lookalikes(mariadb_server: Any) -> Iterator[tuple[str, str]]:
    """The MariaDB fixture (``ps_app``) and a look-alike database beside it, readable by the scanning account."""
    targets = create_lookalikes_my(mariadb_server)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MYSQL_PWD", fx.MY_SCAN_PASSWORD)
        yield targets


def create_lookalikes_my(mariadb_server: Any) -> tuple[str, str]:
    """The MariaDB fixture and the look-alike database beside it; both targets (password: MYSQL_PWD)."""
    fixture = fx.mariadb_fixture_target(mariadb_server)
    conn = mariadb_server.admin_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {LOOKALIKE_DB}")
            cur.execute(f"CREATE DATABASE {LOOKALIKE_DB}")
            cur.execute(f"USE {LOOKALIKE_DB}")
            cur.execute("""CREATE TABLE app_users (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(64),
                           login_name VARCHAR(32), bank_account VARCHAR(32), phone_model VARCHAR(32),
                           email_template_id VARCHAR(20), phone_confirmed_at DATETIME DEFAULT CURRENT_TIMESTAMP,
                           email_sha256 CHAR(64), mobile_masked VARCHAR(11), id_card_cipher VARBINARY(64),
                           address_type ENUM('home', 'work') DEFAULT 'home', password_min_length INT DEFAULT 8,
                           card_ref VARCHAR(18), remark TEXT)""")
            for n in range(fx.ROWS):
                row = _lookalike_rows(n)
                cur.execute("""INSERT INTO app_users (email, login_name, bank_account, phone_model, email_template_id,
                               email_sha256, mobile_masked, id_card_cipher, card_ref, remark) VALUES
                               (%s, %s, %s, %s, %s, %s, %s, AES_ENCRYPT(%s, 'fixture-key'), %s, %s)""",
                            (row["email"], row["login_name"], row["bank_account"], row["phone_model"],
                             row["email_template_id"], row["email_sha256"], row["mobile_masked"], fx.resident_id(n),
                             row["card_ref"], row["remark"]))
            for table, names in (("branch", BRANCHES), ("products", PRODUCTS), ("campaigns", CAMPAIGNS),
                                 ("referrals", PERSON_NAMES)):
                cur.execute(f"CREATE TABLE {table} (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64))")
                cur.executemany(f"INSERT INTO {table} (name) VALUES (%s)", [(name,) for name in names])
            cur.execute(f"GRANT SELECT ON {LOOKALIKE_DB}.* TO 'ps_scan'@'127.0.0.1'")
    finally:
        conn.close()
    return fixture, fixture.rsplit("/", 1)[0] + f"/{LOOKALIKE_DB}"


LISTING_RULES = ("db_plaintext_pii_column", "db_pii_in_free_text_column")


def _listed(report: Any, prefix: str) -> set[tuple[str, str, str | None]]:
    return {(f.rule_id, f.resource.logical_name.removeprefix(prefix), f.entity_type) for f in report.findings
            if f.rule_id in LISTING_RULES}


def _assert_look_alikes_quiet(report: Any) -> None:
    for finding in report.findings:
        name = finding.resource.logical_name or ""
        assert not any(name.endswith(quiet) for quiet in NEVER_LISTED), (finding.rule_id, name)


@pytest.mark.servers
@pytest.mark.parametrize("pack", builtin_policy_names())
def test_postgres_every_plaintext_column_listed_under_every_pack(pack: str, pg_report_env: str,
                                                                pg_lookalikes: str) -> None:
    policy = load_policy(pack)
    fixture = run_scan([pg_report_env], ScanOptions(jobs=1), policy=policy)
    assert _listed(fixture, "public.") == {
        ("db_plaintext_pii_column", "customers.name", "PERSON_NAME"),
        ("db_plaintext_pii_column", "customers.id_card_no", "CN_RESIDENT_ID"),
        ("db_plaintext_pii_column", "customers.mobile", "CN_MOBILE_NUMBER"),
        ("db_pii_in_free_text_column", "contact_log.notes", "CN_RESIDENT_ID"),
    }
    _assert_look_alikes_quiet(fixture)
    for quiet in ("card_no_enc", "password_hash", "password_sha", "masked_id_card", "order_no"):
        assert not any((f.resource.logical_name or "").endswith("." + quiet) for f in fixture.findings)
    lookalikes = run_scan([pg_lookalikes], ScanOptions(jobs=1), policy=policy)
    assert _listed(lookalikes, "public.") == LISTED_LOOKALIKE_DB
    _assert_look_alikes_quiet(lookalikes)
    _assert_levels_follow_grades(policy, [*fixture.findings, *lookalikes.findings])


@pytest.mark.servers
@pytest.mark.parametrize("pack", builtin_policy_names())
def test_mariadb_every_plaintext_column_listed_under_every_pack(pack: str, my_lookalikes: tuple[str, str]) -> None:
    fixture_target, lookalike_target = my_lookalikes
    policy = load_policy(pack)
    fixture = run_scan([fixture_target], ScanOptions(jobs=1), policy=policy)
    assert _listed(fixture, f"{fx.MY_DB}.") == {
        ("db_plaintext_pii_column", "customers.name", "PERSON_NAME"),
        ("db_plaintext_pii_column", "customers.id_card_no", "CN_RESIDENT_ID"),
        ("db_plaintext_pii_column", "customers.mobile", "CN_MOBILE_NUMBER"),
        ("db_pii_in_free_text_column", "customers.notes", "CN_RESIDENT_ID"),
    }
    for quiet in ("card_enc", "id_masked", "password_hash", "order_no"):
        assert not any((f.resource.logical_name or "").endswith("." + quiet) for f in fixture.findings)
    lookalikes = run_scan([lookalike_target], ScanOptions(jobs=1), policy=policy)
    assert _listed(lookalikes, f"{LOOKALIKE_DB}.") == LISTED_LOOKALIKE_DB
    _assert_look_alikes_quiet(lookalikes)
    _assert_levels_follow_grades(policy, [*fixture.findings, *lookalikes.findings])


def _assert_levels_follow_grades(policy: Any, findings: list[Any]) -> None:
    """A listed column is as loud as its grade; personal data the pack does not grade is a note.
    ``policy.encryption_required`` is a separate result, about graded columns only."""
    for finding in findings:
        if finding.rule_id == "db_plaintext_pii_column":
            grade = policy.grade_of(finding.entity_type)
            assert finding.category.value == "personal-data"
            assert finding.grade == (grade.id if grade else None)
            assert finding.level == (grade.level if grade else Level.NOTE), finding.message
            if grade is None:
                assert f"not graded by policy {policy.name}" in finding.message
        elif finding.rule_id == "db_pii_in_free_text_column":
            assert finding.level == (Level.WARNING if finding.grade else Level.NOTE)
        elif finding.rule_id == "db_pii_column_not_encrypted":
            assert finding.category.value == "encryption" and finding.grade in policy.encryption_required


@pytest.mark.servers
def test_free_text_results_count_each_entity_type(pg_lookalikes: str) -> None:
    report = run_scan([pg_lookalikes], ScanOptions(jobs=1))
    counts = {f.entity_type: f.occurrences for f in report.findings if f.rule_id == "db_pii_in_free_text_column"}
    with_id = len(range(0, fx.ROWS, 4))
    assert counts == {"CN_RESIDENT_ID": with_id, "CN_MOBILE_NUMBER": with_id + len(range(1, fx.ROWS, 4))}
    messages = {f.entity_type: f.message for f in report.findings if f.rule_id == "db_pii_in_free_text_column"}
    assert f"contains {with_id} CN_RESIDENT_ID values" in messages["CN_RESIDENT_ID"]
    assert fx.resident_id(0) not in " ".join(messages.values())


@pytest.mark.servers
def test_entity_types_in_results_come_from_the_registry(pg_report_env: str, pg_lookalikes: str,
                                                        my_lookalikes: tuple[str, str]) -> None:
    """Every entityType a database result carries is a registered recognizer's or a documented name-only type."""
    from scanner.detection.fields import entity_types
    from scanner.registry import RECOGNIZERS

    registry = entity_types()
    RECOGNIZERS.load()
    recognizers = {rec.entity_type for rec in RECOGNIZERS}
    assert {name for name, e in registry.items() if e.source == "recognizer"} == recognizers
    assert all(e.description for e in registry.values())
    emitted = {(pack, f.rule_id, f.entity_type)
               for pack in builtin_policy_names()
               for report in (run_scan([t], ScanOptions(jobs=1), policy=load_policy(pack))
                              for t in (pg_report_env, pg_lookalikes, *my_lookalikes))
               for f in report.findings if f.entity_type is not None}
    assert emitted
    assert {e for _, _, e in emitted} <= set(registry), sorted(x for x in emitted if x[2] not in registry)
    assert not any(e == "BANK_CARD" for _, _, e in emitted)


def test_policy_entity_keys_are_registered_entity_types() -> None:
    """What a pack grades must be something a result can carry (a key nothing emits grades nothing)."""
    from scanner.detection.fields import entity_types

    registry = set(entity_types())
    for pack in builtin_policy_names():
        unknown = set(load_policy(pack).entities) - registry
        assert not unknown, (pack, sorted(unknown))


@pytest.mark.servers
def test_postgres_enum_columns_are_known_as_enums(pg_lookalikes: str) -> None:
    """A PostgreSQL enum type (``CREATE TYPE ... AS ENUM``) holds labels: the classifier is told so."""
    from connectors.postgresql import PostgreSQLConnector

    connector = PostgreSQLConnector(pg_lookalikes, ScanOptions())
    try:
        users = next(r for r in connector.discover() if getattr(r, "logical_name", "") == "public.app_users")
    finally:
        connector.close()
    enums = {c["name"] for c in users.metadata["columns"] if c["enum"]}
    assert enums == {"address_type"}
