"""Occurrence precision and recall of detection on a large synthetic application log with ground truth.

The generator writes a log (50 MiB by default) of realistic lines (access lines with private client
addresses, application lines with trace IDs, order numbers, amounts and latencies, SQL, stack traces,
JSON events, Kafka and metrics lines) into which it plants:

* **values** of every entity type a recognizer reports, in the forms people write them (plain, grouped,
  ``+`` international phones with long digit groups, IPv6, lowercase and dashed IBANs next to the word
  IBAN, SSNs with spaces or dots next to ``ssn``, IDN e-mail domains, Diners/Maestro/Dankort cards,
  full-width digits in Chinese text, resident IDs whose county code was created after the birth year);
* **masked values** of every type (``s****n@outlook.com``, ``6222 02XX XXXX 1234``, ``110101****0307123X``,
  ``DE89 **** **** **** 3000 00``, ``192.168.*.*`` …): never to be reported, always to be counted;
* **decoys**: 11-digit durations under ``duration_ns=``/``elapsed_ms=``, role mailboxes (``noreply@``,
  ``git@``, ``alerts@`` …), Luhn-valid ``payment_ref=``/``txn=``/``order_id=`` references, invalid IBANs
  whose digits are a valid card or a mobile number, rejected resident IDs that pass a card's or a credit
  code's check, SSNs the SSA never issues, private and documentation IP addresses next to ``client_ip``.

The truth (byte span, entity type, role, kind; never a value) is kept beside the log. The scorer runs
:class:`scanner.detection.engine.Detector` over line-aligned 4 MiB chunks of the file, as the file
connector reads a ``.log``, and counts per entity type: a reported match is a true positive when it
overlaps a planted value of the same type (each planted value counts once), anything else a false
positive (attributed to the decoy or masked value it overlaps, or to ``noise``). Masked values are
scored by count: ``masked counted / masked planted`` per type.

Usage::

    python bench/bench_log_precision.py [--size-mib 50] [--seed 11] [--keep DIR] [--backend re]
    PYTHONPATH=/other/checkout python bench/bench_log_precision.py    # the same corpus, other code

Targets (issue 11): occurrence precision >= 0.95 and recall >= 0.90 overall.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import ipaddress
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # appended: PYTHONPATH=/other/checkout measures that checkout's code

import phonenumbers  # noqa: E402
from stdnum import iban, luhn, numdb  # noqa: E402
from stdnum.cn import ric, uscc  # noqa: E402
from stdnum.us import ssn  # noqa: E402

MiB = 1024 * 1024
CHUNK = 4 * MiB
TARGET_PRECISION = 0.95
TARGET_RECALL = 0.90

PLANTED, DECOY, MASKED = "planted", "decoy", "masked"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    entity: str  # the entity type of a planted or masked value; "" for a decoy
    role: str
    kind: str


class Line:
    """One log line built piece by piece; spans of planted, masked and decoy pieces are byte offsets."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.spans: list[tuple[int, int, str, str, str]] = []

    def text(self, text: str) -> Line:
        data = text.encode("utf-8")
        self.parts.append(data)
        self.size += len(data)
        return self

    def value(self, text: str, entity: str, role: str, kind: str) -> Line:
        start = self.size
        self.text(text)
        self.spans.append((start, self.size, entity, role, kind))
        return self


# -- value makers --------------------------------------------------------------------------------------


def _division_periods() -> list[tuple[str, int, int]]:
    """(code, first year, last year) of the GB/T 2260 county codes in stdnum's ``cn/loc.dat``."""
    import re

    import stdnum.cn

    found = []
    province = ""
    for line in (Path(stdnum.cn.__file__).parent / "loc.dat").read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            continue
        code, _, county = line.strip().partition(" county=")
        for period in county.strip('"').split(","):
            years = re.match(r"\[(\d*)-(\d*)\]", period)
            first, last = (int(years[1] or 1900), int(years[2] or 2024)) if years else (1900, 2024)
            found.append((province + code, first, last))
    return found


