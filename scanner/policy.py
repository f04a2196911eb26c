"""Policy packs: grading, where graded data may live, and how findings are levelled.

A pack is validated YAML in ``policies/`` (unknown keys are rejected with file and line). The
default, ``financial-cn``, grades personal financial information per JR/T 0171-2020 (C3/C2/C1);
GDPR/PCI-style gradings are packs too. Rules never hard-code a grade: they ask the policy.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from scanner.model import Level
from scanner.yamlschema import ConfigError, load_yaml, validate

DEFAULT_POLICY = "financial-cn"

_GRADE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "level", "security_severity"],
    "properties": {
        "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "level": {"enum": ["error", "warning", "note"]},
        "security_severity": {"type": "string", "pattern": r"^(10(\.0)?|[0-9](\.[0-9])?)$"},
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "grades", "entities"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "grades": {"type": "array", "items": _GRADE, "minItems": 1},
        "entities": {
            "type": "object",
            "additionalProperties": {"type": ["string", "null"]},
        },
        "locations": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "logs": {"type": "array", "items": {"type": "string"}},
            },
        },
        "exposure": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "world_readable": {"type": "boolean"},
                "group_readable": {"type": "boolean"},
            },
        },
        "encryption": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"required_grades": {"type": "array", "items": {"type": "string"}}},
        },
        "retention": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["paths", "max_age_days"],
                "properties": {
                    "paths": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "max_age_days": {"type": "integer", "minimum": 1},
                    "grades": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "rules": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "enabled": {"type": "boolean"},
                    "level": {"enum": ["error", "warning", "note", "none"]},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Grade:
    id: str
    title: str
    level: Level
    security_severity: str
    rank: int
    description: str = ""


@dataclass(frozen=True)
class RetentionRule:
    paths: tuple[str, ...]
    max_age_days: int
    grades: tuple[str, ...] = ()


@dataclass
class Policy:
    """A loaded, validated policy pack."""

    name: str
    title: str
    grades: dict[str, Grade]
    entities: dict[str, str | None]
    log_globs: tuple[str, ...] = ()
    world_readable: bool = True
    group_readable: bool = False
    encryption_required: tuple[str, ...] = ()
    retention: tuple[RetentionRule, ...] = ()
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = ""

    def grade_of(self, entity_type: str) -> Grade | None:
        """The grade of an entity type or field class; None when the policy calls it not personal."""
        grade_id = self.entities.get(entity_type)
        return self.grades.get(grade_id) if grade_id else None

    def highest_grade(self, entity_types: Any) -> Grade | None:
        graded = [g for g in (self.grade_of(e) for e in entity_types) if g is not None]
        return max(graded, key=lambda g: g.rank) if graded else None

    def is_log(self, relative_path: str) -> bool:
        return any(_glob(relative_path, g) for g in self.log_globs)

    def rule_enabled(self, rule_id: str, default: bool = True) -> bool:
        return bool(self.rules.get(rule_id, {}).get("enabled", default))

    def rule_level(self, rule_id: str, grade: Grade | None, default: Level) -> Level:
        override = self.rules.get(rule_id, {}).get("level")
        if override:
            return Level(override)
        return grade.level if grade is not None else default


def _glob(relative: str, pattern: str) -> bool:
    name = relative.rsplit("/", 1)[-1]
    if "/" not in pattern:
        return fnmatch.fnmatchcase(name, pattern)
    if pattern.startswith("**/"):
        bare = pattern[3:]
        return fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(relative, bare)
    return fnmatch.fnmatchcase(relative, pattern)


def builtin_policy_names() -> list[str]:
    return sorted(
        p.name[: -len(".yaml")]
        for p in resources.files("policies").iterdir()
        if p.name.endswith(".yaml") and not p.name.startswith("_")
    )


def load_policy(name_or_path: str | None = None) -> Policy:
    """Load a built-in pack by name (``financial-cn``) or a policy file by path."""
    name_or_path = name_or_path or DEFAULT_POLICY
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise ConfigError(str(path), [f"{path}: cannot be read: {exc.strerror or exc}"]) from None
        source = str(path)
    else:
        resource = resources.files("policies").joinpath(f"{name_or_path}.yaml")
        if not resource.is_file():
            known = ", ".join(builtin_policy_names())
            raise ConfigError(name_or_path, [f"unknown policy pack {name_or_path!r}; built-in packs: {known}"])
        text = resource.read_text("utf-8")
        source = f"policies/{name_or_path}.yaml"
    data, lines = load_yaml(text, source)
    validate(data, SCHEMA, source, lines)
    return _build(data, source, lines)


def _build(data: dict, source: str, lines: dict) -> Policy:
    grades = {}
    count = len(data["grades"])
    for index, raw in enumerate(data["grades"]):
        grades[raw["id"]] = Grade(
            id=raw["id"],
            title=raw["title"],
            level=Level(raw["level"]),
            security_severity=raw["security_severity"],
            rank=count - index,
            description=raw.get("description", ""),
        )
    errors = [
        f"{source}:{lines.get(('entities', entity), '?')}: entities.{entity}: grade {grade!r} is not defined "
        f"in grades (defined: {', '.join(grades)})"
        for entity, grade in data["entities"].items()
        if grade is not None and grade not in grades
    ]
    if errors:
        raise ConfigError(source, errors)
    return Policy(
        name=data["name"],
        title=data.get("title", data["name"]),
        grades=grades,
        entities=dict(data["entities"]),
        log_globs=tuple(data.get("locations", {}).get("logs", ())),
        world_readable=data.get("exposure", {}).get("world_readable", True),
        group_readable=data.get("exposure", {}).get("group_readable", False),
        encryption_required=tuple(data.get("encryption", {}).get("required_grades", ())),
        retention=tuple(
            RetentionRule(tuple(r["paths"]), r["max_age_days"], tuple(r.get("grades", ())))
            for r in data.get("retention", ())
        ),
        rules=dict(data.get("rules", {})),
        source=source,
    )
