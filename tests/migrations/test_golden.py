"""Golden cases, sqlglot/black style: every directory in tests/golden/migrations is one test.

A case is ``migrations/*.sql`` (replayed in migration order), ``case.yaml`` (``dialect``, optional
``policy``, ``fail_on``, ``exit_code``, ``schema_sql``: a file of statements to start from, as
``--schema-from`` would) and ``expected.yaml``: the complete list of results
``{file, line, rule, column?, level?, suppressed?}`` (``column`` for column rules, ``level`` when it is
not ``error``: notes asking to confirm, warnings) and notifications
``{file, line, notification: <kind>}``.
Adding a directory adds a test; run with ``PRIVAUDIT_GOLDEN_UPDATE=1`` to print the actual list.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from scanner.migrations.check import MigrationCheck, gate_exit_code
from scanner.migrations.parsing import parse_sql
from scanner.policy import load_policy

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "migrations"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "case.yaml").is_file())
_WHERE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): ")


def _actual(case: Path) -> tuple[list[dict], int]:
    spec = yaml.safe_load((case / "case.yaml").read_text("utf-8")) or {}
    dialect = spec["dialect"]
    schema = []
    if spec.get("schema_sql"):
        schema = parse_sql((case / spec["schema_sql"]).read_text("utf-8"), dialect, spec["schema_sql"]).statements
    migrations = case / "migrations"
    report = MigrationCheck([str(migrations)], dialect, load_policy(spec.get("policy")), schema_statements=schema,
                            cwd=migrations).run()
    entries: list[dict] = []
    for finding in report.findings:
        entry = {"file": finding.resource.relative_path, "line": finding.locations[0].line, "rule": finding.rule_id}
        if finding.locations[0].field:
            entry["column"] = finding.locations[0].field
        if finding.level.value != "error":
            entry["level"] = finding.level.value
        if finding.suppressions:
            entry["suppressed"] = True
        entries.append(entry)
    for note in report.notifications:
        match = _WHERE.match(note.message)
        entries.append({"file": match.group("file") if match else note.resource_uri,
                        "line": int(match.group("line")) if match else None, "notification": note.kind})
    return entries, gate_exit_code(report, spec.get("fail_on", "error"))


def _key(entry: dict) -> tuple:
    return (entry.get("file") or "", entry.get("line") or 0, entry.get("rule") or "", entry.get("column") or "",
            entry.get("level") or "", entry.get("notification") or "", bool(entry.get("suppressed")))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case: Path) -> None:
    actual, code = _actual(case)
    if os.environ.get("PRIVAUDIT_GOLDEN_UPDATE"):
        print(yaml.safe_dump(sorted(actual, key=_key), allow_unicode=True, sort_keys=False))
    expected = yaml.safe_load((case / "expected.yaml").read_text("utf-8")) or []
    assert sorted(map(_key, actual)) == sorted(map(_key, expected))
    spec = yaml.safe_load((case / "case.yaml").read_text("utf-8")) or {}
    if "exit_code" in spec:
        assert code == spec["exit_code"]


def test_there_are_golden_cases_for_every_dialect() -> None:
    dialects = {yaml.safe_load((c / "case.yaml").read_text("utf-8"))["dialect"] for c in CASES}
    assert dialects == {"postgres", "mysql", "sqlite"}