class Values:
    """Fictitious values that pass their checks, and the decoys that look like them."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        periods = _division_periods()
        self.divisions = [p for p in periods if max(p[1], 1950) <= min(p[2], 2006)]
        # codes created after 1950: IDs of people born before the code existed (they moved there)
        self.late = [p for p in periods if p[1] >= 1980 and p[2] >= 2010]
        self.abolished = [p for p in periods if p[2] <= 2000 and not any(q[0] == p[0] and q[2] > p[2] for q in periods)]
        self.gansu = [p for p in self.divisions if p[0].startswith("62")]
        self.mobile_pattern = phonenumbers.PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern
        self._phone_pool: dict[str, list[str]] = {}

    def digits(self, n: int) -> str:
        return "".join(self.r.choice("0123456789") for _ in range(n))

    # resident IDs
    def rid(self, moved: bool = False) -> str:
        r = self.r
        if moved:
            code, first, _last = r.choice(self.late)
            year = r.randint(first - 25, first - 1)
        else:
            code, first, last = r.choice(self.divisions)
            year = r.randint(max(first, 1950), min(last, 2006))
        body = f"{code}{year}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{r.randint(0, 999):03d}"
        return body + ric.calc_check_digit(body + "0")

    def rid_abolished(self) -> str:
        """A county code abolished before the birth year: not a valid ID."""
        code, _first, last = self.r.choice(self.abolished)
        body = f"{code}{self.r.randint(last + 1, 2010)}0{self.r.randint(1, 9)}1{self.r.randint(0, 9)}" \
               f"{self.r.randint(0, 999):03d}"
        return body + ric.calc_check_digit(body + "0")

    def rid_as_card(self) -> str:
        """Resident-ID-shaped (a Gansu code, a birth date) with a wrong check character, Luhn-valid: a
        UnionPay card's shape."""
        while True:
            code, first, last = self.r.choice(self.gansu)
            body = f"{code}{self.r.randint(max(first, 1950), min(last, 2006))}{self.r.randint(1, 12):02d}" \
                   f"{self.r.randint(1, 28):02d}{self.r.randint(0, 999):03d}"
            check = luhn.calc_check_digit(body)
            if check != ric.calc_check_digit(body + "0"):
                return body + check

    def rid_as_uscc(self) -> str:
        """Resident-ID-shaped, ending in X, failing the ID check but passing GB 32100's."""
        while True:
            code, first, last = self.r.choice(self.divisions)
            body = f"{code}{self.r.randint(max(first, 1950), min(last, 2006))}{self.r.randint(1, 12):02d}" \
                   f"{self.r.randint(1, 28):02d}{self.r.randint(0, 999):03d}"
            if uscc.calc_check_digit(body + "X") == "X" and ric.calc_check_digit(body + "0") != "X":
                return body + "X"

    # phones
    def mobile(self) -> str:
        import re

        while True:
            number = "1" + self.r.choice("3456789") + self.digits(9)
            if re.fullmatch(self.mobile_pattern, number):
                return number

    def phone(self) -> tuple[str, str]:
        """(international written form, E.164) of a valid number outside mainland China."""
        region = self.r.choice(("GB", "DE", "FR", "US", "IN", "JP", "AU", "BR", "SG", "NL", "ES", "IT"))
        example = phonenumbers.example_number_for_type(
            region, self.r.choice((phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)))
        national = str(example.national_number)
        keep = max(2, len(national) - 5)
        number = example
        for _ in range(100):  # a random tail that keeps the number valid; the example number itself if none does
            candidate = phonenumbers.parse(f"+{example.country_code}{national[:keep]}"
                                           f"{self.digits(len(national) - keep)}", None)
            if phonenumbers.is_valid_number(candidate):
                number = candidate
                break
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        style = self.r.random()
        if style < 0.5:
            written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        elif style < 0.75:  # country code, a space, the national number in one long group
            written = f"+{number.country_code} {phonenumbers.national_significant_number(number)}"
        else:
            written = e164
        return written, e164

    # cards
    def card(self, prefix: str, length: int) -> str:
        body = prefix + self.digits(length - len(prefix) - 1)
        return body + luhn.calc_check_digit(body)

    def unionpay(self) -> str:
        return self.card(self.r.choice(("622202", "622848", "621700", "622588", "623668")), self.r.choice((16, 19)))

    def intl_card(self) -> tuple[str, str]:
        brand, prefix, length = self.r.choice((
            ("visa", "4", 16), ("visa", "4", 16), ("mastercard", str(self.r.randint(51, 55)), 16),
            ("mastercard", str(self.r.randint(2221, 2720)), 16), ("amex", self.r.choice(("34", "37")), 15),
            ("discover", "6011", 16), ("jcb", str(self.r.randint(3528, 3589)), 16), ("diners", "36", 14),
            ("diners", "38", 14), ("maestro", self.r.choice(("6759", "5018", "6304", "5020")), self.r.choice((16, 19))),
            ("dankort", "5019", 16),
        ))
        return brand, self.card(prefix, length)

    @staticmethod
    def grouped(number: str) -> str:
        if len(number) == 15:  # Amex 4-6-5
            return f"{number[:4]} {number[4:10]} {number[10:]}"
        if len(number) == 14:  # Diners 4-6-4
            return f"{number[:4]} {number[4:10]} {number[10:]}"
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4))

    # IBANs
    def iban(self, country: str | None = None, bban: str | None = None) -> str:
        country = country or self.r.choice(("DE", "GB", "FR", "NL", "ES", "IT", "BE", "CH", "NO", "AT", "PL"))
        if bban is None:
            structure = numdb.get("iban").info(country)[0][1]["bban"]
            bban = ""
            import re

            for count, kind in re.findall(r"(\d+)!([nac])", structure):
                alphabet = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                            "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}[kind]
                bban += "".join(self.r.choice(alphabet) for _ in range(int(count)))
        value = country + iban.calc_check_digits(country + "00" + bban) + bban
        return value if iban.is_valid(value) else self.iban()

    def iban_no_mobile(self) -> str:
        """A valid Norwegian IBAN whose 11-digit BBAN is also a mainland mobile number."""
        while True:
            mobile = self.mobile()
            value = "NO" + iban.calc_check_digits("NO00" + mobile) + mobile
            if iban.is_valid(value):  # Norway's own MOD 11 over the account number holds about 1 time in 11
                return value

    # others
    def ssn(self) -> str:
        while True:
            value = f"{self.r.randint(1, 899):03d}{self.r.randint(1, 99):02d}{self.r.randint(1, 9999):04d}"
            if ssn.is_valid(value):
                return value

    def ipv4(self) -> str:
        while True:
            value = ipaddress.IPv4Address(self.r.getrandbits(32))
            if value.is_global:
                return str(value)

    def ipv6(self) -> str:
        while True:
            value = ipaddress.IPv6Address((0x2 << 124) | self.r.getrandbits(125) >> 1)
            if value.is_global and value in ipaddress.ip_network("2000::/3"):
                return value.compressed

    def hkid(self) -> str:
        letters = self.r.choice(("A", "B", "C", "K", "P", "Z", "XA"))
        body = letters + self.digits(6)
        padded = body if len(body) == 8 else " " + body
        total = sum(w * (36 if c == " " else (ord(c) - 55 if c.isalpha() else int(c)))
                    for w, c in zip(range(9, 1, -1), padded, strict=True))
        check = (11 - total % 11) % 11
        return f"{body}({'A' if check == 10 else check})"

    def uscc(self) -> str:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        while True:
            code, _f, _l = self.r.choice(self.divisions)
            body = "91" + code + "".join(self.r.choice(alphabet) for _ in range(9))
            value = body + uscc.calc_check_digit(body)
            if not value.isdigit() and uscc.is_valid(value):
                return value


