"""Generate a large, deterministic synthetic corpus of application logs and CSV exports.

The corpus imitates what a privacy scan meets on a real file share: mostly noise that *looks* like
identifiers (timestamps, trace/span IDs, UUIDs, hex digests, 18-19-digit order numbers, IPs,
latencies, JSON payloads, Chinese log text) and a realistic share of lines carrying personal data
(CN resident IDs, CN mobiles, UnionPay cards, e-mails, international phones, IBANs, US SSNs), some
of them masked the way well-behaved services log them. Every identifier is fictitious but passes
its checksum (ISO 7064 MOD 11-2, Luhn, mod-97), so it exercises the validators, not just the regexes.

Layout (sizes are shares of ``--size-mib``, default 200 MiB)::

    bench/corpus/
      logs/app-big.log            50 %  one big log: split into parts and scanned in parallel
      logs/order-service-N.log    20 %  four service logs
      logs/gateway-access.log      8 %  nginx-style access log
      logs/events.jsonl            7 %  JSON lines
      exports/customers-N.csv     10 %  customer exports (Chinese and English columns)
      exports/transactions.csv     5 %  payment exports, cards mostly masked

The same seed gives byte-identical files. Usage::

    python bench/generate_corpus.py [--size-mib 200] [--out bench/corpus] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from stdnum.cn import ric

MiB = 1024 * 1024
DEFAULT_OUT = Path(__file__).resolve().parent / "corpus"

# Division codes that stdnum's GB/T 2260 table knows (checked at start-up).
REGIONS = ("110101", "110105", "110108", "120101", "310104", "320102", "330106", "370102", "440106",
           "440305", "440304", "420106", "610113", "350203", "210102", "230103", "430104")
MOBILE_PREFIXES = ("138", "139", "186", "150", "177", "199", "135", "158", "189", "136", "137", "185")
UNIONPAY_BINS = ("622202", "622848", "621700", "622588", "621226", "623668", "625807", "622700")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
PINYIN = ("zhang.wei", "li.na", "wang.fang", "liu.yang", "chen.jie", "yang.min", "zhao.lei", "huang.li",
          "zhou.qiang", "wu.xiuying", "j.smith", "m.garcia", "a.mueller", "s.tanaka", "k.o.brien")
MAIL_DOMAINS = ("example.com", "example.cn", "example.org", "mail.example.net", "corp.example.com.cn")
CITIES = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "重庆")
SERVICES = ("order-service", "payment-gateway", "user-center", "risk-engine", "notify-worker", "loan-core")
THREADS = ("http-nio-8080-exec-{}", "pool-3-thread-{}", "kafka-consumer-{}", "scheduler-{}", "grpc-worker-{}")
LOGGERS = ("c.b.o.service.OrderService", "c.b.p.gateway.PayController", "c.b.u.UserFacadeImpl",
           "c.b.r.RuleEvaluator", "o.s.w.s.DispatcherServlet", "c.b.n.SmsSender", "c.b.l.LoanApplyHandler")
PATHS = ("/api/v1/orders", "/api/v1/users/profile", "/api/v2/pay/notify", "/health", "/api/v1/loans/apply",
         "/static/js/app.8f3a2c.js", "/api/v1/cards/bind", "/api/v1/sms/verify", "/metrics")
UAS = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15",
       "okhttp/4.12.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36",
       "Dalvik/2.1.0 (Linux; U; Android 14; M2012K11AC)", "curl/8.5.0")
CN_MESSAGES = ("用户登录成功", "订单创建成功", "支付回调处理完成", "风控规则命中，进入人工审核", "短信发送成功",
               "库存扣减失败，重试中", "查询用户信息", "绑卡请求已受理", "贷款申请提交", "缓存未命中，回源查询")
EN_MESSAGES = ("request completed", "cache miss, loading from db", "retrying downstream call",
               "connection pool exhausted, waiting", "scheduled job finished", "token refreshed",
               "slow query detected", "message acknowledged", "circuit breaker half-open")
INTL_PHONES = ("+44 20 7946 {:04d}", "+1 202-555-{:04d}", "+49 30 901820{:02d}", "+33 1 99 00 {:02d} {:02d}",
               "+61 491 570 {:03d}", "+852 5123 {:04d}", "+65 6123 {:04d}")


# -- fictitious identifiers that pass their checksums ----------------------------------------------


def luhn_complete(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return partial + str((10 - total % 10) % 10)


class Ids:
    """Identifier factory with a finite customer base, as in real logs the same people recur."""

    def __init__(self, rng: random.Random, population: int = 40_000) -> None:
        self.rng = rng
        self.people = [self._person() for _ in range(population)]

    def _person(self) -> dict[str, str]:
        r = self.rng
        return {
            "ric": self.resident_id(),
            "mobile": self.mobile(),
            "card": self.unionpay(),
            "email": f"{r.choice(PINYIN)}{r.randint(1, 9999)}@{r.choice(MAIL_DOMAINS)}",
            "name": r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.randint(1, 2))),
            "phone": self.intl_phone(),
            "iban": self.iban(),
            "ssn": self.ssn(),
            "city": r.choice(CITIES),
        }

    def person(self) -> dict[str, str]:
        return self.rng.choice(self.people)

    def resident_id(self) -> str:
        r = self.rng
        p17 = (f"{r.choice(REGIONS)}{r.randint(1950, 2005)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
               f"{r.randint(0, 999):03d}")
        return p17 + ric.calc_check_digit(p17 + "0")

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"

    def unionpay(self) -> str:
        length = self.rng.choice((16, 16, 16, 19))
        body = self.rng.choice(UNIONPAY_BINS) + "".join(self.rng.choice("0123456789") for _ in range(length - 7))
        return luhn_complete(body)

    def intl_phone(self) -> str:
        fmt = self.rng.choice(INTL_PHONES)
        n = fmt.count("{")
        return fmt.format(*(self.rng.randint(0, 99) for _ in range(n)))

    def iban(self) -> str:
        r = self.rng
        country, bban = r.choice((
            ("DE", f"{r.randint(10_000_000, 99_999_999)}{r.randint(0, 9_999_999_999):010d}"),
            ("GB", f"WEST{r.randint(100_000, 999_999)}{r.randint(0, 99_999_999):08d}"),
            ("FR", f"{r.randint(10_000, 99_999)}{r.randint(10_000, 99_999)}{r.randint(0, 10**11 - 1):011d}"
                   f"{r.randint(10, 99)}"),
        ))
        digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
        return f"{country}{98 - int(digits) % 97:02d}{bban}"

    def ssn(self) -> str:
        r = self.rng
        area = r.randint(100, 665)
        return f"{area:03d}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}"

    # masked display forms, as services that follow the rules log them
    def masked_mobile(self, m: str) -> str:
        return m[:3] + "****" + m[-4:]

    def masked_card(self, c: str) -> str:
        return c[:6] + "*" * (len(c) - 10) + c[-4:]

    def masked_ric(self, i: str) -> str:
        return i[:6] + "********" + i[-4:]

    def masked_email(self, e: str) -> str:
        local, _, domain = e.partition("@")
        return f"{local[0]}***@{domain}"


# -- noise ------------------------------------------------------------------------------------------


class Noise:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.clock = 1_762_000_000.0  # 2025-11-01, advances with every line

    def ts(self) -> str:
        self.clock += self.rng.random() * 0.02
        t = time.gmtime(self.clock)
        return time.strftime("%Y-%m-%d %H:%M:%S", t) + f".{int(self.clock * 1000) % 1000:03d}"

    def iso(self) -> str:
        self.clock += self.rng.random() * 0.02
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.clock)) + f".{int(self.clock * 1000) % 1000:03d}+08:00"

    def hexs(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def uuid(self) -> str:
        h = self.hexs(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def order_no(self) -> str:
        return f"{time.strftime('%Y%m%d', time.gmtime(self.clock))}{self.rng.randint(0, 10**11 - 1):011d}"

    def ip(self) -> str:
        r = self.rng
        return r.choice((f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
                         f"172.16.{r.randint(0, 255)}.{r.randint(1, 254)}",
                         f"203.0.113.{r.randint(1, 254)}", f"198.51.100.{r.randint(1, 254)}"))

    def level(self) -> str:
        return self.rng.choices(("INFO ", "DEBUG", "WARN ", "ERROR"), (70, 20, 7, 3))[0]


class LogWriter:
    """Application log lines; ``pii_share`` of them carry an identifier, about a third of those masked."""

    def __init__(self, rng: random.Random, ids: Ids, noise: Noise, service: str, pii_share: float = 0.06) -> None:
        self.r, self.ids, self.n, self.service, self.pii_share = rng, ids, noise, service, pii_share
        self.noise_kinds: list[Callable[[], str]] = [
            self.http, self.http, self.sql, self.cn_text, self.cn_text, self.en_text, self.json_noise,
            self.mq, self.hashline, self.stack,
        ]
        self.pii_kinds: list[Callable[[], str]] = [
            self.pii_json, self.pii_kv, self.pii_kv, self.pii_cn, self.pii_sms, self.pii_card, self.pii_intl,
        ]

    def prefix(self) -> str:
        n, r = self.n, self.r
        return (f"{n.ts()} {n.level()} [{r.choice(THREADS).format(r.randint(1, 200))}] {r.choice(LOGGERS)} "
                f"traceId={n.hexs(32)} spanId={n.hexs(16)} - ")

    def line(self) -> str:
        if self.r.random() < self.pii_share:
            return self.prefix() + self.r.choice(self.pii_kinds)()
        return self.prefix() + self.r.choice(self.noise_kinds)()

    # noise
    def http(self) -> str:
        n, r = self.n, self.r
        return (f"{r.choice(('GET', 'POST', 'PUT'))} {r.choice(PATHS)}/{r.randint(1, 10**9)} status={r.choice((200, 200, 200, 201, 302, 404, 500))} "
                f"latency_ms={r.randint(1, 3000)} bytes={r.randint(100, 10**6)} client={n.ip()} requestId={n.uuid()}")

    def sql(self) -> str:
        n, r = self.n, self.r
        return (f"SQL took {r.randint(1, 900)}ms: SELECT id, status, amount FROM t_order WHERE order_no='{n.order_no()}' "
                f"AND user_id={r.randint(10**6, 10**9)} LIMIT {r.randint(1, 100)}")

    def cn_text(self) -> str:
        n, r = self.n, self.r
        return (f"{r.choice(CN_MESSAGES)}，订单号={n.order_no()}，金额={r.randint(1, 99999)}.{r.randint(0, 99):02d}元，"
                f"渠道={r.choice(('APP', 'H5', '小程序', '网银'))}，耗时{r.randint(1, 999)}毫秒")

    def en_text(self) -> str:
        n, r = self.n, self.r
        return f"{r.choice(EN_MESSAGES)} attempt={r.randint(1, 5)} elapsed={r.random() * 1000:.3f}ms node={n.ip()}:{r.randint(1024, 65535)}"

    def json_noise(self) -> str:
        n, r = self.n, self.r
        return ('response={"code":0,"msg":"success","data":{"orderNo":"' + n.order_no() + '","amount":'
                + f'{r.randint(1, 99999)}.{r.randint(0, 99):02d},"createdAt":{int(n.clock * 1000)},"version":{r.randint(1, 40)},'
                + f'"sign":"{n.hexs(64)}","nonce":"{n.hexs(16)}"' + "}}")

    def mq(self) -> str:
        n, r = self.n, self.r
        return (f"consumed topic=order-events partition={r.randint(0, 31)} offset={r.randint(10**8, 10**11)} "
                f"key={n.order_no()} msgId={n.hexs(24).upper()} ts={int(n.clock * 1000)}")

    def hashline(self) -> str:
        n = self.n
        return f"file uploaded sha256={n.hexs(64)} md5={n.hexs(32)} objectKey=upload/{n.uuid()}.jpg size={self.r.randint(10**4, 10**7)}"

    def stack(self) -> str:
        r = self.r
        return (f"java.net.SocketTimeoutException: Read timed out\n\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:{r.randint(100, 999)})"
                f"\n\tat com.bank.core.client.HttpClient.execute(HttpClient.java:{r.randint(10, 500)})")

    # identifiers (plain or masked)
    def _masked(self) -> bool:
        return self.r.random() < 0.35

    def pii_json(self) -> str:
        p, ids = self.ids.person(), self.ids
        masked = self._masked()
        mobile = ids.masked_mobile(p["mobile"]) if masked else p["mobile"]
        idno = ids.masked_ric(p["ric"]) if masked else p["ric"]
        return ('request body={"userId":' + str(self.r.randint(10**6, 10**9)) + f',"name":"{p["name"]}","mobile":"{mobile}",'
                f'"idCard":"{idno}","city":"{p["city"]}","channel":"APP"' + "}")

    def pii_kv(self) -> str:
        p, ids, r = self.ids.person(), self.ids, self.r
        masked = self._masked()
        kind = r.randrange(4)
        if kind == 0:
            return f"user login ok uid={r.randint(10**6, 10**9)} phone={ids.masked_mobile(p['mobile']) if masked else p['mobile']} ip={self.n.ip()}"
        if kind == 1:
            return f"send mail to={ids.masked_email(p['email']) if masked else p['email']} template=STATEMENT_MONTHLY status=queued"
        if kind == 2:
            return f"kyc check passed cert_type=ID_CARD cert_no={ids.masked_ric(p['ric']) if masked else p['ric']} score={r.random():.2f}"
        return f"customer={p['email']} updated profile fields=[address,nickname] by=self"

    def pii_cn(self) -> str:
        p, ids = self.ids.person(), self.ids
        masked = self._masked()
        return (f"实名认证请求：姓名={p['name']}，身份证号={ids.masked_ric(p['ric']) if masked else p['ric']}，"
                f"手机号={ids.masked_mobile(p['mobile']) if masked else p['mobile']}，结果=通过")

    def pii_sms(self) -> str:
        p, r = self.ids.person(), self.r
        return f"短信验证码已发送 手机 {p['mobile']} 模板=SMS_{r.randint(100000, 999999)} 回执={self.n.hexs(20)}"

    def pii_card(self) -> str:
        p, ids = self.ids.person(), self.ids
        if self._masked() or self.r.random() < 0.3:
            return f"bind card ok cardNo={ids.masked_card(p['card'])} bank=ICBC holder={p['name']}"
        return f"bind card request cardNo={p['card']} bank=ICBC holder={p['name']} 卡号校验通过"

    def pii_intl(self) -> str:
        p, r = self.ids.person(), self.r
        kind = r.randrange(3)
        if kind == 0:
            return f"overseas remittance beneficiary iban={p['iban']} amount={r.randint(100, 99999)} EUR"
        if kind == 1:
            return f"contact updated tel: {p['phone']} country=intl"
        return f"W-9 received ssn={p['ssn'] if r.random() < 0.6 else '***-**-' + p['ssn'][-4:]} form=W9"


def access_line(r: random.Random, n: Noise, ids: Ids) -> str:
    path = r.choice(PATHS)
    query = ""
    roll = r.random()
    if roll < 0.02:
        query = f"?mobile={ids.person()['mobile']}&code={r.randint(100000, 999999)}"
    elif roll < 0.03:
        query = f"?email={ids.person()['email']}"
    elif roll < 0.3:
        query = f"?page={r.randint(1, 50)}&size=20&_={int(n.clock * 1000)}"
    return (f'{n.ip()} - - [{n.ts()} +0800] "{r.choice(("GET", "POST"))} {path}{query} HTTP/1.1" '
            f'{r.choice((200, 200, 200, 304, 404, 502))} {r.randint(100, 500000)} "-" "{r.choice(UAS)}" '
            f"rt={r.random():.3f} upstream={n.ip()}:8080 req_id={n.hexs(32)}")


def event_line(r: random.Random, n: Noise, ids: Ids) -> str:
    base = (f'{{"ts":"{n.iso()}","service":"{r.choice(SERVICES)}","event":"{r.choice(("page_view", "click", "order_paid", "login", "logout"))}",'
            f'"traceId":"{n.uuid()}","deviceId":"{n.hexs(16)}","seq":{r.randint(1, 10**9)},"durationMs":{r.randint(1, 5000)}')
    if r.random() < 0.05:
        p = ids.person()
        if r.random() < 0.4:
            return base + f',"user":{{"mobile":"{ids.masked_mobile(p["mobile"])}","email":"{ids.masked_email(p["email"])}"}}}}'
        return base + f',"user":{{"mobile":"{p["mobile"]}","email":"{p["email"]}","idNo":"{p["ric"]}"}}}}'
    return base + f',"props":{{"screen":"home","ab":"{r.choice("ABC")}","latency":{r.random():.4f}}}}}'


def customer_rows(r: random.Random, n: Noise, ids: Ids, english: bool) -> tuple[str, Callable[[], str]]:
    if english:
        header = "customer_id,full_name,email,phone,ssn,iban,created_at,segment"

        def row() -> str:
            p = ids.person()
            return (f"C{r.randint(10**7, 10**8 - 1)},{p['name']},{p['email']},{p['phone']},{p['ssn']},{p['iban']},"
                    f"{n.iso()},{r.choice(('retail', 'vip', 'sme'))}")
    else:
        header = "客户编号,姓名,身份证号,手机号,邮箱,卡号,城市,开户日期"

        def row() -> str:
            p = ids.person()
            masked = r.random() < 0.15
            return (f"{r.randint(10**9, 10**10 - 1)},{p['name']},{ids.masked_ric(p['ric']) if masked else p['ric']},"
                    f"{ids.masked_mobile(p['mobile']) if masked else p['mobile']},{p['email']},"
                    f"{ids.masked_card(p['card']) if masked else p['card']},{p['city']},{n.ts()[:10]}")
    return header, row


def transaction_rows(r: random.Random, n: Noise, ids: Ids) -> tuple[str, Callable[[], str]]:
    header = "txn_id,order_no,amount,currency,card_no,merchant,status,created_at,trace_id"

    def row() -> str:
        p = ids.person()
        card = p["card"] if r.random() < 0.1 else ids.masked_card(p["card"])
        return (f"T{n.hexs(20)},{n.order_no()},{r.randint(1, 99999)}.{r.randint(0, 99):02d},CNY,{card},"
                f"M{r.randint(10**5, 10**6)},{r.choice(('SUCCESS', 'SUCCESS', 'FAILED', 'REFUND'))},{n.ts()},{n.uuid()}")
    return header, row


def write_file(path: Path, target_bytes: int, make_line: Callable[[], str], header: str | None = None) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(path, "wb") as out:
        if header:
            data = (header + "\n").encode("utf-8")
            out.write(data)
            written += len(data)
        while written < target_bytes:
            block = "\n".join(make_line() for _ in range(500)) + "\n"
            data = block.encode("utf-8")
            out.write(data)
            written += len(data)
    return written


def generate(out: Path, size_mib: float, seed: int = 7, verbose: bool = True) -> dict[str, int]:
    total = int(size_mib * MiB)
    if out.exists():
        shutil.rmtree(out)
    sizes: dict[str, int] = {}
    ids = Ids(random.Random(seed + 1))
    plan: list[tuple[str, float, Callable[[random.Random, Noise], tuple[str | None, Callable[[], str]]]]] = [
        ("logs/app-big.log", 0.50, lambda r, n: (None, LogWriter(r, ids, n, "loan-core").line)),
        *[(f"logs/order-service-{i}.log", 0.05,
           lambda r, n, i=i: (None, LogWriter(r, ids, n, SERVICES[i], pii_share=0.04 + 0.01 * i).line))
          for i in range(4)],
        ("logs/gateway-access.log", 0.08, lambda r, n: (None, lambda: access_line(r, n, ids))),
        ("logs/events.jsonl", 0.07, lambda r, n: (None, lambda: event_line(r, n, ids))),
        ("exports/customers-cn.csv", 0.06, lambda r, n: customer_rows(r, n, ids, english=False)),
        ("exports/customers-intl.csv", 0.04, lambda r, n: customer_rows(r, n, ids, english=True)),
        ("exports/transactions.csv", 0.05, lambda r, n: transaction_rows(r, n, ids)),
    ]
    for name, share, factory in plan:
        started = time.perf_counter()
        r = random.Random(f"{seed}/{name}")
        header, make_line = factory(r, Noise(r))
        sizes[name] = write_file(out / name, int(total * share), make_line, header)
        if verbose:
            print(f"  {name:32s} {sizes[name] / MiB:8.1f} MiB  ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=float, default=200, help="total corpus size in MiB (default 200)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"generating {args.size_mib:g} MiB into {args.out}", file=sys.stderr)
    sizes = generate(args.out, args.size_mib, args.seed)
    print(f"done: {sum(sizes.values()) / MiB:.1f} MiB in {len(sizes)} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
