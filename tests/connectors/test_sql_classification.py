"""Column classification (name/comment hint fused with sampled values) and transport rule logic, no server."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors._sql import ColumnInfo, binary_label, classify_column, classify_protected
from scanner.detection.engine import Detector
from scanner.facts import HbaLine, Transport
from scanner.model import ResourceScan
from scanner.policy import load_policy
from scanner.rule import RuleContext, TargetScan
from scanner.rules.databases.db_server_accepts_non_tls import DbServerAcceptsNonTls
from tests.connectors import dbfixtures as fx


def _verdict(name: str, values: list, comment: str | None = None, **kw: bool) -> dict:
    from connectors._sql import table_resource

    resource = table_resource("sqlite", "sqlite:///x.db#main.t", "x", "main", "t", "table", [])
    scan = ResourceScan(resource=resource)
    verdict = classify_column(ColumnInfo(name, "text", comment, **kw), f"main.t.{name}", values, Detector(), scan)
    return verdict.properties()


def test_name_and_valid_values_is_certain() -> None:
    v = _verdict("id_card_no", [fx.resident_id(n) for n in range(20)])
    assert (v["holds"], v["basis"], v["confidence"]) == (["CN_RESIDENT_ID"], "name+content", 1.0)


def test_values_without_name_are_content_based() -> None:
    v = _verdict("col7", [fx.resident_id(n) for n in range(20)])
    assert v["holds"] == ["CN_RESIDENT_ID"] and v["basis"] == "content" and 0.9 <= v["confidence"] < 1.0


def test_few_ids_in_notes_are_free_text() -> None:
    v = _verdict("notes", [f"客户 {fx.resident_id(n)} 来电" if n < 2 else "无" for n in range(20)])
    assert v["basis"] == "free-text" and v["holds"] == [] and v["entities"] == {"CN_RESIDENT_ID": 2}


def test_order_numbers_failing_checksum_are_nothing() -> None:
    v = _verdict("order_no", [fx.order_no(n) for n in range(20)])
    assert v["basis"] == "none" and v["entities"] == {} and v["classes"] == []


@pytest.mark.parametrize(("value", "label"), [
    ("20240101123456789012345678901234", None),  # a 32-digit order number is not an MD5 digest
    ("c2VjcmV0IGRhdGEgaGVyZSBmb3IgdGVzdA==", None),  # base64 of plain text is not ciphertext
    ("d41d8cd98f00b204e9800998ecf8427e", "md5-hex"),
])
def test_databases_share_the_protected_value_classifier(value: str, label: str | None) -> None:
    assert classify_protected(value) == label


def test_name_whose_values_never_validate_is_weak() -> None:
    v = _verdict("id_card_no", [f"TEST{n:06d}" for n in range(20)])
    assert v["basis"] == "name" and v["confidence"] < 0.5


def test_hashes_ciphertext_and_masks_are_protected_or_masked() -> None:
    assert _verdict("password", [fx.bcrypt_like(n) for n in range(10)])["protection"] == "protected"
    assert _verdict("password", [fx.sha256_hex(n) for n in range(10)])["protection"] == "protected"
    assert _verdict("id_card_no", [fx.masked_id(n) for n in range(10)])["protection"] == "masked"
    assert _verdict("card_no", [bytes([0xC3, 0x0D]) + bytes(range(30)) for _ in range(5)],
                    binary=True)["protection"] == "protected"
    plain_bytes = _verdict("mobile", [fx.mobile(n).encode() for n in range(10)], binary=True)
    assert plain_bytes["protection"] == "plaintext" and plain_bytes["holds"] == ["CN_MOBILE_NUMBER"]
    assert classify_protected("hello world") is None and binary_label(b"plain text") is None


def test_non_tls_rule_messages() -> None:
    policy = load_policy()
    ctx = RuleContext(policy=policy, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    hba = Transport(resource_uri="postgresql://db:5432/app", server="postgresql", target="postgresql://db:5432/app",
                    ssl=True, accepts_non_tls=True, connection_encrypted=None,
                    non_tls_rules=(HbaLine(line=3, type="host", database="all", user="all", address="10.0.0.0",
                                           method="scram-sha-256"),))
    secure = Transport(resource_uri="mysql://db:3306/app", server="mysql", target="mysql://db:3306/app",
                       require_secure_transport="ON", have_ssl="YES", accepts_non_tls=False, connection_encrypted=True)
    findings = list(DbServerAcceptsNonTls().evaluate_target(TargetScan("t", "postgresql", [], [hba, secure]), ctx))
    assert len(findings) == 1 and "line 3 (host all all 10.0.0.0)" in findings[0].message
    assert "hostssl" in findings[0].message


UNSAMPLED_CASES = [
    # (column, catalog type, protection when no value could be sampled)
    ("password_hash", "text", "protected"),
    ("password_hash", "character varying(60)", "protected"),  # bcrypt width
    ("id_card_enc", "varchar(18)", "plaintext"),  # exactly the plaintext's width: not trusted
    ("encrypted_mobile", "varchar(255)", "protected"),
    ("password_hash", "integer", "plaintext"),  # no digest fits
    ("password", "text", "plaintext"),
    ("id_card_no", "varchar(64)", "plaintext"),
]


@pytest.mark.parametrize(("name", "data_type", "protection"), UNSAMPLED_CASES)
def test_unsampled_columns_are_protected_only_by_a_hashed_name_and_a_fitting_type(
        name: str, data_type: str, protection: str) -> None:
    from connectors._sql import table_resource

    resource = table_resource("sqlite", "sqlite:///x.db#main.t", "x", "main", "t", "table", [])
    verdict = classify_column(ColumnInfo(name, data_type), f"main.t.{name}", [], Detector(), ResourceScan(resource))
    assert verdict.protection == protection


PERSON_NAMES = ["张伟", "王秀英", "李娜", "刘洋", "陈静", "杨磊", "黄敏", "赵丽", "吴强", "周杰"]
BRANCH_NAMES = ["北京分行", "上海分行", "张江支行", "王府井支行", "深圳分行", "广州分行", "天河支行", "杭州分行",
                "西湖支行", "南京分行"]
PRODUCT_NAMES = ["Gold Card", "Platinum Card", "Spring Sale", "Premium Plan", "Basic Savings", "Travel Card",
                 "Student Loan", "Home Loan", "Car Insurance", "Visa Classic"]
TIMESTAMPS = [f"2024-01-{d:02d} 10:00:00+00" for d in range(1, 11)]

COLUMN_CASES = [
    # (table, column, catalog type, enum, values, classes, holds): name, comment, type and table fused with values
    ("branch", "name", "text", False, BRANCH_NAMES, [], []),
    ("products", "name", "varchar(64)", False, PRODUCT_NAMES, [], []),
    ("campaigns", "name", "text", False, PRODUCT_NAMES, [], []),
    ("branch", "name", "text", False, PERSON_NAMES, ["PERSON_NAME"], ["PERSON_NAME"]),  # values decide
    ("customers", "name", "text", False, [f"客户{n}" for n in range(10)], ["PERSON_NAME"], []),  # table decides
    ("auth.users", "name", "text", False, [], ["PERSON_NAME"], []),  # unreadable: the table still decides
    ("users", "phone_confirmed_at", "timestamp with time zone", False, TIMESTAMPS, [], []),
    ("users", "email_change_confirm_status", "smallint", False, ["0", "1", "2"] * 4, [], []),
    ("users", "address_type", "address_kind", True, ["home", "work"] * 5, [], []),
    ("identity_recovery_tokens", "identity_recovery_address_id", "uuid", False,
     ["0b6f4a6e-3f3a-4c55-9d2b-6c1d8e9f0a11"] * 10, [], []),
    ("devices", "phone_model", "text", False, ["iPhone 15", "Mate 60", "Mi 14"] * 4, [], []),
    ("users", "mobile", "bigint", False, [fx.mobile(n) for n in range(10)], ["CN_MOBILE_NUMBER"],
     ["CN_MOBILE_NUMBER"]),
    ("accounts", "bank_account", "varchar(32)", False, [fx.bank_card(n) for n in range(10)], ["CN_BANK_CARD"],
     ["CN_BANK_CARD"]),
    ("users", "login_name", "varchar(32)", False, [f"user{n}" for n in range(10)], ["USERNAME"], []),
]


@pytest.mark.parametrize(("table", "column", "data_type", "enum", "values", "classes", "holds"), COLUMN_CASES)
def test_columns_by_name_type_table_and_values(table: str, column: str, data_type: str, enum: bool, values: list,
                                               classes: list, holds: list) -> None:
    from connectors._sql import table_resource

    schema, _, name = table.rpartition(".")
    resource = table_resource("postgresql", "postgresql://h/db#s.t", "db", schema or "public", name, "table", [])
    info = ColumnInfo(column, data_type, enum=enum, readable=bool(values))
    verdict = classify_column(info, f"{schema or 'public'}.{name}.{column}", values, Detector(),
                              ResourceScan(resource)).properties()
    assert (verdict["classes"], verdict["holds"]) == (classes, holds)