FIRST = ("zhang", "wang", "li", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu", "anna", "john", "maria", "peter",
         "sven", "lukas", "emma", "olivia", "raj", "priya", "kenji", "yuki", "carlos", "sofia", "ahmed", "fatima")
LAST = ("wei", "fang", "na", "min", "jing", "lei", "jun", "yan", "tao", "ming", "schmidt", "mueller", "smith",
        "garcia", "rossi", "dubois", "tanaka", "sato", "kumar", "sharma", "silva", "jensen", "nielsen", "novak")
MAIL_DOMAINS = ("gmail.com", "outlook.com", "qq.com", "163.com", "126.com", "yahoo.co.jp", "hotmail.co.uk",
                "web.de", "example-bank.com.cn", "customer-corp.de", "acme.io", "mail.ru", "icloud.com")
IDN_DOMAINS = ("xn--55qx5d.xn--fiqs8s", "xn--mller-kva.de", "xn--bcher-kva.ch", "xn--80aswg.xn--p1ai",
               "xn--fiq228c.xn--fiqs8s", "shop.xn--kpry57d", "xn--e1afmkfd.xn--80adxhks")
ROLE_LOCALS = ("noreply", "no-reply", "alerts", "git", "postmaster", "support", "notifications", "mailer-daemon",
               "donotreply", "admin", "info", "billing", "security", "abuse", "webmaster")
ROLE_DOMAINS = ("github.com", "gitlab.com", "accounts.google.com", "shop-example.com", "acme-corp.com", "vendor.io",
                "bank-example.com.cn", "mail.example.org", "service.alibaba.com")
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


# -- the log -----------------------------------------------------------------------------------------------


