"""Shared logic of the database rules (not a rule: the leading underscore keeps discovery away).

Database connectors record, per sampled table, one ``column`` fact per interesting column (see
:mod:`connectors._sql`) and, per target, ``access``/``table_security``/``transport`` facts. The
rules here join them: which graded columns are stored in plaintext, and who can read them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from scanner.connector import store_of
from scanner.detection.fields import entity_type
from scanner.facts import ColumnVerdict, ReadAccess, of_type
from scanner.model import Level, Resource, ResourceScan
from scanner.policy import Grade, Policy
from scanner.rule import TargetScan

#: below this confidence a name-only hint (e.g. ``id_card_no`` whose values never validate) is not acted on
MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class GradedColumn:
    """A column holding graded personal data, with its grade and the evidence."""

    table: Resource
    resource: Resource
    verdict: ColumnVerdict
    grade: Grade
    grades: dict[str, str]  # entity type or field class -> its grade id under the policy

    @property
    def object(self) -> str:
        return self.resource.logical_name or ""

    @property
    def entity(self) -> str | None:
        """The entity type the column is reported as: the graded one it holds, else its first type."""
        names = [*self.verdict.holds, *self.verdict.classes, *self.verdict.entities]
        graded = [n for n in names if self.grade_id_of(n) == self.grade.id]
        return (graded or names or [None])[0]

    def grade_id_of(self, name: str) -> str | None:
        return self.grades.get(name)

    @property
    def plaintext(self) -> bool:
        return self.verdict.protection == "plaintext"

    @property
    def free_text(self) -> bool:
        return self.verdict.basis == "free-text"

    def evidence(self) -> str:
        v = self.verdict
        if v.basis == "name":
            return f"column name/comment suggests {', '.join(v.classes)}"
        shares = ", ".join(f"{e} in {v.shares.get(e, 0):.0%} of {v.non_null} sampled values"
                           for e in (v.holds or list(v.entities)))
        return f"{shares} ({v.basis})"

    def properties(self) -> dict[str, Any]:
        v = self.verdict
        return {"object": self.object, "column": v.column, "dataType": v.data_type, "basis": v.basis,
                "confidence": v.confidence, "protection": v.protection, "classes": list(v.classes),
                "entities": sorted(v.entities), "sampledRows": v.sampled_rows, "nonNull": v.non_null}


@dataclass(frozen=True)
class PersonalColumn:
    """One column and one personal entity type it holds in plaintext, graded by the policy or not.

    A column is listed whatever the policy says about encryption (the inventory a reviewer needs,
    GDPR Art. 30, JR/T 0171-2020 obligation 1); the policy's grade only sets how loud the listing is.
    Authentication data (passwords, card verification codes, credentials) has its own rules."""

    table: Resource
    resource: Resource
    verdict: ColumnVerdict
    entity: str
    grade: Grade | None

    @property
    def object(self) -> str:
        return self.resource.logical_name or ""

    @property
    def free_text(self) -> bool:
        return self.verdict.basis == "free-text"

    @property
    def count(self) -> int:
        """Values of this entity type found in the sample (name-only: the non-null values sampled)."""
        return int(self.verdict.entities.get(self.entity, 0)) or int(self.verdict.non_null)

    def evidence(self) -> str:
        v = self.verdict
        if v.basis == "name" or (self.entity not in v.shares and self.entity in v.classes):
            why = "column name/comment" if v.basis == "name" else "column name, comment or table"
            sampled = "; not sampled" if not v.sampled_rows else ""
            return f"{why} suggests {self.entity}{sampled}"
        share = v.shares.get(self.entity, 0)
        return f"{self.entity} in {share:.0%} of {v.non_null} sampled values ({v.basis})"

    def level(self, policy: Policy, rule_id: str, default: Level) -> Level:
        """The grade's level (an explicit ``rules:`` level wins); the rule's default when ungraded."""
        return policy.rule_level(rule_id, self.grade, default)

    def grade_text(self, policy: Policy) -> str:
        if self.grade is None:
            return f"not graded by policy {policy.name}"
        return f"grade {self.grade.id}"

    def properties(self) -> dict[str, Any]:
        v = self.verdict
        return {"object": self.object, "column": v.column, "dataType": v.data_type, "basis": v.basis,
                "confidence": v.confidence, "protection": v.protection, "classes": list(v.classes),
                "entities": sorted(v.entities), "sampledRows": v.sampled_rows, "nonNull": v.non_null,
                "graded": self.grade is not None}


def listed_entity(name: str) -> bool:
    """Whether an entity type is personal data a column listing names (registered, identifies a natural
    person, not authentication data, which ``db_plaintext_c3_column`` reports)."""
    registered = entity_type(name)
    return registered is not None and registered.personal and registered.kind != "authentication"


def column_entities(verdict: ColumnVerdict) -> list[str]:
    """The entity types a column verdict says the column holds: found in free text, held by its values,
    or (judged by name, comment or table) its field classes, which are registered entity types."""
    if verdict.basis == "free-text":
        names = sorted(verdict.entities)
    elif verdict.holds:
        names = list(verdict.holds)
    else:
        names = list(verdict.classes)
    return [n for n in names if listed_entity(n)]


def personal_columns(scan: ResourceScan, policy: Policy) -> Iterator[PersonalColumn]:
    """Plaintext personal-data columns of one table scan, one per column and entity type."""
    for verdict in of_type(scan.facts, ColumnVerdict):
        if verdict.basis == "none" or (verdict.confidence < MIN_CONFIDENCE and verdict.basis != "free-text"):
            continue
        if verdict.protection != "plaintext":
            continue
        resource = column_resource(scan.resource, verdict.column)
        for entity in column_entities(verdict):
            yield PersonalColumn(scan.resource, resource, verdict, entity, policy.grade_of(entity))


def is_db_scan(scan: ResourceScan) -> bool:
    return store_of(scan.resource.connector) == "database"


def stores_data(scan: ResourceScan) -> bool:
    """Tables and materialized views store rows; plain views only show other tables' (at-rest rules skip them)."""
    return is_db_scan(scan) and scan.resource.kind != "view"


