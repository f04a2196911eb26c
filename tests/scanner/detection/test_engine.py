"""The candidate-first engine: context words, field-name hints, overlaps, boundaries, protected and masked
values, chunk offsets, backend parity, and precision on a slice of realistic logs with no personal data."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import uuid
from datetime import datetime, timedelta

import pytest
from stdnum import luhn
from stdnum.cn import ric

from scanner.detection.engine import Detector
from scanner.detection.protected import classify_protected
from scanner.detection.recognizer import Candidate, Recognizer
from scanner.model import Chunk, Match, Protection


def _card(prefix: str, length: int) -> str:
    body = (prefix + "3141592653589793238")[: length - 1]
    return body + luhn.calc_check_digit(body)


def _rid(p17: str) -> str:
    return p17 + ric.calc_check_digit(p17 + "0")


RID = _rid("11010519850312001")
MOBILE = "13812345678"
UNIONPAY = _card("622202", 19)
DOMESTIC = _card("601382", 19)  # a domestic card outside the 62 range: a card only with context
VISA = "4111111111111111"
BCRYPT = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"


@pytest.fixture(scope="module", params=["hyperscan", "re"])
def detector(request: pytest.FixtureRequest) -> Detector:
    return Detector(use_hyperscan=request.param == "hyperscan")


def _scan(detector: Detector, text: str, **chunk: object) -> list[Match]:
    return detector.scan(Chunk(text.encode("utf-8"), **chunk)).matches  # type: ignore[arg-type]


def _score(detector: Detector, text: str, entity: str, **chunk: object) -> float | None:
    """Score of the one match of ``entity`` in ``text``, or None when there is none."""
    found = [m for m in _scan(detector, text, **chunk) if m.entity_type == entity]
    assert len(found) <= 1
    return found[0].score if found else None


# -- context words --------------------------------------------------------------------------------

CONTEXT_CASES = [
    # (entity, value, context before the value): Chinese and English words raise the score
    ("CN_RESIDENT_ID", RID, "身份证 "),
    ("CN_RESIDENT_ID", RID, "证件号码 "),
    ("CN_RESIDENT_ID", RID, "id card "),
    ("CN_RESIDENT_ID", RID, "Resident ID "),
    ("CN_MOBILE_NUMBER", MOBILE, "手机 "),
    ("CN_MOBILE_NUMBER", MOBILE, "联系电话 "),
    ("CN_MOBILE_NUMBER", MOBILE, "mobile "),
    ("CN_MOBILE_NUMBER", MOBILE, "Cell "),
    ("CN_MOBILE_NUMBER", MOBILE, "userMobile "),  # a camelCase hump starts a word
    ("CN_BANK_CARD", DOMESTIC, "卡号 "),
    ("CN_BANK_CARD", DOMESTIC, "银行卡 "),
    ("CN_BANK_CARD", DOMESTIC, "card no "),
    ("CN_BANK_CARD", UNIONPAY, "账号 "),
    ("CREDIT_CARD", VISA, "visa "),
    ("CREDIT_CARD", VISA, "信用卡 "),
    ("US_SSN", "536-22-1234", "ssn "),
    ("IBAN_CODE", "DE89370400440532013000", "iban "),
    ("CN_PASSPORT", "E12345678", "护照 "),
    ("CN_PASSPORT", "E12345678", "passport "),
    ("IP_ADDRESS", "203.0.114.7", "client ip "),
    ("IP_ADDRESS", "203.0.114.7", "clientIp "),
    ("IP_ADDRESS", "203.0.114.7", "登录IP "),
]


@pytest.mark.parametrize(("entity", "value", "context"), CONTEXT_CASES)
def test_context_words_raise_the_score(detector: Detector, entity: str, value: str, context: str) -> None:
    bare = _score(detector, f"ref {value} ok", entity)
    with_context = _score(detector, f"{context}{value} ok", entity)
    assert with_context is not None
    assert bare is None or with_context > bare


EMBEDDED_CONTEXT_CASES = [
    # a context word inside a longer word is not context: "pan" in spanId/company, "card" in discard,
    # "ip" in skip/description/ship
    ("CN_BANK_CARD", DOMESTIC, "spanId=7f3a9c2e ref="),
    ("CN_BANK_CARD", DOMESTIC, "company "),
    ("CN_BANK_CARD", DOMESTIC, "discard batch "),
    ("CN_BANK_CARD", DOMESTIC, "wildcard "),
    ("IP_ADDRESS", "203.0.114.7", "skip "),
    ("IP_ADDRESS", "203.0.114.7", "description from "),
    ("IP_ADDRESS", "203.0.114.7", "ship to "),
    ("CN_PASSPORT", "E12345678", "hotel "),
]


@pytest.mark.parametrize(("entity", "value", "text"), EMBEDDED_CONTEXT_CASES)
def test_context_words_inside_longer_words_do_not_count(detector: Detector, entity: str, value: str, text: str) -> None:
    assert _score(detector, f"{text}{value} ok", entity) is None


# -- field-name hints -----------------------------------------------------------------------------

RAISED = "raised"
LOWERED = "lowered"  # below the threshold: no finding
UNCHANGED = "unchanged"

FIELD_CASES = [
    # (entity, value, how the field is given, field name, expected effect against the bare value)
    ("CN_RESIDENT_ID", RID, "csv", "id_card", RAISED),
    ("CN_RESIDENT_ID", RID, "csv", "sfzh", RAISED),
    ("CN_RESIDENT_ID", RID, "csv", "身份证号", RAISED),
    ("CN_RESIDENT_ID", RID, "csv", "ShenFenZheng", RAISED),
    ("CN_RESIDENT_ID", RID, "json", "idCardNo", RAISED),
    ("CN_RESIDENT_ID", RID, "json", "证件号码", RAISED),
    ("CN_RESIDENT_ID", RID, "kv", "sfzh", RAISED),
    ("CN_RESIDENT_ID", RID, "column", "zjhm", RAISED),
    ("CN_MOBILE_NUMBER", MOBILE, "csv", "mobile", RAISED),
    ("CN_MOBILE_NUMBER", MOBILE, "csv", "shouji", RAISED),
    ("CN_MOBILE_NUMBER", MOBILE, "csv", "手机号", RAISED),
    ("CN_MOBILE_NUMBER", MOBILE, "json", "mobilePhone", RAISED),
    ("CN_MOBILE_NUMBER", MOBILE, "kv", "lxdh", RAISED),
    ("CN_BANK_CARD", DOMESTIC, "csv", "kahao", RAISED),
    ("CN_BANK_CARD", DOMESTIC, "csv", "卡号", RAISED),
    ("CN_BANK_CARD", DOMESTIC, "json", "card_no", RAISED),
    ("CN_BANK_CARD", DOMESTIC, "column", "yinhangkahao", RAISED),
    ("CREDIT_CARD", VISA, "csv", "card_number", RAISED),
    ("CN_PASSPORT", "E12345678", "csv", "护照号", RAISED),
    ("CN_PASSPORT", "E12345678", "json", "passportNo", RAISED),
    ("IP_ADDRESS", "203.0.114.7", "json", "remote_addr", RAISED),
    # names known not to be personal lower the score below the threshold
    ("CN_RESIDENT_ID", RID, "csv", "order_no", LOWERED),
    ("CN_RESIDENT_ID", RID, "json", "traceId", LOWERED),
    ("CN_RESIDENT_ID", RID, "kv", "交易流水号", LOWERED),
    ("CN_MOBILE_NUMBER", MOBILE, "json", "deviceId", LOWERED),
    ("CN_MOBILE_NUMBER", MOBILE, "kv", "offset", LOWERED),
    ("CN_MOBILE_NUMBER", MOBILE, "csv", "amount", LOWERED),  # amounts in fen are integers
    ("CN_MOBILE_NUMBER", MOBILE, "csv", "latency_ms", LOWERED),
    ("CREDIT_CARD", VISA, "column", "request_id", LOWERED),
    # a personal field of another kind neither raises nor lowers
    ("CN_RESIDENT_ID", RID, "csv", "mobile", UNCHANGED),
    ("CN_MOBILE_NUMBER", MOBILE, "json", "email", UNCHANGED),
]


def _in_field(value: str, how: str, field: str) -> tuple[str, dict[str, object]]:
    if how == "csv":
        return f"x,{value},y\n", {"layout": "delimited", "fields": ("a", field, "b")}
    if how == "json":
        return f'{{"{field}": "{value}", "ok": true}}', {}
    if how == "kv":
        return f"event=update {field}={value} status=ok", {}
    return value, {"field": field}  # a database column or a JSON key the connector already split out


@pytest.mark.parametrize(("entity", "value", "how", "field", "effect"), FIELD_CASES)
def test_field_name_hints(detector: Detector, entity: str, value: str, how: str, field: str, effect: str) -> None:
    bare = _score(detector, value, entity)
    text, chunk = _in_field(value, how, field)
    hinted = _score(detector, text, entity, **chunk)
    if effect == RAISED:
        assert hinted is not None
        assert bare is None or hinted > bare
        assert [m.field for m in _scan(detector, text, **chunk) if m.entity_type == entity] == [field]
    elif effect == LOWERED:
        assert bare is not None  # the value alone would be reported
        assert hinted is None
    else:
        assert hinted == bare


NAME_ONLY_CASES = [
    # a field name alone never makes a finding about content
    ("id_card,mobile,kahao\n", {}),
    ("sfzh=\nshouji=\n卡号：\n", {}),
    ('{"id_card": "", "mobile": null, "身份证号": "unknown", "kahao": "N/A"}', {}),
    ("N/A,none,-\n", {"layout": "delimited", "fields": ("sfzh", "shouji", "卡号")}),
    ("12345,1380000,6222\n", {"layout": "delimited", "fields": ("id_card", "mobile", "card_no")}),
    ("身份证号 手机号 银行卡号 护照号 client ip\n", {}),
    ("not recorded", {"field": "身份证号码"}),
]


@pytest.mark.parametrize(("text", "chunk"), NAME_ONLY_CASES)
def test_a_field_name_alone_is_not_a_finding(detector: Detector, text: str, chunk: dict[str, object]) -> None:
    result = detector.scan(Chunk(text.encode("utf-8"), **chunk))  # type: ignore[arg-type]
    assert result.matches == []
    assert result.masked == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("E12345678", []),
        ("ref E12345678 shipped", []),
        ("passport E12345678", ["CN_PASSPORT"]),
        ('{"huzhao": "EA1234567"}', ["CN_PASSPORT"]),
        ("203.0.114.7 - - GET /", []),
        ("remote_addr=203.0.114.7", ["IP_ADDRESS"]),
    ],
)
def test_requires_context_recognizers_need_context(detector: Detector, text: str, expected: list[str]) -> None:
    assert [m.entity_type for m in _scan(detector, text)] == expected


# -- overlaps, boundaries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+86 138 1234 5678", ["CN_MOBILE_NUMBER"]),  # PHONE_NUMBER validates it too
        ("+8613812345678", ["CN_MOBILE_NUMBER"]),
        ("tel +86-138-1234-5678", ["CN_MOBILE_NUMBER"]),
        ("tel +44 20 7946 0958", ["PHONE_NUMBER"]),
        (f"credit card {UNIONPAY}", ["CN_BANK_CARD"]),  # a UnionPay card with a credit-card word
        (f"信用卡 {_card('622588', 16)}", ["CN_BANK_CARD"]),
        (f"card {VISA}", ["CREDIT_CARD"]),
    ],
)
def test_overlapping_claims_go_to_the_most_specific_recognizer(
    detector: Detector, text: str, expected: list[str]
) -> None:
    assert [m.entity_type for m in _scan(detector, text)] == expected


def _luhn_complete(partial: str) -> str:
    return partial + luhn.calc_check_digit(partial)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("5555555555554444", ["CREDIT_CARD"]),  # Mastercard: 16 digits
        (_luhn_complete("222100000000001"), ["CREDIT_CARD"]),  # Mastercard 2-series
        (_luhn_complete("270951643109803794"), []),  # 19 digits in the Mastercard range: a snowflake ID
        (_luhn_complete("545454545454545454"), []),
        (_luhn_complete("411111111111111111"), ["CREDIT_CARD"]),  # Visa issues 19-digit PANs
        (_luhn_complete("353011133330000000"), ["CREDIT_CARD"]),  # so does JCB
    ],
)
def test_card_lengths_follow_the_schemes(detector: Detector, number: str, expected: list[str]) -> None:
    assert [m.entity_type for m in _scan(detector, f"ref {number} ok")] == expected


class _Broad(Recognizer):
    id = "test_broad"
    entity_type = "TEST_BROAD"
    candidates = (Candidate("digits", r"[0-9]{6,12}", 0.9),)
    priority = 5


class _Specific(Recognizer):
    id = "test_specific"
    entity_type = "TEST_SPECIFIC"
    candidates = (Candidate("prefixed", r"99[0-9]{4}", 0.6),)
    priority = 50


@pytest.mark.parametrize("use_hyperscan", [True, False])
def test_priority_beats_score_and_length_in_overlaps(use_hyperscan: bool) -> None:
    """The engine's rule, isolated: among overlapping claims priority wins, even over a higher score."""
    detector = Detector([_Broad(), _Specific()], use_hyperscan=use_hyperscan)
    matches = detector.scan(Chunk(b"a 990123 b 123456789 c")).matches
    assert [(m.entity_type, m.start, m.end) for m in matches] == [("TEST_SPECIFIC", 2, 8), ("TEST_BROAD", 11, 20)]


