"""Benchmark: crawl + sample + classify + grants on a PostgreSQL database with 1,000 generated tables.

Why: a bank's core database has thousands of tables; the connector must stay a bounded-cost scan
(one catalog crawl, one bounded sample per table, grants from a handful of catalog queries) so the
semiannual review can run it on every database. Target (issue 3): <= 60 s for 1,000 tables.

The server is started exactly as the test suite does it (``tests.servers._start_postgres``: initdb
into a temp dir, loopback, scram password) and stopped at the end. Tables mix plaintext IDs and
mobiles, masked values, free text and harmless columns; every 50th table has 20,000 rows so that
TABLESAMPLE is exercised; some tables are granted to PUBLIC or to roles.

Run: ``python bench/bench_databases.py [--tables 1000] [--rows 200] [--jobs 0]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DBNAME = "bench"


def _start_server() -> tuple[object, Path]:
    from tests import servers

    base = Path(tempfile.mkdtemp(prefix=servers.BASE_PREFIX, dir="/tmp"))
    base.chmod(0o755)
    (base / servers.OWNER_FILE).write_text(f"{os.getpid()}\n")
    return servers._start_postgres(base), base


def _generate(server: object, tables: int, rows: int) -> float:
    import psycopg

    from tests.connectors import dbfixtures as fx

    started = time.perf_counter()
    with server.admin_connect() as admin:  # type: ignore[attr-defined]
        admin.execute(f"CREATE DATABASE {DBNAME}")
        admin.execute("CREATE ROLE bench_reader LOGIN")
        admin.execute("CREATE ROLE bench_group NOLOGIN")
        admin.execute("GRANT bench_group TO bench_reader")
    with psycopg.connect(server.dsn(DBNAME), password=server.password, autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute("CREATE TABLE seed (n int PRIMARY KEY, idc text, mobile text, masked text, note text)")
        with conn.cursor().copy("COPY seed FROM STDIN") as copy:
            for n in range(rows):
                note = f"客户来电 身份证 {fx.resident_id(n)}" if n % 20 == 0 else f"咨询第{n}号业务"
                copy.write_row((n, fx.resident_id(n), fx.mobile(n), fx.masked_id(n), note))
        with conn.transaction():
            for index in range(tables):
                name = f"t_{index:04d}"
                kind = index % 4
                if kind == 0:
                    conn.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, id_card_no text, mobile text, notes text)")
                    conn.execute(f"INSERT INTO {name} SELECT n, idc, mobile, note FROM seed")
                elif kind == 1:
                    conn.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, masked_id text, amount numeric)")
                    conn.execute(f"INSERT INTO {name} SELECT n, masked, n * 1.5 FROM seed")
                elif kind == 2:
                    conn.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, status text, created_at timestamptz)")
                    conn.execute(f"INSERT INTO {name} SELECT n, 'ok', now() FROM seed")
                else:
                    conn.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, contact text, remark text)")
                    conn.execute(f"INSERT INTO {name} SELECT n, mobile, note FROM seed")
                if index % 50 == 0:
                    conn.execute(f"INSERT INTO {name} (id) SELECT g FROM generate_series({rows}, 20000) g")
                if index % 10 == 0:
                    conn.execute(f"GRANT SELECT ON {name} TO PUBLIC")
                elif index % 10 == 1:
                    conn.execute(f"GRANT SELECT ON {name} TO bench_group")
        conn.execute("DROP TABLE seed")
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: all cores)")
    args = parser.parse_args()

    os.environ.setdefault("PRIVAUDIT_FINGERPRINT_KEY", "privaudit-bench-key")
    server, base = _start_server()
    try:
        generated = _generate(server, args.tables, args.rows)
        print(f"generated {args.tables} tables x {args.rows}+ rows in {generated:.1f} s")
        os.environ["PGPASSWORD"] = server.password  # type: ignore[attr-defined]
        os.environ["PGSSLMODE"] = "disable"
        from connectors.postgresql import PostgreSQLConnector
        from scanner.connector import ScanOptions
        from scanner.scan import run_scan

        target = server.dsn(DBNAME)  # type: ignore[attr-defined]
        options = ScanOptions(jobs=args.jobs)
        connector = PostgreSQLConnector(target, options)
        t0 = time.perf_counter()
        discovered = sum(1 for _ in connector.discover())
        t1 = time.perf_counter()
        facts = sum(1 for _ in connector.facts())
        t2 = time.perf_counter()
        connector.close()
        print(f"crawl (catalog): {discovered} tables in {t1 - t0:.2f} s; grants/RLS/transport facts: {facts} "
              f"in {t2 - t1:.2f} s")

        started = time.perf_counter()
        report = run_scan([target], options)
        total = time.perf_counter() - started
        summary = report.targets[0]
        rules: dict[str, int] = {}
        for finding in report.findings:
            rules[finding.rule_id] = rules.get(finding.rule_id, 0) + 1
        print(f"end to end (discover + facts + sample {summary.items_examined} rows + classify + rules): "
              f"{summary.resources} tables in {total:.1f} s = {summary.resources / total:.0f} tables/s "
              f"(jobs={args.jobs or os.cpu_count()})")
        print(f"findings: {len(report.findings)} {dict(sorted(rules.items()))}; notifications: "
              f"{len(report.notifications)}")
        print(f"target <= 60 s: {'OK' if total <= 60 else 'MISSED'}")
        return 0 if total <= 60 else 1
    finally:
        server.process.stop()  # type: ignore[attr-defined]
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
