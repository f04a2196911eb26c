"""Benchmark and self-check: check-migrations over real-world-shaped migration sets it writes itself.

Why: the gate runs on every pull request and in a pre-commit hook, on projects with hundreds to
thousands of migrations (issue 12 measured 5,000 files at ~460 files/s, 85 % of it in sqlglot's
pure-Python tokenizer). This script checks out nothing: it writes migration sets in the layouts real
projects use, with the statement shapes that tripped the gate before, runs the gate over them the
way the CLI does, and prints files/s with the ground truth it planted:

* Diesel (``<timestamp>_<name>/up.sql`` + ``down.sql``; down.sql must never run), Prisma
  (``<n>_<name>/migration.sql``), golang-migrate (``<n>_<name>.up.sql`` / ``.down.sql``), Flyway
  (``V<n>__<name>.sql``);
* per migration: a CREATE TABLE with planted plaintext personal data, credentials and decoys that
  are not personal data (``phone_confirmed_at``, ``address_type``, ``email_template_id``,
  ``csrf_token``, a bare ``name`` in a table of campaigns, hashes of a hash's width, ciphertext);
  ``ALTER TABLE t RENAME a TO b`` without COLUMN; ``DO $$ ... $$`` blocks that add columns and grant;
  valid PostgreSQL the parser does not know (``DROP INDEX a, b``, ``DROP FUNCTION f (_tbl regclass)``);
  indexes, functions, triggers and seed rows as filler.

It prints files/s, statements, and precision/recall of the plaintext rules against what it planted,
and fails (exit 1) when a valid statement fails the gate, a down migration ran, or precision or
recall falls below 1.0 on these sets. sqlglot's compiled build (``pip install privaudit[fast]``, the
``sqlglotc`` package of the same sqlglot version) is reported when it is loaded.

Run: ``python bench/bench_migrations.py [--files 5000] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LAYOUTS = ("diesel", "prisma", "golang", "flyway")
PLAINTEXT_RULES = ("migration_plaintext_pii_column", "migration_plaintext_c3_column",
                   "migration_plaintext_credential_column")

# (column, type, rule it must raise or None): what a reviewer would say, not what the classifier says
COLUMNS = [
    ("email", "text", "migration_plaintext_pii_column"),
    ("phone", "varchar(20)", "migration_plaintext_pii_column"),
    ("id_card_no", "varchar(18)", "migration_plaintext_pii_column"),
    ("full_name", "varchar(100)", "migration_plaintext_pii_column"),
    ("home_address", "text", "migration_plaintext_pii_column"),
    ("refresh_token", "varchar(255)", "migration_plaintext_credential_column"),
    ("totp_secret", "text", "migration_plaintext_credential_column"),
    ("cvv", "char(3)", "migration_plaintext_c3_column"),
    ("phone_confirmed_at", "timestamptz", None),
    ("email_change_confirm_status", "smallint", None),
    ("address_type", "text", None),
    ("email_template_id", "integer", None),
    ("csrf_token", "varchar(255)", None),
    ("password_hash", "varchar(255)", None),
    ("mobile_enc", "bytea", None),
    ("has_mobile", "boolean", None),
    ("created_at", "timestamptz", None),
]


@dataclass
class Truth:
    """What the generated sets must produce: (file suffix, table, column) -> rule."""

    expected: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, column) -> rule
    grants: set[str] = field(default_factory=set)  # tables granted to PUBLIC while holding personal data
    files: int = 0
    down_files: int = 0


def _migration(rnd: random.Random, n: int, truth: Truth) -> str:
    """One migration's SQL; plants its expectations in ``truth``."""
    table = f"t{n}_customers"
    picked = rnd.sample(COLUMNS, k=6)
    lines = [f"-- migration {n}: customer data", f"CREATE TABLE {table} (", "  id bigserial PRIMARY KEY,"]
    for column, ctype, rule in picked:
        lines.append(f"  {column} {ctype},")
        if rule:
            truth.expected[(table, column)] = rule
    lines.append("  updated_at timestamptz NOT NULL DEFAULT now()")
    lines.append(");")
    lines.append(f"CREATE TABLE t{n}_campaigns (id serial PRIMARY KEY, name text NOT NULL, from_name text);")
    lines.append(f"CREATE INDEX t{n}_idx_a ON {table} (updated_at);")
    lines.append(f"CREATE INDEX t{n}_idx_b ON {table} (id);")
    shape = n % 4
    if shape == 0:  # RENAME without COLUMN: the table must survive, the new name is judged
        lines.append(f"ALTER TABLE {table} ADD COLUMN contact_note text;")
        lines.append(f"ALTER TABLE {table} RENAME contact_note TO contact_email;")
        truth.expected[(table, "contact_email")] = "migration_plaintext_pii_column"
        lines.append(f"GRANT SELECT ON {table} TO PUBLIC;")
        truth.grants.add(table)
    elif shape == 1:  # DO block: static statements inside are analysed
        lines += ["DO $$", "BEGIN",
                  "  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reporting') THEN",
                  "    CREATE ROLE reporting;", "  END IF;",
                  f"  ALTER TABLE {table} ADD COLUMN mobile varchar(20);",
                  f"  GRANT SELECT ON {table} TO PUBLIC;",
                  f"  EXECUTE format('ANALYZE %I', '{table}');", "END $$;"]
        truth.expected[(table, "mobile")] = "migration_plaintext_pii_column"
        truth.grants.add(table)
    elif shape == 2:  # valid PostgreSQL the parser does not read
        lines.append(f"DROP INDEX IF EXISTS t{n}_idx_a, t{n}_idx_b;")
        lines.append(f"DROP FUNCTION IF EXISTS t{n}_touch (_tbl regclass);")
    else:  # functions, triggers, seed rows
        lines += [f"CREATE OR REPLACE FUNCTION t{n}_touch() RETURNS trigger AS $$",
                  "BEGIN NEW.updated_at = now(); RETURN NEW; END; $$ LANGUAGE plpgsql;",
                  f"CREATE TRIGGER t{n}_touch BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION t{n}_touch();",
                  f"INSERT INTO t{n}_campaigns (name, from_name) VALUES ('Spring sale', 'Shop'), ('Welcome', 'Shop');"]
    return "\n".join(lines) + "\n"