EMBEDDED_CASES = [
    # valid values inside longer tokens are not values
    f"order={RID}01",
    f"orderNo=ORD{RID}",
    f"trace=7f3a9c2e-1b4d-4e8f-9a6b-{MOBILE}0",
    f"uuid=550e8400-e29b-41d4-a716-4466{MOBILE[:8]}",
    f"sha256=9f86d081884c7d659a2f{RID}eaa0c55ad015a3bf4f1b2b0b822cd15d6c",
    f"md5={MOBILE}abcdef0123456789abcdef",
    f"ts=2024-11-24T15:30:00.{RID}Z",  # fractional seconds
    f"epoch_ns=1{RID}",
    f"amount={MOBILE}.00",
    f"amount=0.{MOBILE}",
    f"lat=31.{MOBILE} lng=121.47",
    f"x{UNIONPAY}y",
    f"1{VISA}",
    f"id=9{DOMESTIC} 卡号 none",
    f"v1.{MOBILE}.3",
    f"file /data/{RID}abc.log",
]


@pytest.mark.parametrize("text", EMBEDDED_CASES)
def test_values_inside_longer_tokens_do_not_match(detector: Detector, text: str) -> None:
    assert _scan(detector, text) == []


@pytest.mark.parametrize(
    "text",
    [f"{MOBILE}", f"{MOBILE}\n", f"\n{MOBILE}", f"call {MOBILE}.", f"({MOBILE})", f"手机号{MOBILE}，谢谢",
     f'"{MOBILE}"'],
)
def test_values_at_edges_and_next_to_punctuation_match(detector: Detector, text: str) -> None:
    assert [m.entity_type for m in _scan(detector, text)] == ["CN_MOBILE_NUMBER"]


