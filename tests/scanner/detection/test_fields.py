"""Field names by meaning: tokens, head words, role/unit suffixes, SQL types and tables (tables of cases).

One classifier serves files, databases and migrations, so these tables are the contract for all three.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.detection.fields import (
    FieldClassifier,
    classify_field,
    entity_types,
    is_person_table,
    looks_like_person_name,
    sql_type_family,
    tokenize_field_name,
)

NEG = "negative"  # known not personal: lowers content scores
NONE = "none"  # says nothing
COND = "conditional"  # a person's name only with more evidence (table of people, values)

TOKEN_CASES = [
    ("durationNs", ["duration", "ns"]),
    ("duration_ns", ["duration", "ns"]),
    ("elapsed-ms", ["elapsed", "ms"]),
    ("x.trace.id", ["x", "trace", "id"]),
    ("phoneNumber", ["phone", "number"]),
    ("PHONE_NO", ["phone", "no"]),
    ("ID_Card-No", ["id", "card", "no"]),
    ("XMLHttpRequest", ["xml", "http", "request"]),
    ("shoujihao", ["shoujihao"]),
    ("手机号码", ["手", "机", "号", "码"]),
    ("客户mobile", ["客", "户", "mobile"]),
    ("password_sha256", ["password", "sha256"]),
    ("ipv4Address", ["ipv4", "address"]),
    ("phone2", ["phone", "2"]),
    ("emailAddresses", ["email", "address"]),
    ("status", ["status"]),
    ("ＰＨＯＮＥ＿ＮＯ", ["phone", "no"]),  # full-width forms read as ASCII
    ("téléphone", ["téléphone"]),
    ("", []),
]


@pytest.mark.parametrize(("name", "tokens"), TOKEN_CASES)
def test_tokens(name: str, tokens: list[str]) -> None:
    assert tokenize_field_name(name) == tokens


NAME_CASES = [
    # -- English, every spelling of one meaning
    ("phone", "CN_MOBILE_NUMBER"),
    ("phoneNumber", "CN_MOBILE_NUMBER"),
    ("PHONE_NO", "CN_MOBILE_NUMBER"),
    ("phone-number", "CN_MOBILE_NUMBER"),
    ("customerMobile", "CN_MOBILE_NUMBER"),
    ("customermobile", "CN_MOBILE_NUMBER"),  # glued: a stem anywhere
    ("mobile_phone2", "CN_MOBILE_NUMBER"),
    ("home_phone", "PHONE_NUMBER"),
    ("fax", "PHONE_NUMBER"),
    ("email", "EMAIL_ADDRESS"),
    ("emailAddress", "EMAIL_ADDRESS"),
    ("email_address", "EMAIL_ADDRESS"),  # not a postal address
    ("email_change", "EMAIL_ADDRESS"),  # Supabase: the new address
    ("for_email", "EMAIL_ADDRESS"),
    ("recipient", "EMAIL_ADDRESS"),
    ("email_lower", "EMAIL_ADDRESS"),
    ("id_card_no", "CN_RESIDENT_ID"),
    ("idCardNo", "CN_RESIDENT_ID"),
    ("cust_id_no", "CN_RESIDENT_ID"),
    ("national_id", "CN_RESIDENT_ID"),
    ("card_no", "CN_BANK_CARD"),
    ("cardNumber", "CN_BANK_CARD"),
    ("bank_account", "CN_BANK_CARD"),
    ("bankacct", "CN_BANK_CARD"),
    ("BankAccountNo", "CN_BANK_CARD"),
    ("account_number", "CN_BANK_CARD"),
    ("iban", "IBAN_CODE"),
    ("ssn", "US_SSN"),
    ("passport_no", "CN_PASSPORT"),
    ("hkid", "HK_ID"),
    ("ip", "IP_ADDRESS"),
    ("from_ip_address", "IP_ADDRESS"),  # an IP, not a postal address
    ("remote_addr", "IP_ADDRESS"),
    ("home_address", "ADDRESS"),
    ("address_line1", "ADDRESS"),
    ("billingAddress", "ADDRESS"),
    ("password", "PASSWORD"),
    ("encrypted_password", "PASSWORD"),  # protection is judged from the type and values, not here
    ("password_hash", "PASSWORD"),
    ("pin", "PASSWORD"),
    ("cvv2", "CARD_VERIFICATION_CODE"),
    ("track2", "CARD_TRACK_DATA"),
    ("first_name", "PERSON_NAME"),
    ("customer_name", "PERSON_NAME"),
    ("owner_name", "PERSON_NAME"),
    ("cardholder_name", "PERSON_NAME"),
    ("name_en", COND),
    ("name", COND),
    ("display_name", COND),
    ("dob", "DATE_OF_BIRTH"),
    ("birth_date", "DATE_OF_BIRTH"),
    ("balance", "ACCOUNT_BALANCE"),
    ("username", "USERNAME"),
    ("user_name", "USERNAME"),
    ("login_name", "USERNAME"),
    ("nickname", "USERNAME"),
    ("email_change_token", "CREDENTIAL"),  # a token sent to the address, not the address
    ("email_change_token_current", "CREDENTIAL"),
    ("phone_change_token", "CREDENTIAL"),
    ("totp_2fa_secret", "CREDENTIAL"),
    ("client_secret", "CREDENTIAL"),
    ("refresh_token", "CREDENTIAL"),
    ("private_key", "CREDENTIAL"),
    ("twofa_key", "CREDENTIAL"),  # a TOTP seed, RFC 6238
    ("auth_code", "CREDENTIAL"),  # an OAuth authorization code, RFC 6749 §1.3.1
    ("authorization_code", "CREDENTIAL"),
    ("code_verifier", "CREDENTIAL"),  # PKCE, RFC 7636
    ("csrf_token", NEG),  # binds a form to a session, grants nothing
    # -- suffixes and prefixes that rule a personal word out
    ("phone_confirmed_at", NEG),
    ("phone_change_sent_at", NEG),
    ("email_change_confirm_status", NEG),
    ("identity_recovery_address_id", NEG),
    ("address_type", NEG),
    ("new_address_via", NEG),
    ("password_min_length", NEG),
    ("password_date", NEG),
    ("password_history_id", NEG),
    ("phone_count", NEG),
    ("mobile_verified", NEG),
    ("email_domain", NEG),
    ("is_email_verified", NEG),
    ("has_mobile", NEG),
    ("id_card_photo", NEG),
    ("phone_model", NEG),
    ("email_template_id", NEG),
    ("mac_address", NEG),
    ("microphone", NEG),
    ("last_login", NEG),
    ("token_type", NEG),
    # -- units and quantities are never identifiers (they lower the score of 11-digit "mobiles")
    ("durationNs", NEG),
    ("duration_ns", NEG),
    ("elapsed-ms", NEG),
    ("latency_ms", NEG),
    ("response_bytes", NEG),
    ("retry_count", NEG),
    ("created_at", NEG),
    ("x.trace.id", NEG),
    ("traceId", NEG),
    ("order_no", NEG),
    ("request_id", NEG),
    # -- things' names and plain keys say nothing
    ("product_name", NEG),
    ("branch_name", NEG),
    ("user_id", NONE),
    ("id", NONE),
    ("code", NONE),
    ("title", NONE),
    ("verification_code", NONE),
    # -- pinyin
    ("shouji", "CN_MOBILE_NUMBER"),
    ("shoujihao", "CN_MOBILE_NUMBER"),
    ("lxdh", "CN_MOBILE_NUMBER"),
    ("sfzh", "CN_RESIDENT_ID"),
    ("ShenFenZheng", "CN_RESIDENT_ID"),
    ("zjhm", "CN_RESIDENT_ID"),
    ("kahao", "CN_BANK_CARD"),
    ("yinhangkahao", "CN_BANK_CARD"),
    ("yhzh", "CN_BANK_CARD"),
    ("yinhang_zhanghao", "CN_BANK_CARD"),
    ("xingming", "PERSON_NAME"),
    ("dizhi", "ADDRESS"),
    ("youxiang", "EMAIL_ADDRESS"),
    ("mima", "PASSWORD"),
    ("dengluming", "USERNAME"),
    ("shouji_leixing", NEG),
    ("shouji_shijian", NEG),
    # -- Chinese
    ("手机号码", "CN_MOBILE_NUMBER"),
    ("客户手机号", "CN_MOBILE_NUMBER"),
    ("联系电话", "CN_MOBILE_NUMBER"),
    ("身份证号码", "CN_RESIDENT_ID"),
    ("证件号码", "CN_RESIDENT_ID"),
    ("银行账户", "CN_BANK_CARD"),
    ("银行卡号", "CN_BANK_CARD"),
    ("账号", "CN_BANK_CARD"),
    ("邮箱地址", "EMAIL_ADDRESS"),
    ("家庭住址", "ADDRESS"),
    ("IP地址", "IP_ADDRESS"),
    ("姓名", "PERSON_NAME"),
    ("客户名称", "PERSON_NAME"),
    ("账户名称", "PERSON_NAME"),
    ("账户余额", "ACCOUNT_BALANCE"),
    ("出生日期", "DATE_OF_BIRTH"),
    ("登录密码", "PASSWORD"),
    ("用户名", "USERNAME"),
    ("登录账号", "USERNAME"),
    ("香港身份证", "HK_ID"),
    ("手机号码类型", NEG),
    ("手机号确认时间", NEG),
    ("手机号归属地", NEG),
    ("账户类型", NEG),
    ("手机型号", NEG),
    ("交易流水号", NEG),
    ("是否实名", NEG),
    ("名称", COND),
    ("产品名称", NONE),
    ("验证码", NONE),
]


def _outcome(name: str, **kw: str | None) -> str:
    hint = classify_field(name, **kw)  # type: ignore[arg-type]
    if hint.negative:
        assert not hint.classes
        return NEG
    if hint.classes:
        assert len(hint.classes) == 1, hint
        return hint.classes[0]
    return COND if hint.conditional else NONE


@pytest.mark.parametrize(("name", "expected"), NAME_CASES)
def test_field_names_by_meaning(name: str, expected: str) -> None:
    assert _outcome(name) == expected


def test_ruled_out_names_say_why() -> None:
    assert classify_field("phone_confirmed_at").reason == "suffix 'at' (time)"
    assert classify_field("identity_recovery_address_id").reason == "suffix 'id' (reference)"
    assert classify_field("手机号码类型").reason == "suffix '类型' (state)"
    assert classify_field("is_email_verified").reason == "a flag (is)"
    assert classify_field("durationNs").reason is None  # not a personal word ruled out: just not personal


TYPE_CASES = [
    # (name, declared type, outcome): a type that cannot hold the value rules the name out
    ("phone_confirmed_at", "TIMESTAMPTZ", NEG),
    ("phone", "timestamp with time zone", NEG),
    ("email_change_confirm_status", "SMALLINT", NEG),
    ("mobile", "integer", NEG),  # 32 bits hold no 11-digit number
    ("mobile", "bigint", "CN_MOBILE_NUMBER"),
    ("mobile", "int(11)", NEG),
    ("mobile", "bigint(20) unsigned", "CN_MOBILE_NUMBER"),
    ("mobile", "VARCHAR(15)", "CN_MOBILE_NUMBER"),
    ("id_card_no", "character varying(18)", "CN_RESIDENT_ID"),
    ("id_card_no", "uuid", NEG),
    ("address", "enum('home','work')", NEG),
    ("address", "enum", NEG),  # a PostgreSQL enum type, as the connector reports it
    ("email", "boolean", NEG),
    ("email", "tinyint(1)", NEG),
    ("email", "jsonb", "EMAIL_ADDRESS"),
    ("email", "text[]", "EMAIL_ADDRESS"),
    ("email", "auth.email_domain", "EMAIL_ADDRESS"),  # a domain or user type: not ruled out
    ("address", "inet", "IP_ADDRESS"),  # an inet column named address holds an IP address
    ("from_ip_address", "INET", "IP_ADDRESS"),
    ("birthday", "date", "DATE_OF_BIRTH"),
    ("balance", "numeric(12,2)", "ACCOUNT_BALANCE"),
    ("cvv", "smallint", "CARD_VERIFICATION_CODE"),
    ("ssn", "integer", "US_SSN"),
    ("card_no", "bigint", "CN_BANK_CARD"),
    ("card_no", "double precision", NEG),
    ("name", "uuid", NONE),
    ("name", "text", COND),
    ("password", "bytea", "PASSWORD"),  # binary: protected, judged by the caller
    ("password", None, "PASSWORD"),
    ("password", "", "PASSWORD"),
]


@pytest.mark.parametrize(("name", "sql_type", "expected"), TYPE_CASES)
def test_sql_type_rules_a_name_out(name: str, sql_type: str | None, expected: str) -> None:
    assert _outcome(name, sql_type=sql_type) == expected


FAMILY_CASES = [
    ("character varying(18)", "text"), ("VARCHAR(255)", "text"), ("citext", "text"), ("text[]", "text"),
    ("ARRAY<TEXT>", "text"), ("integer", "integer"), ("INT", "integer"), ("int(10) unsigned", "integer"),
    ("UINT", "integer"), ("MEDIUMINT", "integer"), ("SMALLINT", "smallint"), ("tinyint(4)", "smallint"),
    ("bigint", "bigint"), ("UBIGINT(20)", "bigint"), ("numeric(12,2)", "decimal"), ("DECIMAL(12, 2)", "decimal"),
    ("double precision", "float"), ("boolean", "boolean"), ("tinyint(1)", "boolean"), ("BIT(1)", "boolean"),
    ("timestamp with time zone", "temporal"), ("TIMESTAMPTZ", "temporal"), ("DATETIME(6)", "temporal"),
    ("date", "temporal"), ("interval", "interval"), ("uuid", "uuid"), ("enum('a','b')", "enum"),
    ("inet", "network"), ("cidr", "network"), ("macaddr", "mac"), ("bytea", "binary"), ("VARBINARY(64)", "binary"),
    ("jsonb", "json"), ("factor_type", "other"), ("USER-DEFINED", "other"), (None, "unknown"), ("", "unknown"),
]


@pytest.mark.parametrize(("sql_type", "family"), FAMILY_CASES)
def test_sql_type_families(sql_type: str | None, family: str) -> None:
    assert sql_type_family(sql_type) == family


TABLE_CASES = [
    # (table, column, outcome): a bare name is a person's in a table of people only
    ("customers", "name", "PERSON_NAME"),
    ("auth.users", "name", "PERSON_NAME"),
    ("employee", "name", "PERSON_NAME"),
    ("members", "display_name", "PERSON_NAME"),
    ("contacts", "name", "PERSON_NAME"),
    ("t_customer_info", "name", "PERSON_NAME"),
    ("tb_user_detail", "name", "PERSON_NAME"),
    ("kehu", "name", "PERSON_NAME"),
    ("yonghu_xinxi", "name", "PERSON_NAME"),
    ("客户", "名称", "PERSON_NAME"),
    ("客户信息表", "name", "PERSON_NAME"),
    ("用户", "name", "PERSON_NAME"),
    ("branch", "name", COND),
    ("products", "name", COND),
    ("campaigns", "name", COND),
    ("mailing_lists", "name", COND),
    ("customer_tags", "name", COND),  # a customer's tags are tags
    ("identity_credential_types", "name", COND),
    ("oauth_clients", "name", COND),
    ("pets", "name", COND),
    ("contact_log", "name", COND),
    ("customers", "product_name", NEG),
    # generic columns take their meaning from the table
    ("identity_verifiable_addresses", "value", "EMAIL_ADDRESS"),
    ("identity_recovery_addresses", "value", "EMAIL_ADDRESS"),
    ("identity_credential_identifiers", "identifier", "USERNAME"),
    ("customer_phones", "value", "CN_MOBILE_NUMBER"),
    ("settings", "value", NONE),
    ("identity_verifiable_addresses", "status", NONE),
]


@pytest.mark.parametrize(("table", "column", "expected"), TABLE_CASES)
def test_table_decides_bare_names(table: str, column: str, expected: str) -> None:
    assert _outcome(column, table=table) == expected


PERSON_TABLES = [
    ("customers", True), ("customer", True), ("auth.users", True), ("sys_user", True), ("t_kehu_xinxi", True),
    ("客户信息表", True), ("会员", True), ("employees", True), ("people", True), ("customer_contacts", True),
    ("owners", True), ("branch", False), ("products", False), ("campaigns", False), ("lists", False),
    ("contact_log", False), ("identity_credential_types", False), ("账户", False), ("orders", False), ("", False),
]


@pytest.mark.parametrize(("table", "expected"), PERSON_TABLES)
def test_person_tables(table: str, expected: bool) -> None:
    assert is_person_table(table) is expected


NAME_VALUES = [
    ("张伟", True), ("王秀英", True), ("欧阳娜娜", True), ("司马光", True), ("阿依古丽·买买提", True),
    ("Jane Doe", True), ("Mary-Jane O'Neil", True), ("J. R. Smith", True), ("Ludwig van Beethoven", True),
    ("北京分行", False), ("张江支行", False), ("王府井店", False), ("金卡", False), ("客户3", False),
    ("Gold Card", False), ("Spring Sale 2024", False), ("Platinum Plan", False), ("Head Office", False),
    ("jane", False), ("Jane", False), ("张", False), ("ACME", False), ("", False), ("张*", False),
]


@pytest.mark.parametrize(("value", "expected"), NAME_VALUES)
def test_values_that_look_like_names(value: str, expected: bool) -> None:
    assert looks_like_person_name(value) is expected


def test_comment_decides_when_the_name_says_nothing() -> None:
    assert classify_field("c7", "客户姓名").classes == ("PERSON_NAME",)
    assert classify_field("col3", "用户的手机号码，用于登录").classes == ("CN_MOBILE_NUMBER",)
    assert classify_field("name", "客户姓名", table="branch").classes == ("PERSON_NAME",)
    assert classify_field("col3", "手机号确认时间").classes == ()  # the comment's own suffix rules it out
    assert classify_field("created_at", "手机号").classes == ()  # the name rules itself out first
    assert classify_field("c9", "客户手机号", sql_type="timestamptz").classes == ()  # and so does the type


def test_every_class_and_entity_is_a_registered_entity_type() -> None:
    from scanner.detection.fields import default_classifier

    registry = entity_types()
    classifier = default_classifier()
    for cls in classifier.class_names:
        assert cls in registry, f"field class {cls} is no registered entity type"
        assert all(e in registry and registry[e].source == "recognizer" for e in classifier.class_entities(cls))


def test_vocabulary_rejects_yaml_booleans() -> None:
    with pytest.raises(ValueError, match="quote it"):
        FieldClassifier({"classes": {}, "roles": {"time": [True]}})


_WORDS = st.lists(st.from_regex(r"[a-z]{2,8}", fullmatch=True), min_size=1, max_size=4)


@given(_WORDS)
def test_separators_and_case_do_not_change_the_meaning(words: list[str]) -> None:
    snake = "_".join(words)
    variants = ["-".join(words), ".".join(words), words[0] + "".join(w.capitalize() for w in words[1:]),
                "_".join(words).upper(), " ".join(words)]
    expected = classify_field(snake)
    for variant in variants:
        assert tokenize_field_name(variant) == tokenize_field_name(snake)
        got = classify_field(variant)
        assert (got.classes, got.negative, got.conditional) == (expected.classes, expected.negative,
                                                                expected.conditional)


@given(st.text(max_size=60), st.one_of(st.none(), st.text(max_size=30)), st.one_of(st.none(), st.text(max_size=20)),
       st.one_of(st.none(), st.text(max_size=30)))
def test_any_input_is_classified_without_error(name: str, comment: str | None, sql_type: str | None,
                                               table: str | None) -> None:
    hint = classify_field(name, comment, sql_type, table)
    assert not (hint.negative and hint.classes)
    assert all(t and t == t.lower() for t in tokenize_field_name(name))
    looks_like_person_name(name)