def graded_columns(scan: ResourceScan, policy: Policy, *, plaintext_only: bool = True) -> Iterator[GradedColumn]:
    """Graded columns of one table scan (plaintext ones unless asked otherwise)."""
    for verdict in of_type(scan.facts, ColumnVerdict):
        if verdict.basis == "none" or (verdict.confidence < MIN_CONFIDENCE and verdict.basis != "free-text"):
            continue
        if plaintext_only and verdict.protection != "plaintext":
            continue
        names = [*verdict.classes, *verdict.name_entities, *verdict.entities]
        grade = policy.highest_grade(names)
        if grade is None:
            continue
        grades = {n: g.id for n in names if (g := policy.grade_of(n)) is not None}
        yield GradedColumn(scan.resource, column_resource(scan.resource, verdict.column), verdict, grade, grades)


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


def column_resource(table: Resource, column: str) -> Resource:
    """The per-column resource findings are reported on (SARIF logicalLocation kind ``column``)."""
    logical = f"{table.logical_name}.{column}"
    return Resource(
        uri=f"{table.uri}.{column}",
        kind="column",
        display_name=f"{table.display_name}.{column}",
        connector=table.connector,
        logical_name=logical,
        logical_kind="column",
        metadata={"table": table.logical_name, "column": column},
    )


def readable_columns(access: ReadAccess, columns: list[GradedColumn]) -> list[GradedColumn]:
    """The graded columns an access fact opens (all of the table's, or the one granted column)."""
    if access.column is None:
        return columns
    return [c for c in columns if c.verdict.column == access.column]


def exposed_columns(target: TargetScan, policy: Policy, exposes: Callable[[ReadAccess], bool],
                    allowed: Iterable[str]) -> Iterator[tuple[ReadAccess, GradedColumn]]:
    """(access, column) for each graded column an access fact of the kind ``exposes`` selects opens,
    unless the policy allows that grade to such readers."""
    graded = graded_by_table(target, policy)
    for access in of_type(target.facts, ReadAccess):
        if exposes(access):
            for column in readable_columns(access, graded.get(access.resource_uri, [])):
                if column.grade.id not in allowed:
                    yield access, column


def access_message(access: ReadAccess, column: GradedColumn, audience: str) -> str:
    via = access.via
    how = {"superuser": "as a superuser", "direct": "through a direct grant"}.get(via, f"via {via}")
    rows = ""
    if access.rows_limited_by_rls:
        rows = " (rows limited by row-level security policies)"
    elif access.bypassrls and via != "superuser":
        rows = " (bypasses row-level security)"
    return (f"{access.grantee} can {access.privilege} {column.object} ({column.grade.id}, "
            f"{column.entity}) {how}{rows}; {audience}")


def access_properties(access: ReadAccess, column: GradedColumn) -> dict[str, Any]:
    return {"grantee": access.grantee, "privilege": access.privilege, "object": column.object,
            "via": access.via, "path": list(access.path), "grantedOn": access.object,
            "bypassRls": access.bypassrls, "rowsLimitedByRls": access.rows_limited_by_rls, **column.properties()}


def role_names(label: str) -> tuple[str, ...]:
    """Names a policy glob may use for a grantee: MySQL ``'app'@'%'`` is also ``app@%`` and ``app``."""
    if label.startswith("'") and "'@'" in label:
        user, host = label[1:-1].split("'@'", 1)
        return (label, f"{user}@{host}", user)
    return (label,)