# -- protected and masked values ------------------------------------------------------------------

PROTECTED_IN_FIELDS = [
    BCRYPT,
    hashlib.sha256(RID.encode()).hexdigest(),
    hashlib.sha256(MOBILE.encode()).hexdigest().upper(),
    base64.b64encode(random.Random(1).randbytes(48)).decode(),
    "\\x" + random.Random(2).randbytes(40).hex(),
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
]


@pytest.mark.parametrize("value", PROTECTED_IN_FIELDS)
@pytest.mark.parametrize(("how", "field"), [("csv", "id_card"), ("json", "sfzh"), ("kv", "mobile"), ("column", "卡号")])
def test_protected_values_in_personal_fields_are_not_plaintext(detector: Detector, value: str, how: str,
                                                               field: str) -> None:
    """A hash or ciphertext under a personal field name is protected (the label says which), never a
    plaintext finding: the engine finds nothing in it and ``classify_protected`` labels it."""
    text, chunk = _in_field(value, how, field)
    assert not [m for m in _scan(detector, text, **chunk) if m.protection is Protection.PLAINTEXT]
    assert classify_protected(value) is not None


MASKED_CASES = [
    ("卡号 622202******1234", "CN_BANK_CARD"),
    ("card 6222 **** **** 1234", "CN_BANK_CARD"),
    ("手机 138****5678", "CN_MOBILE_NUMBER"),
    ("mobile +86 138****5678", "CN_MOBILE_NUMBER"),
    ("身份证 110101********123X", "CN_RESIDENT_ID"),
    ("ssn ***-**-6789", "US_SSN"),
    ("email j***@example.com", "EMAIL_ADDRESS"),
    ("visa 411111******1111", "CREDIT_CARD"),
    ("hkid A123***(3)", None),  # a masked form no recognizer declares: neither reported nor counted
    # a mask that leaves characters before the @: the plain pattern must not take what follows the stars
    ("email s****n@outlook.com", "EMAIL_ADDRESS"),
    ("email z***@example.com", "EMAIL_ADDRESS"),
    ("email zh***an.li@example.cn", "EMAIL_ADDRESS"),
    ("email ***@example.com", "EMAIL_ADDRESS"),
    ('{"email":"w*****g@qq.com"}', "EMAIL_ADDRESS"),
    # cards: 6+4 and 4+4 display masks, X or *, plain or grouped, 16 or 19 digits
    ("卡号 6222 02XX XXXX 1234", "CN_BANK_CARD"),
    ("卡号 6222 02** **** ***3 449", "CN_BANK_CARD"),
    ("卡号 6222XXXXXXXX1234", "CN_BANK_CARD"),
    ("card 4111 11XX XXXX 1111", "CREDIT_CARD"),
    ("card 5555 **** **** 4444", "CREDIT_CARD"),
    # resident IDs with any split of kept and hidden characters
    ("身份证 110101****0307123X", "CN_RESIDENT_ID"),
    ("身份证 1101**********123X", "CN_RESIDENT_ID"),
    ("身份证 110101xxxxxxxx0011", "CN_RESIDENT_ID"),
    ("身份证 **********0307123X", "CN_RESIDENT_ID"),
    # IBANs, grouped or not
    ("iban DE89 **** **** **** 3000 00", "IBAN_CODE"),
    ("iban DE89 3704 **** **** **30 00", "IBAN_CODE"),
    ("iban DE89**************3000", "IBAN_CODE"),
    ("iban DE89 XXXX XXXX XXXX XX30 00", "IBAN_CODE"),
    # IP addresses: hidden octets after the first
    ("client ip 192.168.*.*", "IP_ADDRESS"),
    ("client ip 10.x.x.x", "IP_ADDRESS"),
    ("client ip 203.0.113.*", "IP_ADDRESS"),
    ("client ip 203.0.xxx.7", "IP_ADDRESS"),
    ("ssn XXX XX 6789", "US_SSN"),
    ("mobile 138 **** 5678", "CN_MOBILE_NUMBER"),
    ("手机：１３８＊＊＊＊５６７８", "CN_MOBILE_NUMBER"),  # full width
    ("身份证：１１０１０１＊＊＊＊＊＊＊＊００１１", "CN_RESIDENT_ID"),
]