class LogWriter:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.v = Values(self.r)
        self.t = datetime(2024, 11, 24, 8, 0, 0)

    # small helpers
    def ts(self) -> str:
        return f"{self.t:%Y-%m-%d %H:%M:%S}.{self.r.randrange(1000):03d}"

    def hex(self, n: int) -> str:
        return f"{self.r.getrandbits(4 * n):0{n}x}"

    def order(self) -> str:
        return f"{self.t:%Y%m%d%H%M%S}{self.r.randrange(10**6):06d}"

    def private_ip(self) -> str:
        r = self.r
        return r.choice((f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}",
                         f"192.168.{r.randrange(256)}.{r.randrange(1, 255)}",
                         f"172.{r.randrange(16, 32)}.{r.randrange(256)}.{r.randrange(1, 255)}"))

    def amount(self) -> str:
        return f"{self.r.randrange(1, 10**7) / 100:.2f}"

    def head(self, level: str = "INFO", logger: str = "c.e.o.service.OrderService") -> Line:
        thread = self.r.choice(("http-nio-8080-exec-", "pool-3-thread-", "kafka-consumer-"))
        return Line().text(f"{self.ts()} {level} [{thread}{self.r.randrange(1, 200)}] {logger} - "
                           f"traceId={self.hex(32)} ")

    def email(self) -> str:
        r = self.r
        local = r.choice((f"{r.choice(FIRST)}.{r.choice(LAST)}", f"{r.choice(FIRST)}{r.choice(LAST)}{r.randrange(100)}",
                          f"{r.choice(FIRST)}_{r.choice(LAST)}", f"{r.choice(FIRST)}+shop"))
        return f"{local}@{r.choice(MAIL_DOMAINS)}"

    # -- noise (no personal data) ----------------------------------------------------------------
    def noise(self) -> Line:
        r = self.r
        kind = r.randrange(8)
        if kind == 0:
            return Line().text(
                f'{self.private_ip()} - - [{self.t:%d/%b/%Y:%H:%M:%S} +0800] "GET /api/v1/orders/{self.order()}'
                f'?page={r.randrange(1, 50)} HTTP/1.1" {r.choice((200, 201, 404, 500))} {r.randrange(100, 10**6)} '
                f'"-" "okhttp/4.12.0" rt={r.random():.3f} upstream={self.private_ip()}:8080 req_id={self.hex(32)}')
        if kind in (1, 2):
            return self.head().text(
                f"spanId={self.hex(16)} orderNo={self.order()} amount={self.amount()} "
                f"latency_ms={r.randrange(1, 3000)} ts={int(self.t.timestamp() * 1000) + r.randrange(1000)} "
                f"{r.choice(('订单创建成功，等待支付', '支付回调处理完成', '库存扣减失败，重试', 'request ok'))}")
        if kind == 3:
            ids = ", ".join(str(r.choice((r.randrange(1, 10**8), r.randrange(10**17, 19 * 10**17)))) for _ in range(5))
            return Line().text(f"{self.ts()} [sql] SELECT id, sku, qty FROM t_item WHERE id IN ({ids}) LIMIT 100")
        if kind == 4:
            return Line().text(
                f"{self.ts()} ERROR [main] com.example.pay.PayController - 处理失败 orderNo={self.order()}\n"
                f"java.lang.IllegalStateException: balance check failed for batch {self.order()} at offset "
                f"{r.randrange(10**12)}\n\tat com.example.pay.PayController.handle(PayController.java:"
                f"{r.randrange(20, 900)})")
        if kind == 5:
            return Line().text(json.dumps({
                "ts": self.t.isoformat(timespec="milliseconds"), "event": r.choice(("click", "pay", "refund")),
                "orderId": self.order(), "sku": f"SKU-{r.randrange(10**6):06d}", "qty": r.randrange(1, 9),
                "price": float(self.amount()), "deviceId": self.hex(16),
                "sha256": hashlib.sha256(r.randbytes(8)).hexdigest(), "seq": r.randrange(10**9),
                "epoch": int(self.t.timestamp() * 10**9) + r.randrange(10**9)}, separators=(",", ":")))
        if kind == 6:
            return Line().text(f"{self.ts()} INFO consumed topic=order-events partition={r.randrange(12)} "
                               f"offset={r.randrange(10**12)} key={self.order()} lag={r.randrange(10**4)}")
        return Line().text(f"{self.t:%Y-%m-%dT%H:%M:%S}Z metrics jvm.gc.pause={r.random():.9f} "
                           f"lat={30 + r.random():.11f} lng={120 + r.random():.11f} build=v2.{r.randrange(20)}."
                           f"{r.randrange(100)} commit={self.hex(40)}")

    # -- planted values --------------------------------------------------------------------------
    def planted(self) -> Line:
        r = self.r
        entity = r.choice(("CN_RESIDENT_ID", "CN_RESIDENT_ID", "CN_MOBILE_NUMBER", "CN_MOBILE_NUMBER", "CN_BANK_CARD",
                           "CREDIT_CARD", "CREDIT_CARD", "EMAIL_ADDRESS", "EMAIL_ADDRESS", "PHONE_NUMBER",
                           "PHONE_NUMBER", "IBAN_CODE", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "IP_ADDRESS",
                           "CN_PASSPORT", "HK_ID", "CN_USCC"))
        if r.random() < 0.2:
            return self.plant_elsewhere()
        return getattr(self, f"plant_{entity.lower()}")(entity)

    def plant_elsewhere(self) -> Line:
        """Values in places the forms above do not cover: URLs, mail headers, pipe-separated records,
        forwarded-for headers, ``tel:`` URIs, a parenthesised country code."""
        r = self.r
        v = self.v
        style = r.randrange(7)
        if style == 0:
            line = Line().text(f'{self.private_ip()} - - [{self.t:%d/%b/%Y:%H:%M:%S} +0800] "GET /api/sms/send?')
            return line.text("mobile=").value(v.mobile(), "CN_MOBILE_NUMBER", PLANTED, "url-query").text(
                '&tpl=LOGIN HTTP/1.1" 200 12')
        if style == 1:
            name = f"{r.choice(FIRST)}.{r.choice(LAST)}"
            return self.head().text(f'mail From: "{name.title()}" <').value(
                f"{name}@{r.choice(MAIL_DOMAINS)}", "EMAIL_ADDRESS", PLANTED, "header").text("> subject=order")
        if style == 2:
            line = Line().text(f"{self.ts()}|KYC|{r.choice(('张伟', '王芳', '李娜'))}|")
            line.value(v.rid(), "CN_RESIDENT_ID", PLANTED, "pipe").text("|")
            return line.value(v.mobile(), "CN_MOBILE_NUMBER", PLANTED, "pipe").text("|北京市")
        if style == 3:
            return self.head().text("X-Forwarded-For: ").value(v.ipv4(), "IP_ADDRESS", PLANTED, "xff").text(
                f", {self.private_ip()}")
        if style == 4:
            m = v.mobile()
            return self.head().text('<a href="tel:').value(f"+86{m}", "CN_MOBILE_NUMBER", PLANTED, "tel-uri").text(
                '">call</a>')
        if style == 5:
            written, _e164 = v.phone()
            code, _, rest = written[1:].partition(" ")
            if not rest:
                return self.plant_phone_number("PHONE_NUMBER")
            return self.head().text("hotline ").value(f"(+{code}) {rest}", "PHONE_NUMBER", PLANTED, "paren-cc")
        brand, card = v.intl_card()
        return Line().text('{"event":"auth","pan":"').value(card, "CREDIT_CARD", PLANTED, f"json-pan-{brand}").text(
            f'","amount":{self.amount()}}}')

    def plant_cn_resident_id(self, entity: str) -> Line:
        r = self.r
        moved = r.random() < 0.2
        value = self.v.rid(moved=moved)
        kind = "moved" if moved else "plain"
        style = r.randrange(5)
        if style == 0:
            written = value.translate(FULLWIDTH)
            return self.head().text("实名认证通过，身份证号").value(written, entity, PLANTED, "fullwidth").text(
                "，请核对")
        if style == 1:
            return Line().text('{"event":"kyc","idCard":"').value(value, entity, PLANTED, kind).text(
                f'","orderId":"{self.order()}"}}')
        if style == 2:
            return self.head("WARN").text("实名认证失败 身份证号=").value(value, entity, PLANTED, kind).text(
                " 原因=照片不清晰")
        if style == 3:
            return self.head().text("kyc check passed for ").value(value.lower(), entity, PLANTED, kind).text(" ok")
        return self.head().text("sfzh=").value(value, entity, PLANTED, kind).text(f" amount={self.amount()}")

    def plant_cn_mobile_number(self, entity: str) -> Line:
        r = self.r
        m = self.v.mobile()
        style = r.randrange(6)
        if style == 0:
            return self.head().text("[sms] send verify code to mobile=").value(m, entity, PLANTED, "kv").text(
                " tpl=LOGIN_OTP")
        if style == 1:
            return self.head().text("用户绑定手机号").value(m, entity, PLANTED, "cn").text("成功")
        if style == 2:
            return Line().text('{"event":"register","phone":"').value(m, entity, PLANTED, "json").text(
                f'","channel":"app","seq":{r.randrange(10**9)}}}')
        if style == 3:
            return self.head().text("callback to ").value(f"+86 {m[:3]} {m[3:7]} {m[7:]}", entity, PLANTED,
                                                          "intl").text(" failed")
        if style == 4:
            return self.head().text("联系电话：").value(m.translate(FULLWIDTH), entity, PLANTED, "fullwidth")
        return self.head().text("courier will call ").value(m, entity, PLANTED, "prose").text(" before delivery")

    def plant_cn_bank_card(self, entity: str) -> Line:
        card = self.v.unionpay()
        if self.r.random() < 0.5:
            return self.head().text("绑卡成功 卡号=").value(card, entity, PLANTED, "plain")
        return self.head().text("bind card no ").value(Values.grouped(card), entity, PLANTED, "grouped").text(" ok")

    def plant_credit_card(self, entity: str) -> Line:
        brand, card = self.v.intl_card()
        written = Values.grouped(card) if self.r.random() < 0.4 else card
        return self.head().text(f"charge {brand} card ").value(written, entity, PLANTED, brand).text(
            f" amount={self.amount()} currency=EUR")

    def plant_email_address(self, entity: str) -> Line:
        r = self.r
        if r.random() < 0.15:
            value = f"{r.choice(FIRST)}.{r.choice(LAST)}@{r.choice(IDN_DOMAINS)}"
            kind = "idn"
        else:
            value = self.email()
            kind = "plain"
        if r.random() < 0.5:
            return self.head().text("password reset mail sent to ").value(value, entity, PLANTED, kind)
        return Line().text('{"event":"signup","email":"').value(value, entity, PLANTED, kind).text('","ok":true}')

    def plant_phone_number(self, entity: str) -> Line:
        written, e164 = self.v.phone()
        roll = self.r.random()
        if roll < 0.2:  # the national format, next to a phone word
            number = phonenumbers.parse(e164, None)
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            if not national.isdigit():
                return self.head().text("customer tel: ").value(national, entity, PLANTED, "national").text(" ok")
        if roll < 0.6:
            return self.head().text("customer callback number ").value(written, entity, PLANTED, "intl").text(
                " queued")
        return Line().text('{"event":"contact","tel":"').value(written, entity, PLANTED, "json").text('"}')

    def plant_iban_code(self, entity: str) -> Line:
        r = self.r
        value = self.v.iban()
        style = r.randrange(6)
        if style == 0:
            return self.head().text("sepa transfer to ").value(value, entity, PLANTED, "plain").text(
                f" amount={self.amount()}")
        if style == 1:
            return self.head().text("payout iban ").value(Values.grouped(value), entity, PLANTED, "grouped")
        if style == 2:
            dashed = "-".join(value[i:i + 4] for i in range(0, len(value), 4))
            return self.head().text("IBAN: ").value(dashed, entity, PLANTED, "dashed")
        if style == 3:
            return self.head().text("iban=").value(value.lower(), entity, PLANTED, "lowercase")
        if style == 4:
            irregular = f"{value[:2]} {value[2:4]} {value[4:10]} {value[10:]}"
            return self.head().text("beneficiary IBAN ").value(irregular, entity, PLANTED, "irregular").text(
                " verified")
        if r.random() < 0.5:  # a Norwegian account number that reads like a mainland mobile
            value = self.v.iban_no_mobile()
        return self.head().text("IBAN ").value(f"{value[:2]} {value[2:4]} {value[4:]}", entity, PLANTED,
                                               "spaced").text(" ok")

    def plant_us_ssn(self, entity: str) -> Line:
        value = self.v.ssn()
        style = self.r.randrange(3)
        if style == 0:
            return self.head().text("w9 received ").value(f"{value[:3]}-{value[3:5]}-{value[5:]}", entity, PLANTED,
                                                          "dashed")
        separator = " " if style == 1 else "."
        return self.head().text("ssn ").value(separator.join((value[:3], value[3:5], value[5:])), entity, PLANTED,
                                              "spaced" if style == 1 else "dotted")

    def plant_ip_address(self, entity: str) -> Line:
        if self.r.random() < 0.5:
            return self.head().text("login ok client_ip=").value(self.v.ipv4(), entity, PLANTED, "ipv4")
        return self.head().text("login ok client_ip=").value(self.v.ipv6(), entity, PLANTED, "ipv6").text(
            " ua=okhttp")

    def plant_cn_passport(self, entity: str) -> Line:
        value = "E" + self.v.digits(8)
        return self.head().text("签证申请 护照号：").value(value, entity, PLANTED, "e")

    def plant_hk_id(self, entity: str) -> Line:
        return self.head().text("HKID ").value(self.v.hkid(), entity, PLANTED, "paren")

    def plant_cn_uscc(self, entity: str) -> Line:
        return self.head().text("商户入驻 统一社会信用代码=").value(self.v.uscc(), entity, PLANTED, "kv")

    # -- masked values ---------------------------------------------------------------------------
    def masked(self) -> Line:
        r = self.r
        v = self.v
        m = v.mobile()
        card = v.unionpay()
        rid = v.rid()
        ib = v.iban("DE")
        name = r.choice(FIRST)
        forms = (  # (entity, kind, words before, masked value)
            ("EMAIL_ADDRESS", "email-1", "mail ", f"{r.choice(FIRST)[0]}***@{r.choice(MAIL_DOMAINS)}"),
            ("EMAIL_ADDRESS", "email-first-last", "mail ", f"{name[0]}****{name[-1]}@outlook.com"),
            ("CN_MOBILE_NUMBER", "mobile", "手机 ", f"{m[:3]}****{m[7:]}"),
            ("CN_BANK_CARD", "card-x", "卡号 ", f"{card[:4]} {card[4:6]}XX XXXX {card[-4:]}"),
            ("CN_BANK_CARD", "card-star", "card ", f"{card[:4]} **** **** {card[-4:]}"),
            ("CN_BANK_CARD", "card-plain", "卡号 ", f"{card[:6]}{'*' * (len(card) - 10)}{card[-4:]}"),
            ("CN_RESIDENT_ID", "rid-year", "身份证 ", f"{rid[:6]}****{rid[10:]}"),
            ("CN_RESIDENT_ID", "rid-date", "身份证 ", f"{rid[:6]}********{rid[14:]}"),
            ("IBAN_CODE", "iban-grouped", "iban ", f"{ib[:4]} **** **** **** {ib[16:20]} {ib[20:]}"),
            ("IP_ADDRESS", "ip-stars", "client_ip=", f"{r.randrange(1, 224)}.{r.randrange(256)}.*.*"),
            ("IP_ADDRESS", "ip-x", "client_ip=", f"{r.randrange(1, 224)}.x.x.x"),
            ("US_SSN", "ssn", "ssn ", f"***-**-{v.ssn()[-4:]}"),
            ("CREDIT_CARD", "visa", "card ", f"4{v.digits(5)}******{v.digits(4)}"),
        )
        entity, kind, before, value = r.choice(forms)
        return self.head().text(f"masked display {before}").value(value, entity, MASKED, kind).text(" shown")

    # -- decoys ----------------------------------------------------------------------------------
    def decoy(self) -> Line:
        """A value that looks personal and is not (``decoy_<kind>`` writes each kind; repeated kinds are drawn
        more often)."""
        kind = self.r.choice(("duration", "duration", "role-mailbox", "role-mailbox", "payment-ref", "payment-ref",
                              "invalid-iban-card", "invalid-iban-mobile", "rid-as-card", "rid-as-uscc", "rid-abolished",
                              "ssa-invalid-ssn", "private-ip", "private-ipv6", "id-field", "size-field", "not-an-email",
                              "luhn-request-id"))
        return getattr(self, f"decoy_{kind.replace('-', '_')}")(self.head(), kind)

    def decoy_id_field(self, line: Line, kind: str) -> Line:
        key = self.r.choice(("orderNo", "trade_no", "serial_no", "traceId", "msgId", "biz_id", "out_trade_no"))
        return line.text(f"{key}=").value(self.r.choice((self.v.unionpay(), self.v.rid(), self.v.mobile())), "",
                                          DECOY, kind)

    def decoy_size_field(self, line: Line, kind: str) -> Line:
        key = self.r.choice(("file_size", "amount_fen", "count", "total_bytes", "fileSize", "epoch_ms", "offset"))
        return Line().text(f'{{"{key}":').value(self.v.mobile(), "", DECOY, kind).text("}")

    def decoy_not_an_email(self, line: Line, kind: str) -> Line:
        value = self.r.choice(("icon@2x.png", "root@localhost", "deploy@build.internal", "nginx@sha256",
                               "core@7.24.0", f"svc-{self.hex(4)}@cluster.local"))
        return line.text("asset ").value(value, "", DECOY, kind).text(" loaded")

    def decoy_luhn_request_id(self, line: Line, kind: str) -> Line:
        return line.text("x-request-id: ").value(self.v.card("4", 16), "", DECOY, kind)

    def decoy_duration(self, line: Line, kind: str) -> Line:
        r = self.r
        key = r.choice(("duration_ns", "elapsed_ms", "latency_us", "gc_pause_ns", "queue_time_us", "durationNs",
                        "elapsedMs", "resp_bytes", "uptime_ms"))
        if r.random() < 0.3:
            return Line().text(f'{{"event":"rpc","{key}":').value(self.v.mobile(), "", DECOY, kind).text(
                f',"ok":true,"seq":{r.randrange(10**6)}}}')
        return line.text(f"rpc done {key}=").value(self.v.mobile(), "", DECOY, kind).text(" status=OK")

    def decoy_role_mailbox(self, line: Line, kind: str) -> Line:
        local, domain = self.r.choice(ROLE_LOCALS), self.r.choice(ROLE_DOMAINS)
        if local == "git":
            return line.text("git clone ").value(f"git@{domain}", "", DECOY, kind).text(":org/repo.git done")
        return line.text("mail from=").value(f"{local}@{domain}", "", DECOY, kind).text(" queued")

    def decoy_payment_ref(self, line: Line, kind: str) -> Line:
        key = self.r.choice(("payment_ref", "txn", "order_id", "paymentRef", "txn_ref", "payment_reference"))
        ref = self.v.card(self.r.choice(("4", "51", "52", "6011")), 16)
        return line.text(f"settled {key}=").value(ref, "", DECOY, kind).text(f" amount={self.amount()}")

    def decoy_invalid_iban_card(self, line: Line, kind: str) -> Line:
        card = self.v.card("4", 16)
        bad = f"DE{self.r.randrange(100):02d}{card}{self.v.digits(2)}"
        if iban.is_valid(bad):
            bad = bad[:2] + f"{(int(bad[2:4]) + 1) % 100:02d}" + bad[4:]
        return line.text("iban ").value(Values.grouped(bad), "", DECOY, kind).text(" rejected")

    def decoy_invalid_iban_mobile(self, line: Line, kind: str) -> Line:
        mobile = self.v.mobile()
        bad = next(f"NO{(start + n) % 100:02d}{mobile}" for start in [self.r.randrange(100)] for n in range(100)
                   if not iban.is_valid(f"NO{(start + n) % 100:02d}{mobile}"))
        return line.text("account ").value(f"NO {bad[2:4]} {bad[4:]}", "", DECOY, kind).text(" rejected")

    def decoy_rid_as_card(self, line: Line, kind: str) -> Line:
        return line.text("ref ").value(self.v.rid_as_card(), "", DECOY, kind).text(" ok")

    def decoy_rid_as_uscc(self, line: Line, kind: str) -> Line:
        return line.text("code ").value(self.v.rid_as_uscc(), "", DECOY, kind).text(" ok")

    def decoy_rid_abolished(self, line: Line, kind: str) -> Line:
        return line.text("证件 ").value(self.v.rid_abolished(), "", DECOY, kind).text(" 校验失败")

    def decoy_ssa_invalid_ssn(self, line: Line, kind: str) -> Line:
        r = self.r
        value = r.choice(("078-05-1120", "219-09-9999", f"666-{r.randrange(1, 99):02d}-{r.randrange(1, 9999):04d}",
                          f"000-{r.randrange(1, 99):02d}-{r.randrange(1, 9999):04d}",
                          f"{r.randrange(1, 899):03d}-00-{r.randrange(1, 9999):04d}"))
        return line.text("ssn ").value(value, "", DECOY, kind).text(" invalid")

    def decoy_private_ip(self, line: Line, kind: str) -> Line:
        return line.text("client_ip=").value(self.private_ip(), "", DECOY, kind)

    def decoy_private_ipv6(self, line: Line, kind: str) -> Line:
        value = self.r.choice(("fe80::1ff:fe23:4567:890a",
                               f"fd{self.hex(2)}:{self.hex(4)}:{self.hex(4)}::{self.hex(3)}", "::1",
                               f"2001:db8::{self.hex(4)}", f"fe80::{self.hex(4)}:{self.hex(4)}"))
        return line.text("client_ip=").value(value, "", DECOY, kind).text(" ua=curl")

    # -- the file --------------------------------------------------------------------------------
    def write(self, path: Path, size: int, shares: tuple[float, float, float]) -> list[Span]:
        planted, masked, decoy = shares
        spans: list[Span] = []
        offset = 0
        choosers: list[tuple[float, Callable[[], Line]]] = [
            (planted, self.planted), (planted + masked, self.masked), (planted + masked + decoy, self.decoy)]
        with open(path, "wb") as out:
            while offset < size:
                self.t += timedelta(milliseconds=self.r.randrange(1, 2000))
                roll = self.r.random()
                make = next((f for limit, f in choosers if roll < limit), self.noise)
                line = make()
                for start, end, entity, role, kind in line.spans:
                    spans.append(Span(offset + start, offset + end, entity, role, kind))
                out.write(b"".join(line.parts) + b"\n")
                offset += line.size + 1
        return spans


