"""A small, realistic demo estate: what a bank's file share tends to look like.

Every identifier is fictitious but passes its checksum (computed here with python-stdnum), so the
demo exercises real validation: Chinese and English customer exports, application logs with and
without masking, a rotated log, an encrypted export, a world-readable file, a GB18030 text file
and a SQLite database.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from stdnum import iban, luhn
from stdnum.cn import ric


def resident_id(prefix17: str) -> str:
    # stdnum expects a placeholder where the check character goes
    return prefix17 + ric.calc_check_digit(prefix17 + "0")


def division_periods() -> list[tuple[str, int, int]]:
    """(code, first year, last year) of every GB/T 2260 county code in stdnum's table (``cn/loc.dat``),
    within 1900-2020: what makes generated resident IDs valid for every region, not only Beijing's."""
    import re

    import stdnum.cn

    found: list[tuple[str, int, int]] = []
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
            first, last = (int(years[1] or 1900), int(years[2] or 2020)) if years else (1900, 2020)
            if min(last, 2020) >= max(first, 1900):
                found.append((province + code, max(first, 1900), min(last, 2020)))
    return found


def card(prefix: str, length: int) -> str:
    body = prefix + "0" * (length - len(prefix) - 1)
    body = body[: length - 1]
    return body + luhn.calc_check_digit(body)


def card_from(partial: str) -> str:
    return partial + luhn.calc_check_digit(partial)


def make_iban(country: str, bban: str) -> str:
    return country + iban.calc_check_digits(country + "00" + bban) + bban


CUSTOMERS = [
    ("张伟", resident_id("11010519850312001"), "13812345678", card_from("622202100011223344"), "zhang.wei@example.com"),
    ("王芳", resident_id("44030419900701002"), "13923456789", card_from("622848001234567890"), "wang.fang@example.cn"),
    ("李娜", resident_id("31010419781120003"), "15034567890", card_from("621700123456789012"), "li.na@example.org"),
    ("刘洋", resident_id("51010719951231004"), "18645678901", card_from("622588112233445566"), "liu.yang@example.net"),
]


def demo_targets(root: Path) -> list[str]:
    """What ``privaudit demo`` scans: the share, and the SQLite database on it through its own connector
    (column classification and file permissions; the files connector only counts it as a binary)."""
    return [str(root), f"sqlite://{quote(str((root / 'data' / 'crm.sqlite').absolute()))}"]


def create_demo_estate(root: Path) -> Path:
    """Write the demo estate under ``root`` and return it."""
    root.mkdir(parents=True, exist_ok=True)
    exports, logs, secure, data, docs = (root / d for d in ("exports", "logs", "secure", "data", "docs"))
    for d in (exports, logs, secure, data, docs):
        d.mkdir(exist_ok=True)

    rows = ["姓名,身份证号,手机号,银行卡号,开户行"]
    rows += [f"{n},{i},{m},{c},北京分行" for n, i, m, c, _ in CUSTOMERS]
    zh_export = exports / "客户名单_2024Q4.csv"
    zh_export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    os.chmod(zh_export, 0o644)

    en_rows = ["customer_id,email,mobile,card_no,iban,order_no"]
    ibans = [make_iban("DE", "370400440532013000"), make_iban("GB", "NWBK60161331926819")]
    for index, (_, _, mobile, card_no, email) in enumerate(CUSTOMERS):
        en_rows.append(
            f"C{1000 + index},{email},+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]},{card_no},"
            f"{ibans[index % 2]},20241124{153000 + index:06d}{index:04d}"
        )
    en_export = exports / "analytics_export.csv"
    en_export.write_text("\n".join(en_rows) + "\n", encoding="utf-8")
    os.chmod(en_export, 0o600)

    app_lines = []
    for index, (_, rid, mobile, card_no, _) in enumerate(CUSTOMERS):
        app_lines.append(
            f"2024-11-24T15:30:{index:02d}.123Z INFO  trace=7f3a9c2e-1b4d-4e8f-9a6b-{index:012d} "
            f"login ok user_id={88000 + index} mobile={mobile} latency_ms=12"
        )
        app_lines.append(
            f"2024-11-24T15:31:{index:02d}.456Z DEBUG payment req={{\"cardNo\": \"{card_no}\", \"idCard\": \"{rid}\", "
            f"\"amount\": 1999.00, \"orderNo\": \"{110105198503120011 + index}\"}}"
        )
    app_lines.append(
        "2024-11-24T15:32:00.000Z INFO  healthcheck ok build=20241124153000 sha=9f86d081884c7d659a2feaa0c55ad015"
    )
    (logs / "app.log").write_text("\n".join(app_lines) + "\n", encoding="utf-8")

    masked_lines = [
        f"2024-11-24T16:00:{i:02d}Z INFO  transfer card={c[:6]}{'*' * (len(c) - 10)}{c[-4:]} "
        f"mobile={m[:3]}****{m[-4:]} "
        f"id={r[:6]}********{r[-4:]}"
        for i, (_, r, m, c, _) in enumerate(CUSTOMERS)
    ]
    (logs / "gateway.log").write_text("\n".join(masked_lines) + "\n", encoding="utf-8")

    with gzip.open(logs / "app.log.1.gz", "wt", encoding="utf-8") as rotated:
        rotated.write(f"2024-10-01T08:00:00Z WARN  retry sms to {CUSTOMERS[0][2]} for customer {CUSTOMERS[0][0]}\n")

    (secure / "customers_full.csv.age").write_bytes(
        b"age-encryption.org/v1\n-> X25519 Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6\n"
        b"3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n--- bm90IGEgcmVhbCBtYWMgYnV0IGxvb2tzIGxpa2Ugb25l\n"
        + bytes(range(256)) * 4
    )

    gbk = docs / "客户回访记录.txt"
    gbk.write_bytes(
        f"回访记录：客户{CUSTOMERS[1][0]}，联系电话{CUSTOMERS[1][2]}，已确认地址变更。\n".encode("gb18030")
    )
    (docs / "README.md").write_text("# 共享盘说明\n\n本目录存放对外报表模板，不应包含客户信息。\n", encoding="utf-8")

    db_path = data / "crm.sqlite"
    if db_path.exists():
        db_path.unlink()
    with sqlite3.connect(db_path) as db:
        db.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, id_card_no TEXT, mobile TEXT, "
            "password_hash TEXT, notes TEXT)"
        )
        db.executemany(
            "INSERT INTO customers (name, id_card_no, mobile, password_hash, notes) VALUES (?, ?, ?, ?, ?)",
            [
                (n, r, m, "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5rS0Uq6eT5KmkB7dQ8pR9C1xV4yU0mW", f"VIP客户 联系人手机 {m}")
                for n, r, m, _, _ in CUSTOMERS
            ],
        )
    db.close()
    # explicit modes, whatever the umask: the Chinese export and the database are the world-readable
    # mistakes the demo shows; everything else is readable by owner and group only
    for path in root.rglob("*"):
        if path.is_file():
            os.chmod(path, 0o600 if path == en_export else 0o640)
    os.chmod(zh_export, 0o644)
    os.chmod(db_path, 0o644)
    return root