def generate(root: Path, files: int, seed: int = 12) -> Truth:
    """Write ``files`` .sql files (down files included) across the four layouts below ``root``."""
    rnd = random.Random(seed)
    truth = Truth()
    per_layout = files // len(LAYOUTS)
    n = 0
    for layout in LAYOUTS:
        base = root / layout
        base.mkdir(parents=True)
        written = 0
        index = 0
        while written < per_layout:
            index += 1
            n += 1
            sql = _migration(rnd, n, truth)
            down = f"DROP TABLE t{n}_customers;\nDROP TABLE t{n}_campaigns;\n"
            if layout == "diesel":
                day = f"20{19 + index // 3650:02d}-{1 + index // 300 % 12:02d}-{1 + index // 10 % 28:02d}"
                directory = base / f"{day}-{index % 1000000:06d}_m{n}"
                if index > per_layout // 3:  # newer Diesel versions end in -0000, as Lemmy's do
                    directory = base / f"{day}-{index % 1000000:06d}-0000_m{n}"
                directory.mkdir()
                (directory / "up.sql").write_text(sql)
                (directory / "down.sql").write_text(down)
                written += 2
                truth.down_files += 1
            elif layout == "prisma":
                directory = base / f"{index}_m{n}"
                directory.mkdir()
                (directory / "migration.sql").write_text(sql)
                written += 1
            elif layout == "golang":
                (base / f"{index:06d}_m{n}.up.sql").write_text(sql)
                (base / f"{index:06d}_m{n}.down.sql").write_text(down)
                written += 2
                truth.down_files += 1
            else:
                (base / f"V{index}__m{n}.sql").write_text(sql)
                written += 1
        truth.files += written
    return truth


def run(root: Path, truth: Truth) -> int:
    from scanner.migrations.check import MigrationCheck
    from scanner.policy import load_policy

    policy = load_policy("financial-cn")
    findings = []
    notifications = []
    statements = 0
    started = time.perf_counter()
    for layout in LAYOUTS:
        report = MigrationCheck([str(root / layout)], "postgres", policy, cwd=root / layout).run()
        findings += report.findings
        notifications += report.notifications
        statements += report.targets[0].items_examined
    elapsed = time.perf_counter() - started
    compiled = _compiled()
    print(f"{truth.files} files ({truth.down_files} down files), {statements} statements in {elapsed:.2f} s: "
          f"{truth.files / elapsed:,.0f} files/s, sqlglot {_sqlglot_version()} "
          f"{'compiled (sqlglotc)' if compiled else 'pure Python'}")
    failures = 0
    got: dict[tuple[str, str], str] = {}
    for finding in findings:
        if finding.rule_id in PLAINTEXT_RULES:
            props = finding.properties or {}
            got[(str(props.get("table")), str(props.get("column")))] = finding.rule_id
    for rule in PLAINTEXT_RULES:
        reported = {k for k, v in got.items() if v == rule}
        planted = {k for k, v in truth.expected.items() if v == rule}
        right = reported & planted
        precision = len(right) / len(reported) if reported else 1.0
        recall = len(right) / len(planted) if planted else 1.0
        print(f"  {rule}: {len(reported)} reported, {len(planted)} planted, precision {precision:.3f}, "
              f"recall {recall:.3f}")
        for key in sorted(reported - planted)[:5]:
            print(f"    wrong: {key[0]}.{key[1]}")
        for key in sorted(planted - reported)[:5]:
            print(f"    missed: {key[0]}.{key[1]}")
        failures += precision < 1.0 or recall < 1.0
    print(f"  grants to PUBLIC judged: {len([f for f in findings if f.rule_id == 'migration_grant_pii_to_public'])}"
          f" of {len(truth.grants)} planted")
    failures += len([f for f in findings if f.rule_id == "migration_grant_pii_to_public"]) != len(truth.grants)
    failing = [f for f in findings if f.rule_id == "migration_statement_not_analysed" and f.level.value == "error"]
    syntax = [n for n in notifications if n.kind == "syntax-error"]
    print(f"  valid statements failing the gate: {len(failing) + len(syntax)}; "
          f"not analysed (notes): {len([f for f in findings if f.rule_id == 'migration_statement_not_analysed'])}")
    failures += bool(failing or syntax)
    ran_down = [f for f in findings if "down.sql" in f.resource.display_name]
    print(f"  results from down migrations: {len(ran_down)}")
    failures += bool(ran_down)
    return 1 if failures else 0


def _sqlglot_version() -> str:
    import sqlglot

    return sqlglot.__version__


def _compiled() -> bool:
    import sqlglot.tokens

    return str(getattr(sqlglot.tokens, "__file__", "")).endswith((".so", ".pyd")) or any(
        str(getattr(module, "__file__", "")).endswith((".so", ".pyd"))
        for name, module in list(sys.modules.items()) if name.startswith("sqlglot.") and module is not None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--files", type=int, default=5000, help="SQL files to write (down files included)")
    parser.add_argument("--keep", type=Path, default=None, help="write the sets here and keep them")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_migrations_"))
    if args.keep:
        root.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        truth = generate(root, args.files)
        print(f"wrote {truth.files} files below {root} in {time.perf_counter() - started:.1f} s")
        return run(root, truth)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