NOT_MASKED_CASES = [
    # (text, plaintext entity types): stars around a value are markup, not a mask; look-alikes of masks
    ("**zhang.san@example.com**", ["EMAIL_ADDRESS"]),
    ("* 13812345678 *", ["CN_MOBILE_NUMBER"]),
    ("see x.x.x.x in the docs", []),
    ("glob *.*.*.* allowed", []),
    ("release v2.x.x.x", []),
    ("iban IT34 P270 3456 287X I8T7 5DZ9 64O", ["IBAN_CODE"]),  # an X in a BBAN is no mask
]


@pytest.mark.parametrize(("text", "expected"), NOT_MASKED_CASES)
def test_stars_that_are_no_mask(detector: Detector, text: str, expected: list[str]) -> None:
    result = detector.scan(Chunk(text.encode("utf-8")))
    assert [m.entity_type for m in result.matches] == expected
    assert result.masked == {}


@pytest.mark.parametrize(("text", "entity"), MASKED_CASES)
def test_masked_values_are_counted_not_reported(detector: Detector, text: str, entity: str | None) -> None:
    result = detector.scan(Chunk(text.encode("utf-8")))
    assert result.matches == []
    assert result.masked == ({entity: 1} if entity else {})


def test_masked_values_are_counted_once_each(detector: Detector) -> None:
    text = "\n".join(["手机 138****5678 卡号 622202******1234"] * 5 + ["身份证 110101********123X"])
    assert detector.scan(Chunk(text.encode())).masked == {"CN_MOBILE_NUMBER": 5, "CN_BANK_CARD": 5,
                                                           "CN_RESIDENT_ID": 1}


