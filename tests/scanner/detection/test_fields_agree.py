"""The live connectors and check-migrations judge a column, and a MySQL host pattern, the same way.

Both read the one classifier (:mod:`scanner.detection.fields`) with the same evidence: a column's
name, comment, declared type and table; and the one host test (:func:`mysql_any_host`).
"""

from __future__ import annotations

import pytest
import sqlglot

from connectors._sql import ColumnInfo, classify_column, table_resource
from connectors.mysql import _wildcard
from scanner.detection.engine import Detector
from scanner.migrations.analysis import parse_grantee
from scanner.migrations.schema import classify_column as migration_column
from scanner.migrations.schema import column_type, mysql_any_host
from scanner.model import ResourceScan
from scanner.policy import load_policy

COLUMNS = [
    # (table, DDL column definition, PostgreSQL format_type of it, classes both must find)
    ("customers", "name text", "text", ["PERSON_NAME"]),
    ("branch", "name text", "text", []),
    ("products", "name varchar(64)", "character varying(64)", []),
    ("campaigns", "name text", "text", []),
    ("users", "phone_confirmed_at timestamptz", "timestamp with time zone", []),
    ("users", "email_change_confirm_status smallint", "smallint", []),
    ("users", "email_change_token varchar(255)", "character varying(255)", ["CREDENTIAL"]),
    ("users", "email_change varchar(255)", "character varying(255)", ["EMAIL_ADDRESS"]),
    ("users", "phone varchar(15)", "character varying(15)", ["CN_MOBILE_NUMBER"]),
    ("identity_recovery_tokens", "identity_recovery_address_id uuid", "uuid", []),
    ("identity_verifiable_addresses", "value varchar(400)", "character varying(400)", ["EMAIL_ADDRESS"]),
    ("identity_credential_identifiers", "identifier varchar(255)", "character varying(255)", ["USERNAME"]),
    ("saml_relay_states", "from_ip_address inet", "inet", ["IP_ADDRESS"]),
    ("password_policies", "password_min_length int", "integer", []),
    ("accounts", "bank_account varchar(32)", "character varying(32)", ["CN_BANK_CARD"]),
    ("kehu", "yhzh varchar(32)", "character varying(32)", ["CN_BANK_CARD"]),
    ("kehu", "shoujihao bigint", "bigint", ["CN_MOBILE_NUMBER"]),
    ("kehu", "shoujihao int", "integer", []),
    ("devices", "phone_model varchar(64)", "character varying(64)", []),
    ("mail", "email_template_id int", "integer", []),
    ("users", "username varchar(64)", "character varying(64)", ["USERNAME"]),
]


@pytest.mark.parametrize(("table", "ddl", "pg_type", "classes"), COLUMNS)
def test_connector_and_migrations_agree(table: str, ddl: str, pg_type: str, classes: list[str]) -> None:
    column = ddl.split()[0]
    resource = table_resource("postgresql", "postgresql://h/db#public.t", "db", "public", table, "table", [])
    live = classify_column(ColumnInfo(column, pg_type, readable=False), f"public.{table}.{column}", [], Detector(),
                           ResourceScan(resource))
    assert list(live.classes) == classes
    created = sqlglot.parse_one(f"CREATE TABLE {table} ({ddl})", read="postgres")
    coldef = created.this.expressions[0]
    policy = load_policy("financial-cn")
    sensitivity = migration_column(column, column_type(coldef.args.get("kind")), None, policy, table)
    graded = [c for c in classes if policy.grade_of(c) is not None]
    assert (list(sensitivity.classes) if sensitivity else []) == graded


HOSTS = [
    ("%", True), ("", True), ("%%", True), ("%.%.%.%", True), ("0.0.0.0/0.0.0.0", True), ("0.0.0.0/0", True),
    ("::/0", True), ("10.0.0.%", False), ("10.%", False), ("192.168.1.0/255.255.255.0", False),
    ("%.example.com", False), ("app-server-1", False), ("127.0.0.1", False), ("localhost", False), ("_", False),
]


@pytest.mark.parametrize(("host", "any_host"), HOSTS)
def test_mysql_host_patterns_agree(host: str, any_host: bool) -> None:
    assert mysql_any_host(host) is any_host
    assert _wildcard(host) is any_host  # the live connector's access facts
    grantee = parse_grantee(f"'app'@'{host}'", "mysql")
    assert grantee is not None and grantee.wildcard_host is any_host  # check-migrations


def test_mysql_account_without_host_is_any_host() -> None:
    grantee = parse_grantee("app", "mysql")
    assert grantee is not None and grantee.wildcard_host
