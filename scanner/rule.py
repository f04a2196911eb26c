"""What a rule is: stable ID, validated metadata, and the logic that turns scans into findings.

Prowler style: each rule is one module in :mod:`scanner.rules` whose file name is the rule ID,
with its metadata in a YAML file of the same name beside it (descriptions, the obligation it
serves, how to fix). IDs are descriptive snake_case and stable: renaming one breaks baselines and
waivers, so it is a breaking change.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from scanner.fingerprint import finding_fingerprint
from scanner.model import Category, Finding, Level, Location, Match, Resource, ResourceScan
from scanner.policy import Grade, Policy
from scanner.yamlschema import load_validated

MAX_LOCATIONS = 10

METADATA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "category", "short_description", "full_description", "help", "obligations",
                 "default_level", "security_severity", "precision"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9]*(_[a-z0-9]+)+$"},
        "name": {"type": "string", "pattern": "^[A-Z][A-Za-z0-9]+$"},
        "category": {"enum": [c.value for c in Category]},
        "short_description": {"type": "string", "pattern": r"\.$"},
        "full_description": {"type": "string", "pattern": r"\.\s*$"},
        "help": {"type": "string"},
        "help_markdown": {"type": "string"},
        "obligations": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 9}, "minItems": 1},
        "default_level": {"enum": ["error", "warning", "note"]},
        "security_severity": {"type": "string", "pattern": r"^(10(\.0)?|[0-9](\.[0-9])?)$"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "permissions": {"type": "array", "items": {"type": "string"}},
        # how often a result is right (GitHub code scanning's rule property): very-high, high, medium, low
        "precision": {"enum": ["very-high", "high", "medium", "low"]},
        # CWE weaknesses the rule finds (CWE-312 cleartext storage, -532 logs, -359 exposure, -732 permissions,
        # -311 missing encryption): SARIF tags external/cwe/cwe-N
        "cwe": {"type": "array", "items": {"type": "integer", "minimum": 1}, "uniqueItems": True},
    },
}


@dataclass(frozen=True)
class RuleMetadata:
    id: str
    name: str
    category: Category
    short_description: str
    full_description: str
    help: str
    help_markdown: str
    obligations: tuple[int, ...]
    default_level: Level
    security_severity: str
    tags: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()
    precision: str = "medium"
    cwe: tuple[int, ...] = ()


@dataclass
class RuleContext:
    """What rules may consult besides the scan: the policy and the clock (fixed in tests)."""

    policy: Policy
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class TargetScan:
    """All resource scans and facts of one target, for rules that need the whole picture."""

    target: str
    connector: str
    scans: list[ResourceScan]
    facts: list[Any]


class Rule:
    """Base class: subclasses set ``id`` and override ``evaluate`` and/or ``evaluate_target``."""

    id: ClassVar[str]

    @classmethod
    def metadata(cls) -> RuleMetadata:
        return _metadata(cls)

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterable[Finding]:
        """Findings about one resource. Called (in the worker that scanned it) only for a resource where
        something was found: matches, masked values, facts or notifications; a clean file is counted in
        the coverage, never judged, so a rule about clean files must be a target rule on facts."""
        return ()

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterable[Finding]:
        return ()

    # -- helpers for subclasses -------------------------------------------------------------

    def finding(
        self,
        resource: Resource,
        message: str,
        *,
        level: Level,
        grade: Grade | None = None,
        entity_type: str | None = None,
        matches: Sequence[Match] = (),
        occurrences: int | None = None,
        discriminators: Sequence[str] = (),
        properties: dict[str, Any] | None = None,
    ) -> Finding:
        meta = self.metadata()
        locations = [
            Location(line=m.line, field=m.field, evidence=m.evidence)
            for m in sorted(matches, key=lambda m: m.line)[:MAX_LOCATIONS]
        ]
        props: dict[str, Any] = {}
        if matches:
            evidence: list[str] = []
            for m in matches:
                if m.evidence not in evidence:
                    evidence.append(m.evidence)
            props["evidence"] = evidence[:5]
        props.update(properties or {})
        return Finding(
            rule_id=meta.id,
            level=level,
            category=meta.category,
            message=message if message.endswith(".") else message + ".",
            resource=resource,
            grade=grade.id if grade else None,
            entity_type=entity_type,
            occurrences=occurrences if occurrences is not None else len(matches),
            locations=locations,
            fingerprint=finding_fingerprint(meta.id, resource.uri, *(entity_type or "",), *discriminators),
            properties=props,
        )


@cache
def _metadata(rule_cls: type[Rule]) -> RuleMetadata:
    module = sys.modules[rule_cls.__module__]
    path = Path(module.__file__ or "").with_suffix(".yaml")
    data = load_validated(path, METADATA_SCHEMA)
    if data["id"] != rule_cls.id or path.stem != rule_cls.id:
        raise ValueError(f"{path}: rule id {data['id']!r} must equal the class id and the file name {path.stem!r}")
    return RuleMetadata(
        id=data["id"],
        name=data["name"],
        category=Category(data["category"]),
        short_description=data["short_description"],
        full_description=data["full_description"].strip(),
        help=data["help"].strip(),
        help_markdown=data.get("help_markdown", data["help"]).strip(),
        obligations=tuple(data["obligations"]),
        default_level=Level(data["default_level"]),
        security_severity=data["security_severity"],
        tags=tuple(data.get("tags", ())),
        permissions=tuple(data.get("permissions", ())),
        precision=data["precision"],
        cwe=tuple(data.get("cwe", ())),
    )


def counted(n: int, noun: str) -> str:
    """``1 distinct value``, ``1,204 distinct values``, ``1,000+ distinct values`` (at the tracking cap)."""
    from scanner.model import DISTINCT_CAP

    shown = f"{n:,}+" if noun.startswith("distinct") and n >= DISTINCT_CAP else f"{n:,}"
    return f"{shown} {noun}{'' if n == 1 else 's'}"


def plaintext_by_entity(scan: ResourceScan, policy: Policy) -> dict[str, tuple[Grade, list[Match]]]:
    """Graded entity types found in plaintext, with their grade and sample matches."""
    found: dict[str, tuple[Grade, list[Match]]] = {}
    for entity in scan.occurrences:
        grade = policy.grade_of(entity)
        if grade is not None:
            found[entity] = (grade, list(scan.matches_of(entity)))
    return found