# -- chunks ---------------------------------------------------------------------------------------


def test_chunk_offsets_make_positions_resource_relative(detector: Detector) -> None:
    data = f"first line\n手机 {MOBILE}\nthird 身份证 {RID}\n".encode()
    result = detector.scan(Chunk(data, line_offset=41, byte_offset=10_000))
    assert [(m.entity_type, m.line) for m in result.matches] == [("CN_MOBILE_NUMBER", 43), ("CN_RESIDENT_ID", 44)]
    for match, value in zip(result.matches, (MOBILE, RID), strict=True):
        assert data[match.start - 10_000 : match.end - 10_000].decode() == value


def test_a_value_cut_by_a_chunk_boundary_is_not_reported_in_pieces(detector: Detector) -> None:
    """The engine has no overlap between chunks: connectors cut chunks at line ends, so a value is whole
    in one chunk. A value cut mid-way (a connector bug) must not yield matches on its halves."""
    data = f"sfzh={RID}\n".encode()
    for cut in range(6, len(data) - 1):
        first, second = Chunk(data[:cut]), Chunk(data[cut:], byte_offset=cut)
        assert detector.scan(first).matches == [] and detector.scan(second).matches == []
    whole = detector.scan(Chunk(data)).matches
    assert [m.entity_type for m in whole] == ["CN_RESIDENT_ID"]


def test_results_do_not_depend_on_the_value_cache(detector: Detector) -> None:
    """Validation is memoised per value; a repeated value gets the same verdict and evidence each time."""
    text = "\n".join(f"手机 {MOBILE} 身份证 {RID} ref {RID[:-1]}0" for _ in range(50))
    matches = _scan(detector, text)
    assert len(matches) == 100
    assert {(m.entity_type, m.evidence, m.value_hash) for m in matches} == {
        (m.entity_type, m.evidence, m.value_hash) for m in matches[:2]
    }


# -- realistic logs: no personal data, and backend parity -----------------------------------------

CN_MESSAGES = (
    "用户登录成功", "订单创建成功，等待支付", "支付回调处理完成", "风控规则命中，进入人工审核",
    "库存扣减失败，重试第{n}次", "退款申请已受理，退款金额{amt}元", "优惠券核销成功，金额{amt}元",
    "商户结算批次{batch}已完成", "账单生成完毕，共{n}条", "缓存刷新完成，耗时{ms}毫秒",
    "消息投递成功，主题order-events，分区{p}", "商户号{n}对账完成，差错{p}笔",
)
EN_MESSAGES = ("request completed", "cache miss, loading from db", "retrying downstream call",
               "connection pool exhausted", "scheduled job finished", "circuit breaker half-open", "token refreshed",
               "discarding stale span")