# -- scoring -------------------------------------------------------------------------------------------


def chunks(path: Path) -> Iterator[tuple[bytes, int, int]]:
    """(data, line offset, byte offset) of line-aligned chunks of about CHUNK bytes."""
    line_offset = byte_offset = 0
    carry = b""
    with open(path, "rb") as handle:
        while True:
            block = handle.read(CHUNK)
            if not block:
                break
            data = carry + block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            yield data[:cut], line_offset, byte_offset
            line_offset += data.count(b"\n", 0, cut)
            byte_offset += cut
            carry = data[cut:]
    if carry:
        yield carry, line_offset, byte_offset


def score(path: Path, spans: list[Span], backend: str) -> dict:
    """Detection over the log at ``path`` judged against its ``spans``: each match is a planted value of its
    entity found (once), or a false positive named by what it overlaps; planted values not found are missed."""
    matches, masked_counted, elapsed = detect(path, backend)
    spans.sort(key=lambda s: s.start)
    starts = [s.start for s in spans]
    matched: set[int] = set()
    tp: Counter[str] = Counter()
    reported: Counter[str] = Counter()
    false_positives: Counter[tuple[str, str]] = Counter()
    for start, end, entity in matches:
        reported[entity] += 1
        overlapping = _overlapping(spans, starts, start, end)
        hit = next((i for i in overlapping
                    if spans[i].role == PLANTED and spans[i].entity == entity and i not in matched), None)
        if hit is not None:
            matched.add(hit)
            tp[entity] += 1
        else:
            false_positives[(entity, _cause(spans[overlapping[0]]) if overlapping else "noise")] += 1

    planted: Counter[str] = Counter(span.entity for span in spans if span.role == PLANTED)
    missed: Counter[tuple[str, str]] = Counter(
        (span.entity, span.kind) for i, span in enumerate(spans) if span.role == PLANTED and i not in matched)
    masked_planted: Counter[str] = Counter(span.entity for span in spans if span.role == MASKED)
    return {"elapsed": elapsed, "tp": tp, "reported": reported, "planted": planted, "false_positives": false_positives,
            "missed": missed, "masked_planted": masked_planted, "masked_counted": masked_counted}


