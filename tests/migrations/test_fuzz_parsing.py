"""Property-based tests of the migration parser and analyzer on hostile SQL: statements stitched
from real fragments, cut anywhere, with unterminated strings, comments and quoted names, DELIMITER
blocks and bytes that are not SQL. Nothing may escape but a parsed file with syntax problems, and the
analyzer must take every statement the parser returns.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.migrations.analysis import Analyzer
from scanner.migrations.parsing import ParsedFile, parse_file, parse_sql
from scanner.policy import load_policy

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
FRAGMENTS = [
    "CREATE TABLE customers (id BIGINT PRIMARY KEY, id_card VARCHAR(18), mobile TEXT, email TEXT)",
    "ALTER TABLE customers ADD COLUMN phone VARCHAR(20)", "ALTER TABLE customers RENAME COLUMN phone TO mobile2",
    "GRANT SELECT ON customers TO PUBLIC", "GRANT SELECT (email) ON customers TO analyst",
    "REVOKE ALL ON customers FROM PUBLIC", "CREATE VIEW v AS SELECT id_card, md5(mobile) FROM customers",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC",
    "DROP POLICY p ON customers", "CREATE POLICY p ON customers USING (true)", "COMMENT ON COLUMN customers.x IS 'y'",
    "GRANT SELECT ON bank.* TO 'app'@'%'", "DROP TABLE customers", "INSERT INTO customers VALUES (1, '2', '3', '4')",
    "DELIMITER $$\nCREATE TRIGGER t BEFORE INSERT ON c FOR EACH ROW BEGIN SET NEW.a = 1; END$$\nDELIMITER ;",
    "DO $$ BEGIN RAISE NOTICE 'x'; END $$", "CREATE FUNCTION f() RETURNS int AS $body$ select 1 $body$ LANGUAGE sql",
]
NOISE = ["'", '"', "`", "/*", "*/", "--", "$$", ";", "(", ")", ",", "\\", "\x00", "\ufeff", "身份证", "\r\n", "E'\\''"]

statement = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40))
sql_text = st.lists(st.one_of(statement, st.sampled_from(NOISE)), max_size=12).map(lambda parts: ";\n".join(parts))


def _check(parsed: ParsedFile, dialect: str) -> None:
    analyzer = Analyzer(dialect, load_policy())
    for stmt in parsed.statements:
        analyzer.apply(stmt)
    for problem in parsed.problems:
        assert problem.line >= 1


@settings(max_examples=EXAMPLES, deadline=None)
@given(sql=sql_text, dialect=st.sampled_from(["postgres", "mysql", "sqlite"]), cut=st.floats(0, 1))
def test_parse_and_analyze_never_raise(sql: str, dialect: str, cut: float) -> None:
    text = sql[: int(len(sql) * cut) or len(sql)]
    _check(parse_sql(text, dialect, "m.sql"), dialect)


@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.binary(max_size=300), dialect=st.sampled_from(["postgres", "mysql"]))
def test_files_of_any_bytes_parse(tmp_path_factory, data: bytes, dialect: str) -> None:  # type: ignore[no-untyped-def]
    path: Path = tmp_path_factory.mktemp("m") / "V1__x.sql"
    path.write_bytes(data)
    _check(parse_file(path, dialect, "V1__x.sql"), dialect)