PATHS = ("/api/v1/orders", "/api/v1/orders/{batch}", "/api/v2/pay/notify", "/health", "/static/js/app.{hex8}.js",
         "/api/v1/products/{n}/reviews?page={p}&size=20", "/metrics", "/api/v1/invoices/{uuid}")
UAS = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15", "okhttp/4.12.0",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91",
       "curl/8.5.0", "Apache-HttpClient/4.5.14 (Java/17.0.10)")
CLASSES = ("com.example.pay.gateway.PayController", "com.example.order.service.impl.OrderServiceImpl",
           "org.springframework.web.servlet.DispatcherServlet", "com.example.risk.RuleEvaluator")


class NoiseLog:
    """Deterministic log lines with no personal data: access lines (private client addresses), application
    lines with trace IDs, order numbers, amounts and Chinese messages, SQL, Java stack traces, JSON events,
    Kafka consumer lines, metrics with long floats. Every number looks like an identifier somewhere."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.t = datetime(2024, 11, 24, 8, 0, 0)

    def text(self, target_bytes: int) -> str:
        """Lines of every kind, drawn at random (application lines twice as often), to about ``target_bytes``."""
        kinds = (self.access, self.app, self.app, self.sql, self.stack, self.event, self.kafka, self.metrics)
        lines, size = [], 0
        while size < target_bytes:
            self.t += timedelta(milliseconds=self.r.randrange(1, 2000))
            line = self.r.choice(kinds)()
            lines.append(line)
            size += len(line.encode()) + 1
        return "\n".join(lines) + "\n"

    # -- values --------------------------------------------------------------------------------------
    def order(self) -> str:
        return f"{self.t:%Y%m%d%H%M%S}{self.r.randrange(10**6):06d}"

    def hex_(self, n: int) -> str:
        return f"{self.r.getrandbits(4 * n):0{n}x}"

    def uid(self) -> str:
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def ip(self) -> str:
        r = self.r
        return r.choice((f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}",
                         f"192.168.{r.randrange(256)}.{r.randrange(1, 255)}",
                         f"172.{r.randrange(16, 32)}.{r.randrange(256)}.{r.randrange(1, 255)}"))

    def amt(self) -> str:
        return f"{self.r.randrange(1, 10**7) / 100:.2f}"

    def flt(self) -> str:
        r = self.r
        return f"{r.random() * r.choice((1, 100, 10_000)):.{r.randrange(3, 17)}f}"

    def fill(self, s: str) -> str:
        r = self.r
        return s.format(n=r.randrange(1, 10**10), amt=self.amt(), batch=self.order(), ms=r.randrange(1, 5000),
                        hex8=self.hex_(8), p=r.randrange(1, 50), uuid=self.uid())

    def ms(self) -> int:
        return int(self.t.timestamp() * 1000) + self.r.randrange(1000)

    # -- lines ---------------------------------------------------------------------------------------
    def access(self) -> str:
        r = self.r
        return (f'{self.ip()} - - [{self.t:%d/%b/%Y:%H:%M:%S} +0800] "{r.choice(("GET", "POST", "PUT"))} '
                f'{self.fill(r.choice(PATHS))} HTTP/1.1" {r.choice((200, 201, 204, 301, 404, 500))} '
                f'{r.randrange(100, 10**6)} "-" "{r.choice(UAS)}" rt={r.random():.3f} uct="{r.random():.3f}" '
                f'upstream={self.ip()}:8080 req_id={self.hex_(32)}')

    def app(self) -> str:
        r = self.r
        return (f"{self.t:%Y-%m-%d %H:%M:%S}.{r.randrange(1000):03d} {r.choice(('INFO', 'WARN', 'DEBUG'))} "
                f"[{r.choice(('http-nio-8080-exec-', 'pool-3-thread-', 'kafka-consumer-'))}{r.randrange(1, 200)}] "
                f"c.e.o.service.OrderService - traceId={self.hex_(32)} spanId={self.hex_(16)} orderNo={self.order()} "
                f"{self.fill(r.choice(CN_MESSAGES))} amount={self.amt()} latency_ms={r.randrange(1, 3000)} "
                f"ts={self.ms()}")

    def sql(self) -> str:
        # auto-increment keys, and snowflake IDs (41-bit milliseconds since a 2010s epoch: 18-19 digits, 1.x e18)
        r, t = self.r, self.t
        ids = ", ".join(str(r.choice((r.randrange(1, 10**8), r.randrange(10**17, 19 * 10**17)))) for _ in range(5))
        return r.choice((
            f"{t:%Y-%m-%d %H:%M:%S} [sql] UPDATE t_order SET status=2, paid_at='{t:%Y-%m-%d %H:%M:%S}', "
            f"amount={self.amt()} WHERE order_no='{self.order()}' AND version={r.randrange(1, 50)}; "
            f"-- {r.randrange(1, 900)} ms",
            f"{t:%Y-%m-%d %H:%M:%S} [sql] SELECT id, sku, qty FROM t_item WHERE id IN ({ids}) LIMIT 100",
            f"{t:%Y-%m-%d %H:%M:%S} [sql] INSERT INTO t_audit (id, event_id, checksum, created_at) VALUES "
            f"({r.randrange(10**17, 10**18)}, '{self.uid()}', '{hashlib.sha256(r.randbytes(8)).hexdigest()}', "
            f"{int(t.timestamp())})",
        ))

    def stack(self) -> str:
        r = self.r
        cls = r.choice(CLASSES)
        short = cls.rsplit(".", 1)[1]
        lines = [f"{self.t:%Y-%m-%d %H:%M:%S}.{r.randrange(1000):03d} ERROR [main] {cls} - 处理失败 "
                 f"orderNo={self.order()}",
                 f"java.lang.IllegalStateException: balance check failed for batch {self.order()} "
                 f"at offset {r.randrange(10**12)}"]
        for _ in range(r.randrange(3, 8)):
            lines.append(f"\tat {cls}.{r.choice(('handle', 'process', 'doFilter', 'invoke'))}({short}.java:"
                         f"{r.randrange(20, 2000)})")
        lines.append(f"\t... {r.randrange(5, 90)} common frames omitted")
        return "\n".join(lines)

    def event(self) -> str:
        r, t = self.r, self.t
        return json.dumps({
            "ts": t.isoformat(timespec="milliseconds") + "+08:00", "event": r.choice(("click", "pay", "refund")),
            "orderId": self.order(), "sku": f"SKU-{r.randrange(10**6):06d}", "qty": r.randrange(1, 9),
            "price": float(self.amt()), "deviceId": self.hex_(16),
            "sha256": hashlib.sha256(r.randbytes(8)).hexdigest(), "uuid": self.uid(), "seq": r.randrange(10**9),
            "epoch": int(t.timestamp() * 10**9) + r.randrange(10**9), "score": float(self.flt()),
            "token": base64.urlsafe_b64encode(r.randbytes(24)).decode(), "msg": self.fill(r.choice(CN_MESSAGES)),
        }, ensure_ascii=False, separators=(",", ":"))

    def kafka(self) -> str:
        r = self.r
        return (f"{self.t:%Y-%m-%d %H:%M:%S} INFO consumed topic=order-events partition={r.randrange(12)} "
                f"offset={r.randrange(10**12)} key={self.order()} size={r.randrange(100, 10**5)} "
                f"lag={r.randrange(10**4)} {r.choice(EN_MESSAGES)}")

    def metrics(self) -> str:
        r = self.r
        return (f"{self.t:%Y-%m-%dT%H:%M:%S}Z metrics jvm.gc.pause={self.flt()} cpu={self.flt()} p99={self.flt()} "
                f"lat={30 + r.random():.11f} lng={120 + r.random():.11f} ratio={self.flt()} "
                f"build=v2.{r.randrange(20)}.{r.randrange(100)} commit={self.hex_(40)} md5={self.hex_(32).upper()}")


def noise_log(seed: int, target_bytes: int) -> str:
    """:class:`NoiseLog` lines for ``seed``, about ``target_bytes`` of them."""
    return NoiseLog(seed).text(target_bytes)


NOISE = noise_log(20241124, 400_000).encode()


def test_realistic_logs_without_personal_data_yield_no_plaintext_match(detector: Detector) -> None:
    result = detector.scan(Chunk(NOISE))
    found = [(m.entity_type, m.line, m.evidence) for m in result.matches]
    assert found == []
    assert result.masked == {}


def test_the_same_logs_with_planted_values_yield_exactly_those(detector: Detector) -> None:
    """The precision slice is not blind: values planted into it are all found, and nothing else."""
    lines = NOISE.decode().split("\n")
    planted = {
        100: (f"2024-11-24 09:00:00 INFO sms sent mobile={MOBILE} tpl=LOGIN", "CN_MOBILE_NUMBER"),
        900: (f'{{"event":"bind","cardNo":"{UNIONPAY}","ok":true}}', "CN_BANK_CARD"),
        1500: (f"2024-11-24 09:01:00 WARN 实名认证失败 身份证号={RID} 原因=照片不清晰", "CN_RESIDENT_ID"),
        2000: ("2024-11-24 09:02:00 INFO login client ip 203.0.114.7 ok", "IP_ADDRESS"),
    }
    for index, (line, _entity) in planted.items():
        lines.insert(index, line)
    matches = detector.scan(Chunk("\n".join(lines).encode())).matches
    assert [(m.line, m.entity_type) for m in matches] == [(i + 1, e) for i, (_l, e) in sorted(planted.items())]


PARITY_TEXTS = [
    *(text for text, _chunk in NAME_ONLY_CASES),
    *(f"{context}{value}" for _entity, value, context in CONTEXT_CASES),
    *EMBEDDED_CASES,
    *(text for text, _entity in MASKED_CASES),
    f"{MOBILE}\n{RID}",  # candidates at the very start and end of the data
    f"邮箱 zhang.san@example.com, li_si+bank@example.cn; logo@2x.png {'a' * 600}@example.com",
    "HKID A123456(3) A123456(4) AB987654(2) iban GB29 NWBK 6016 1331 9268 19 ssn 536-22-1234",
    "tel +1 202-555-0143 / +44 20 7946 0958 / +86 139-0000-1234 / 0086 13812345678",
    NOISE[:60_000].decode("utf-8", "ignore"),
]


def test_hyperscan_and_re_backends_agree() -> None:
    fast, slow = Detector(use_hyperscan=True), Detector(use_hyperscan=False)
    assert fast.backend == "hyperscan", "hyperscan is a dependency on x86_64; install it (pip install .[test])"
    for text in PARITY_TEXTS:
        chunk = Chunk(text.encode("utf-8"), line_offset=3, byte_offset=77)
        a, b = fast.scan(chunk), slow.scan(chunk)
        assert a.matches == b.matches, text[:80]
        assert a.masked == b.masked, text[:80]
    header = Chunk(f"x,{RID},{MOBILE},{DOMESTIC}\n".encode(), layout="delimited",
                   fields=("a", "sfzh", "shouji", "kahao"))
    assert fast.scan(header).matches == slow.scan(header).matches
    assert len(fast.scan(header).matches) == 3


# -- decoys in logs -------------------------------------------------------------------------------

DECOY_CASES = [
    # (text, plaintext entity types): 11-digit durations and sizes under unit-suffixed keys, or with a unit after
    (f"rpc done duration_ns={MOBILE} status=OK", []),
    (f"rpc done elapsed_ms={MOBILE}", []),
    (f'{{"event":"rpc","elapsedMs":{MOBILE},"ok":true}}', []),
    (f"gc_pause_ns={MOBILE} queue_time_us={MOBILE}", []),
    (f"took {MOBILE} ns", []),
    (f"read {MOBILE} bytes from disk", []),
    (f"call {MOBILE} Ms. Li", ["CN_MOBILE_NUMBER"]),  # a title, not milliseconds
    (f"reach me at {MOBILE}", ["CN_MOBILE_NUMBER"]),  # "at" is a preposition here, not a timestamp suffix
    (f"sent to {MOBILE} on {MOBILE}", ["CN_MOBILE_NUMBER", "CN_MOBILE_NUMBER"]),
    (f"consumed at offset {MOBILE}", []),
    (f"mobile={MOBILE} duration_ms=12", ["CN_MOBILE_NUMBER"]),
    # Luhn-valid references under payment/order keys are not cards; under card keys they are
    (f"settled payment_ref={VISA} amount=12.00", []),
    (f"settled txn={VISA}", []),
    (f"settled order_id={VISA}", []),
    (f'{{"paymentRef":"{VISA}","amount":1200}}', []),
    (f"settled txn_ref={UNIONPAY}", []),
    (f"amount_fen={MOBILE}", []),
    (f"price_cents={MOBILE}", []),
    (f"charge card_no={VISA} txn=1234", ["CREDIT_CARD"]),
    (f"order_phone={MOBILE}", ["CN_MOBILE_NUMBER"]),  # the classifier names a phone: "order" does not undo it
    # role mailboxes are not a person's
    ("mail from=noreply@shop-example.com queued", []),
    ("mail from=no-reply@accounts.google.com", []),
    ("git clone git@github.com:org/repo.git", []),
    ("alerts@acme-corp.com paged", []),
    ("bounce to postmaster@mail.example.org", []),
    ("contact support@vendor.io", []),
    ("From: Mailer-Daemon@example.com", []),
    ("bounces+12345@mail.example.com", []),
    ("notifications@github.com wrote", []),
    ("mail zhang.wei@example.com", ["EMAIL_ADDRESS"]),
    ("mail support.zhang@example.com", ["EMAIL_ADDRESS"]),  # a person whose address starts with a role word
    ("mail alerts.li@example.com", ["EMAIL_ADDRESS"]),
]


@pytest.mark.parametrize(("text", "expected"), DECOY_CASES)
def test_log_decoys_are_not_reported(detector: Detector, text: str, expected: list[str]) -> None:
    assert [m.entity_type for m in _scan(detector, text)] == expected
