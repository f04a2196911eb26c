"""Shared logic of the database rules (not a rule: the leading underscore keeps discovery away).

Database connectors record, per sampled table, one ``column`` fact per interesting column (see
:mod:`connectors._sql`) and, per target, ``access``/``table_security``/``transport`` facts. The
rules here join them: which graded columns are stored in plaintext, and who can read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from connectors._sql import column_resource, verdicts_of
from scanner.model import Resource, ResourceScan
from scanner.policy import Grade, Policy
from scanner.rule import TargetScan

DB_CONNECTORS = ("postgresql", "mysql", "sqlite")
#: below this confidence a name-only hint (e.g. ``id_card_no`` whose values never validate) is not acted on
MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class GradedColumn:
    """A column holding graded personal data, with its grade and the evidence."""

    table: Resource
    resource: Resource
    verdict: dict[str, Any]
    grade: Grade

    @property
    def object(self) -> str:
        return self.resource.logical_name or ""

    @property
    def entity(self) -> str | None:
        names = [*self.verdict["holds"], *self.verdict["classes"], *self.verdict["entities"]]
        return names[0] if names else None

    @property
    def plaintext(self) -> bool:
        return self.verdict["protection"] == "plaintext"

    @property
    def free_text(self) -> bool:
        return self.verdict["basis"] == "free-text"

    def evidence(self) -> str:
        v = self.verdict
        if v["basis"] == "name":
            return f"column name/comment suggests {', '.join(v['classes'])}"
        shares = ", ".join(f"{e} in {v['shares'].get(e, 0):.0%} of {v['non_null']} sampled values"
                           for e in (v["holds"] or list(v["entities"])))
        return f"{shares} ({v['basis']})"

    def properties(self) -> dict[str, Any]:
        v = self.verdict
        return {"object": self.object, "column": v["column"], "dataType": v["data_type"], "basis": v["basis"],
                "confidence": v["confidence"], "protection": v["protection"], "classes": list(v["classes"]),
                "entities": sorted(v["entities"]), "sampledRows": v["sampled_rows"], "nonNull": v["non_null"]}


def is_db_scan(scan: ResourceScan) -> bool:
    return scan.resource.connector in DB_CONNECTORS


def stores_data(scan: ResourceScan) -> bool:
    """Tables and materialized views store rows; plain views only show other tables' (at-rest rules skip them)."""
    return is_db_scan(scan) and scan.resource.kind != "view"


def graded_columns(scan: ResourceScan, policy: Policy, *, plaintext_only: bool = True) -> Iterator[GradedColumn]:
    """Graded columns of one table scan (plaintext ones unless asked otherwise)."""
    for verdict in verdicts_of(scan):
        if verdict["basis"] == "none" or (verdict["confidence"] < MIN_CONFIDENCE and verdict["basis"] != "free-text"):
            continue
        if plaintext_only and verdict["protection"] != "plaintext":
            continue
        names = [*verdict["classes"], *verdict["name_entities"], *verdict["entities"]]
        grade = policy.highest_grade(names)
        if grade is None:
            continue
        yield GradedColumn(scan.resource, column_resource(scan.resource, verdict["column"]), verdict, grade)


def graded_by_table(target: TargetScan, policy: Policy) -> dict[str, list[GradedColumn]]:
    """Table URI -> its plaintext graded columns."""
    found: dict[str, list[GradedColumn]] = {}
    for scan in target.scans:
        if is_db_scan(scan):
            columns = list(graded_columns(scan, policy))
            if columns:
                found[scan.resource.uri] = columns
    return found


def facts_of(target: TargetScan, kind: str) -> list[Any]:
    return [f for f in target.facts if getattr(f, "kind", None) == kind]


def top_grade(policy: Policy) -> Grade:
    """The policy's most sensitive grade (C3, authentication data, in financial-cn)."""
    return max(policy.grades.values(), key=lambda g: g.rank)


def readable_columns(access: dict[str, Any], columns: list[GradedColumn]) -> list[GradedColumn]:
    """The graded columns an access fact opens (all of the table's, or the one granted column)."""
    if access.get("column") is None:
        return columns
    return [c for c in columns if c.verdict["column"] == access["column"]]


def access_message(access: dict[str, Any], column: GradedColumn, audience: str) -> str:
    via = access["via"]
    how = {"superuser": "as a superuser", "direct": "through a direct grant"}.get(via, f"via {via}")
    rows = ""
    if access.get("rows_limited_by_rls"):
        rows = " (rows limited by row-level security policies)"
    elif access.get("bypassrls") and via != "superuser":
        rows = " (bypasses row-level security)"
    return (f"{access['grantee']} can {access['privilege']} {column.object} ({column.grade.id}, "
            f"{column.entity}) {how}{rows}; {audience}")


def access_properties(access: dict[str, Any], column: GradedColumn) -> dict[str, Any]:
    return {"grantee": access["grantee"], "privilege": access["privilege"], "object": column.object,
            "via": access["via"], "path": list(access.get("path", ())), "grantedOn": access["object"],
            "bypassRls": access.get("bypassrls", False),
            "rowsLimitedByRls": access.get("rows_limited_by_rls", False), **column.properties()}


def role_names(label: str) -> tuple[str, ...]:
    """Names a policy glob may use for a grantee: MySQL ``'app'@'%'`` is also ``app@%`` and ``app``."""
    if label.startswith("'") and "'@'" in label:
        user, host = label[1:-1].split("'@'", 1)
        return (label, f"{user}@{host}", user)
    return (label,)
