"""Fictitious customer data and the fixture schema shared by the database connector and rule tests.

Every identifier is generated so that it passes its checksum (GB 11643 for resident IDs, Luhn for
cards) but belongs to no one: the sequence numbers are synthetic and the birth dates fixed.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from typing import Any

from stdnum import luhn
from stdnum.cn import ric

ROLE_PREFIX = "ps_"


def resident_id(n: int) -> str:
    """A valid 18-character resident ID (area 110101, born 1980-01-01 + n days mod 28)."""
    p17 = f"11010119800{1 + n % 9:01d}{10 + n % 18:02d}{n % 1000:03d}"
    return p17 + ric.calc_check_digit(p17 + "0")


def invalid_resident_id(n: int) -> str:
    """An 18-digit number with a wrong check character (an order number look-alike)."""
    valid = resident_id(n)
    bad = "0" if valid[-1] != "0" else "1"
    return valid[:-1] + bad


def bank_card(n: int) -> str:
    partial = f"622202{n:09d}"
    return partial + luhn.calc_check_digit(partial)


def mobile(n: int) -> str:
    return f"138{n:08d}"


def order_no(n: int) -> str:
    """18 digits whose last digit never satisfies GB 11643 (fails the checksum on purpose)."""
    return invalid_resident_id(n + 500)


def masked_id(n: int) -> str:
    valid = resident_id(n)
    return valid[:6] + "********" + valid[-4:]


def bcrypt_like(n: int) -> str:
    rnd = random.Random(n)
    alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "$2b$12$" + "".join(rnd.choice(alphabet) for _ in range(53))


def sha256_hex(n: int) -> str:
    return hashlib.sha256(f"secret-{n}".encode()).hexdigest()


ROWS = 40


PG_ROLES = ("ps_analyst_group", "ps_alice", "ps_noinherit", "ps_support", "ps_auth", "ps_scanner")


def setup_postgres(admin: object, dbname: str) -> None:
    """Create ``dbname`` with the fixture schema. ``admin`` is an autocommit superuser connection.

    * ``customers``: plaintext names, resident IDs and mobiles; bank cards pgcrypto-encrypted;
      RLS enabled; SELECT to ``ps_analyst_group`` (``ps_alice`` inherits it, ``ps_noinherit`` does
      not), column grant (name, mobile) to ``ps_support``.
    * ``credentials``: plaintext passwords and CVVs (C3), bcrypt and SHA-256 hashes; no RLS;
      SELECT to ``ps_auth``.
    * ``contact_log``: masked IDs, free-text notes with a few IDs; SELECT to PUBLIC.
    * ``orders``: 18-digit order numbers that fail the resident-ID checksum.
    """
    run = admin.execute  # type: ignore[attr-defined]
    run(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    for role in PG_ROLES:
        exists = run("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if exists:
            run(f"DROP OWNED BY {role} CASCADE")
            run(f"DROP ROLE {role}")
    run(f'CREATE DATABASE "{dbname}"')
    run("CREATE ROLE ps_analyst_group NOLOGIN")
    run("CREATE ROLE ps_alice LOGIN INHERIT IN ROLE ps_analyst_group")
    run("CREATE ROLE ps_noinherit LOGIN NOINHERIT IN ROLE ps_analyst_group")
    run("CREATE ROLE ps_support LOGIN")
    run("CREATE ROLE ps_auth LOGIN")
    run("CREATE ROLE ps_scanner LOGIN PASSWORD 'scanner-secret-pw' IN ROLE pg_read_all_data")


def populate_postgres(conn: object) -> None:
    """Tables and grants inside the fixture database (``conn``: autocommit superuser connection)."""
    run = conn.execute  # type: ignore[attr-defined]
    run("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    run("""CREATE TABLE customers (id serial PRIMARY KEY, name text, id_card_no varchar(18), mobile text,
           card_no_enc bytea, order_no varchar(18), created_at timestamptz DEFAULT now())""")
    run("COMMENT ON COLUMN customers.name IS '客户姓名'")
    for n in range(ROWS):
        run("INSERT INTO customers (name, id_card_no, mobile, card_no_enc, order_no) VALUES "
            "(%s, %s, %s, pgp_sym_encrypt(%s, 'fixture-key'), %s)",
            (f"客户{n}", resident_id(n), mobile(n), bank_card(n), order_no(n)))
    run("ALTER TABLE customers ENABLE ROW LEVEL SECURITY")
    run("GRANT SELECT ON customers TO ps_analyst_group")
    run("GRANT SELECT (name, mobile) ON customers TO ps_support")

    run("CREATE TABLE credentials (user_id int PRIMARY KEY, password text, cvv text, password_hash text, "
        "password_sha text)")
    for n in range(ROWS):
        run("INSERT INTO credentials VALUES (%s, %s, %s, %s, %s)",
            (n, f"Passw0rd!{n}", f"{100 + n}", bcrypt_like(n), sha256_hex(n)))
    run("GRANT SELECT ON credentials TO ps_auth")

    run("CREATE TABLE contact_log (id serial PRIMARY KEY, masked_id_card text, notes text)")
    for n in range(ROWS):
        note = f"客户来电, 身份证 {resident_id(n)} 已核实" if n % 8 == 0 else f"客户来电咨询第{n}号业务"
        run("INSERT INTO contact_log (masked_id_card, notes) VALUES (%s, %s)", (masked_id(n), note))
    run("GRANT SELECT ON contact_log TO PUBLIC")

    run("CREATE VIEW customer_contacts AS SELECT name, mobile FROM customers")
    run("GRANT SELECT ON customer_contacts TO ps_alice")
    run("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC")

    run("CREATE TABLE orders (order_no varchar(18) PRIMARY KEY, amount numeric(12,2))")
    run("REVOKE SELECT ON orders FROM PUBLIC")
    for n in range(ROWS):
        run("INSERT INTO orders VALUES (%s, %s)", (order_no(n), n * 10))
    run("ANALYZE")


PG_DB = "ps_fixture"


def postgres_fixture_target(server: object) -> str:
    """Create the fixture database on ``server`` (tests.servers.PostgresServer) and return its target URI."""
    import psycopg

    with server.admin_connect() as admin:  # type: ignore[attr-defined]
        setup_postgres(admin, PG_DB)
    with psycopg.connect(server.dsn(PG_DB), password=server.password, autocommit=True) as conn:  # type: ignore[attr-defined]
        populate_postgres(conn)
    return server.dsn(PG_DB)  # type: ignore[attr-defined, no-any-return]


MY_DB = "ps_app"
MY_ACCOUNTS = ("'ps_app'@'%'", "'ps_report'@'10.0.0.5'", "'ps_cols'@'127.0.0.1'", "'ps_batch'@'10.0.0.%'",
               "'ps_scan'@'127.0.0.1'")
MY_ROLES = ("ps_pii_role",)
MY_SCAN_PASSWORD = "my-scan-secret-pw"


def mariadb_fixture_target(server: object) -> str:
    """Create the MariaDB fixture schema and accounts on ``server``; return ``mysql://ps_scan@.../ps_app``.

    * ``customers``: plaintext resident IDs and mobiles, AES-encrypted cards (VARBINARY), masked IDs.
    * ``credentials``: plaintext passwords, bcrypt hashes.
    * ``orders``: 18-digit numbers failing the checksum.
    * ``'ps_app'@'%'``: SELECT ON ps_app.* (wildcard host); ``'ps_report'@'10.0.0.5'``: via role
      ``ps_pii_role`` (SELECT ON ps_app.customers); ``'ps_cols'@'127.0.0.1'``: column grant on
      customers(mobile); ``'ps_batch'@'10.0.0.%'``: SELECT on orders only; ``'ps_scan'``: the scanner.
    """
    conn = server.admin_connect()  # type: ignore[attr-defined]
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {MY_DB}")
            for account in MY_ACCOUNTS:
                cur.execute(f"DROP USER IF EXISTS {account}")
            for role in MY_ROLES:
                cur.execute(f"DROP ROLE IF EXISTS {role}")
            cur.execute(f"CREATE DATABASE {MY_DB}")
            cur.execute(f"USE {MY_DB}")
            cur.execute("""CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY,
                           name VARCHAR(64) COMMENT '客户姓名',
                           id_card_no VARCHAR(18), mobile VARCHAR(20), card_enc VARBINARY(64), id_masked VARCHAR(18),
                           notes TEXT)""")
            for n in range(ROWS):
                note = f"来电客户身份证 {resident_id(n)}" if n % 10 == 0 else "一般咨询"
                cur.execute("INSERT INTO customers (name, id_card_no, mobile, card_enc, id_masked, notes) VALUES "
                            "(%s, %s, %s, AES_ENCRYPT(%s, 'fixture-key'), %s, %s)",
                            (f"客户{n}", resident_id(n), mobile(n), bank_card(n), masked_id(n), note))
            cur.execute("CREATE TABLE credentials (user_id INT PRIMARY KEY, password VARCHAR(64), "
                        "password_hash VARCHAR(64))")
            for n in range(ROWS):
                cur.execute("INSERT INTO credentials VALUES (%s, %s, %s)", (n, f"Passw0rd!{n}", bcrypt_like(n)))
            cur.execute("CREATE TABLE orders (order_no VARCHAR(18) PRIMARY KEY, amount DECIMAL(12,2))")
            for n in range(ROWS):
                cur.execute("INSERT INTO orders VALUES (%s, %s)", (order_no(n), n))
            cur.execute("CREATE USER 'ps_app'@'%' IDENTIFIED BY 'app-pw-1'")
            cur.execute(f"GRANT SELECT ON {MY_DB}.* TO 'ps_app'@'%'")
            cur.execute("CREATE ROLE ps_pii_role")
            cur.execute(f"GRANT SELECT ON {MY_DB}.customers TO ps_pii_role")
            cur.execute("CREATE USER 'ps_report'@'10.0.0.5' IDENTIFIED BY 'report-pw-1'")
            cur.execute("GRANT ps_pii_role TO 'ps_report'@'10.0.0.5'")
            cur.execute("CREATE USER 'ps_cols'@'127.0.0.1' IDENTIFIED BY 'cols-pw-1'")
            cur.execute(f"GRANT SELECT (mobile) ON {MY_DB}.customers TO 'ps_cols'@'127.0.0.1'")
            cur.execute("CREATE USER 'ps_batch'@'10.0.0.%' IDENTIFIED BY 'batch-pw-1'")
            cur.execute(f"GRANT SELECT ON {MY_DB}.orders TO 'ps_batch'@'10.0.0.%'")
            cur.execute("CREATE USER 'ps_scan'@'127.0.0.1' IDENTIFIED BY %s", (MY_SCAN_PASSWORD,))
            cur.execute(f"GRANT SELECT ON {MY_DB}.* TO 'ps_scan'@'127.0.0.1'")
            cur.execute("GRANT SELECT ON mysql.* TO 'ps_scan'@'127.0.0.1'")
            cur.execute("ANALYZE TABLE customers, credentials, orders")
            cur.fetchall()
    finally:
        conn.close()
    return f"mysql://ps_scan@{server.host}:{server.port}/{MY_DB}"  # type: ignore[attr-defined]


def cli_scan_with_progress(monkeypatch: Any, target: str, on_progress: Callable[[int, int], None]) -> Any:
    """``privaudit scan TARGET --format sarif --jobs 1`` through click's CliRunner (stdout and stderr apart),
    with ``on_progress(done, total)`` called after each table.

    Outside a terminal the CLI draws no progress bar; the callback slot it hands to ``run_scan`` is where a
    test drops a table or a session between two tables, as the ``run_scan``-level tests do.
    """
    from click.testing import CliRunner

    import scanner.cli

    monkeypatch.setattr(scanner.cli, "_progress_callback", lambda *_: (None, on_progress))
    return CliRunner().invoke(scanner.cli.main, ["scan", target, "--format", "sarif", "--jobs", "1"],
                              prog_name="privaudit", catch_exceptions=False)


def sarif_results(stdout: str) -> tuple[set[str], list[dict[str, Any]], dict[str, Any]]:
    """From a SARIF log on stdout: the logical names with results, the tool notifications, the first
    target's coverage summary (resources, itemsExamined, failed)."""
    run = json.loads(stdout)["runs"][0]
    located = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in run["results"]
               if r["locations"][0].get("logicalLocations")}
    invocation = run["invocations"][0]
    return located, invocation.get("toolExecutionNotifications", []), invocation["properties"]["targets"][0]