def detect(path: Path, backend: str) -> tuple[list[tuple[int, int, str]], Counter[str], float]:
    """(start, end, entity) of every match in the log, masked values counted per entity, and the seconds taken."""
    from scanner.detection.engine import Detector
    from scanner.model import Chunk

    detector = Detector(use_hyperscan=backend == "hyperscan")
    started = time.perf_counter()
    matches = []
    masked_counted: Counter[str] = Counter()
    for data, line_offset, byte_offset in chunks(path):
        result = detector.scan(Chunk(data, line_offset=line_offset, byte_offset=byte_offset))
        matches.extend((m.start, m.end, m.entity_type) for m in result.matches)
        masked_counted.update(result.masked)
    return matches, masked_counted, time.perf_counter() - started


def _overlapping(spans: list[Span], starts: list[int], start: int, end: int) -> list[int]:
    """Indexes of the spans (sorted by start, no longer than 256 bytes) that overlap ``start:end``, last first."""
    found = []
    index = bisect.bisect_right(starts, end) - 1
    while index >= 0 and spans[index].end > start - 256:
        span = spans[index]
        if span.start < end and start < span.end:
            found.append(index)
        index -= 1
    return found


def _cause(span: Span) -> str:
    """What a false positive overlaps: ``role:kind``, with the entity of a planted value."""
    return f"{span.role}:{span.kind}" + (f" ({span.entity})" if span.role == PLANTED else "")


def ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def report(result: dict, size: int) -> bool:
    tp, reported, planted = result["tp"], result["reported"], result["planted"]
    entities = sorted(set(planted) | set(reported))
    print(f"detection over {size / MiB:.1f} MiB in {result['elapsed']:.1f} s")
    print(f"{'entity':<18}{'planted':>9}{'reported':>10}{'correct':>9}{'precision':>11}{'recall':>8}"
          f"{'masked':>9}{'counted':>9}")
    for entity in entities:
        print(f"{entity:<18}{planted[entity]:>9}{reported[entity]:>10}{tp[entity]:>9}"
              f"{ratio(tp[entity], reported[entity]):>11.3f}{ratio(tp[entity], planted[entity]):>8.3f}"
              f"{result['masked_planted'][entity]:>9}{result['masked_counted'][entity]:>9}")
    total_tp, total_rep, total_planted = sum(tp.values()), sum(reported.values()), sum(planted.values())
    precision, recall = ratio(total_tp, total_rep), ratio(total_tp, total_planted)
    masked_total = sum(result["masked_planted"].values())
    masked_ok = sum(min(result["masked_counted"][e], n) for e, n in result["masked_planted"].items())
    print(f"{'overall':<18}{total_planted:>9}{total_rep:>10}{total_tp:>9}{precision:>11.3f}{recall:>8.3f}"
          f"{masked_total:>9}{masked_ok:>9}")
    if result["false_positives"]:
        print("false positives by cause:")
        for (entity, cause), n in result["false_positives"].most_common(25):
            print(f"  {n:>7}  {entity:<18} {cause}")
    if result["missed"]:
        print("missed planted values by kind:")
        for (entity, kind), n in result["missed"].most_common(25):
            print(f"  {n:>7}  {entity:<18} {kind}")
    ok = precision >= TARGET_PRECISION and recall >= TARGET_RECALL
    print(f"targets: precision >= {TARGET_PRECISION}, recall >= {TARGET_RECALL}: {'met' if ok else 'NOT met'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=float, default=50.0, help="size of the generated log (default 50)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--planted", type=float, default=0.10, help="share of lines with a planted value")
    parser.add_argument("--masked", type=float, default=0.03, help="share of lines with a masked value")
    parser.add_argument("--decoys", type=float, default=0.08, help="share of lines with a decoy")
    parser.add_argument("--backend", choices=("hyperscan", "re"), default="hyperscan")
    parser.add_argument("--keep", type=Path, help="write the log and its truth (spans, no values) into this directory")
    args = parser.parse_args(argv)
    size = int(args.size_mib * MiB)
    with tempfile.TemporaryDirectory(prefix="privaudit-precision-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "app.log"
        started = time.perf_counter()
        spans = LogWriter(args.seed).write(path, size, (args.planted, args.masked, args.decoys))
        print(f"generated {path.stat().st_size / MiB:.1f} MiB, {len(spans)} planted/masked/decoy spans "
              f"in {time.perf_counter() - started:.1f} s (seed {args.seed})")
        if args.keep:
            with open(directory / "truth.jsonl", "w", encoding="utf-8") as out:
                for span in spans:
                    out.write(json.dumps(span.__dict__) + "\n")
        by_role = defaultdict(int)
        for span in spans:
            by_role[span.role] += 1
        print("spans: " + ", ".join(f"{n} {role}" for role, n in sorted(by_role.items())))
        ok = report(score(path, spans, args.backend), path.stat().st_size)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
