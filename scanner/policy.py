"""Policy packs: grading, where graded data may live, and how findings are levelled.

A pack is validated YAML in ``policies/`` (unknown keys are rejected with file and line). The
default, ``financial-cn``, grades personal financial information per JR/T 0171-2020 (C3/C2/C1);
GDPR/PCI-style gradings are packs too. Rules never hard-code a grade: they ask the policy.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from scanner.detection.recognizer import KINDS
from scanner.globs import matches
from scanner.model import Level
from scanner.yamlschema import ConfigError, load_yaml, read_yaml_file, validate

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

_GRADE_LIST = {"type": "array", "items": {"type": "string"}}

_ACCESS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "public_grades": _GRADE_LIST,
        "wildcard_host_grades": _GRADE_LIST,
        "other_role_grades": _GRADE_LIST,
        "row_security_grades": _GRADE_LIST,
        "exempt_roles": {"type": "array", "items": {"type": "string"}},
        "roles": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "grades"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "grades": _GRADE_LIST,
                    "objects": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "reason": {"type": "string"},
                },
            },
        },
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
        # how the pack reads each obligation of ../shared/requirements.md (1-9): the regulation it cites
        "obligations": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "reference"],
                "properties": {
                    "id": {"type": "integer", "minimum": 1, "maximum": 9},
                    "reference": {"type": "string", "minLength": 1},
                    "note": {"type": "string"},
                },
            },
        },
        "grades": {"type": "array", "items": _GRADE, "minItems": 1},
        "entities": {
            "type": "object",
            "additionalProperties": {"type": ["string", "null"]},
        },
        # the grade of each kind of entity (scanner.detection.recognizer.KINDS); ``entities`` overrides
        "kinds": {
            "type": "object",
            "additionalProperties": False,
            "properties": {kind: {"type": ["string", "null"]} for kind in KINDS},
        },
        "locations": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "logs": {"type": "array", "items": {"type": "string"}},
                # third-party software and documentation trees: not scanned by default
                "third_party": {"type": "array", "items": {"type": "string"}},
            },
        },
        "volume": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "entities": {"type": "array", "items": {"type": "string"}},
                "incidental_max_distinct": {"type": "integer", "minimum": 0},
                "bulk_min_distinct": {"type": "integer", "minimum": 1},
                "locations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["paths", "max_level"],
                        "properties": {
                            "paths": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                            "max_level": {"enum": ["error", "warning", "note"]},
                        },
                    },
                },
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
            "properties": {
                "required_grades": {"type": "array", "items": {"type": "string"}},
                # grades whose bucket storage must use a customer-audited KMS key (SSE-KMS), not SSE-S3
                "kms_required_grades": {"type": "array", "items": {"type": "string"}},
            },
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
        "access": _ACCESS,
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


@dataclass(frozen=True)
class RoleAllowance:
    """A role (glob on the role/account name) allowed to read ``grades`` in ``objects`` (schema.table globs)."""

    name: str
    grades: tuple[str, ...]
    objects: tuple[str, ...] = ("*",)
    reason: str = ""

    def matches(self, role: str, obj: str | None) -> bool:
        if not fnmatch.fnmatchcase(role, self.name):
            return False
        if obj is None:
            return True
        table = ".".join(obj.split(".")[:2])
        return any(fnmatch.fnmatchcase(obj, p) or fnmatch.fnmatchcase(table, p) for p in self.objects)


@dataclass(frozen=True)
class AccessPolicy:
    """Least privilege (obligation 3): which grantees may read which grades.

    ``public_grades`` / ``wildcard_host_grades``: grades PUBLIC and accounts with a wildcard host may
    read (the default pack: none). ``roles``: explicitly named roles and what they may read.
    ``other_role_grades``: grades every role may read (the default pack: C2 and C1, so only named
    roles read C3). ``row_security_grades``: tables holding these grades need row-level
    security or column-level grants. ``exempt_roles``: globs of roles whose access is not reported
    (e.g. the DBA account the review already covers). Names are PostgreSQL role names; MySQL/MariaDB
    accounts match as ``user`` (any host), ``user@host`` or ``'user'@'host'``, roles by name. A role
    is allowed when it or any role it inherits the privilege through is allowed.
    """

    public_grades: tuple[str, ...] = ()
    wildcard_host_grades: tuple[str, ...] = ()
    other_role_grades: tuple[str, ...] = ()
    row_security_grades: tuple[str, ...] = ()
    exempt_roles: tuple[str, ...] = ()
    roles: tuple[RoleAllowance, ...] = ()

    def exempt(self, role: str) -> bool:
        return any(fnmatch.fnmatchcase(role, p) for p in self.exempt_roles)

    def role_allowed(self, role: str, grade_id: str, obj: str | None = None) -> bool:
        """Whether ``role`` may read data of ``grade_id`` (in ``obj``, ``schema.table[.column]``).

        ``other_role_grades`` is the baseline every role gets; ``roles`` entries add grades on top,
        limited to their ``objects``.
        """
        if self.exempt(role) or grade_id in self.other_role_grades:
            return True
        return any(r.matches(role, obj) and grade_id in r.grades for r in self.roles)


@dataclass(frozen=True)
class VolumeGrading:
    """How loud a file's plaintext-personal-data finding is, by how many people it exposes.

    Contact data (``entities``: e-mail addresses, phone numbers) is everywhere in documents, so its
    findings are graded by distinct values (keyed hashes): at most ``incidental_max_distinct`` people
    (an author's e-mail in a README) is a note, fewer than ``bulk_min_distinct`` a warning, from there
    on (an export) the grade's level. Identity and financial numbers keep the grade's level at any
    volume: one resident ID in a file is a scanned identity document. ``locations`` cap the level of
    every file finding under path globs. Logs are not graded by volume: they must mask every value.
    """

    entities: tuple[str, ...] = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CN_MOBILE_NUMBER")
    incidental_max_distinct: int = 2
    bulk_min_distinct: int = 10
    locations: tuple[tuple[tuple[str, ...], Level], ...] = ()

    def level(self, level: Level, distinct: dict[str, int], path: str) -> Level:
        """``level`` (the grade's) lowered for ``distinct`` values per entity type at ``path``."""
        if distinct and all(e in self.entities for e in distinct):
            most = max(distinct.values())
            if most <= self.incidental_max_distinct:
                level = _lower(level, Level.NOTE)
            elif most < self.bulk_min_distinct:
                level = _lower(level, Level.WARNING)
        for paths, cap in self.locations:
            if any(_glob(path, g) for g in paths):
                level = _lower(level, cap)
        return level


def _lower(level: Level, cap: Level) -> Level:
    return cap if level.rank > cap.rank else level


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
    kms_required_grades: tuple[str, ...] = ()
    retention: tuple[RetentionRule, ...] = ()
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = ""
    access: AccessPolicy | None = None
    description: str = ""
    obligations: dict[int, str] = field(default_factory=dict)  # obligation number -> regulation reference
    third_party_globs: tuple[str, ...] = ()
    volume: VolumeGrading = field(default_factory=VolumeGrading)
    kinds: dict[str, str | None] = field(default_factory=dict)

    def grade_of(self, entity_type: str) -> Grade | None:
        """The grade of an entity type or field class: the pack's ``entities`` entry, else the grade of
        its kind (so a recognizer added later is graded without an edit to the pack); None when the
        policy calls it not personal or does not grade it."""
        if entity_type in self.entities:
            grade_id = self.entities[entity_type]
        else:
            grade_id = self.kinds.get(kind_of(entity_type) or "")
        return self.grades.get(grade_id) if grade_id else None

    def ungraded(self, entity_types: Any) -> list[str]:
        """Those of ``entity_types`` whose results this policy drops without saying so: neither an
        ``entities`` entry (a null there is a decision) nor a graded kind."""
        return sorted(e for e in entity_types if e not in self.entities and kind_of(e) not in self.kinds)

    def highest_grade(self, entity_types: Any) -> Grade | None:
        graded = [g for g in (self.grade_of(e) for e in entity_types) if g is not None]
        return max(graded, key=lambda g: g.rank) if graded else None

    def is_log(self, relative_path: str) -> bool:
        return _any_glob(relative_path, tuple(self.log_globs))

    def is_third_party(self, path: str) -> bool:
        """Third-party software or documentation (``locations.third_party``), matched on the full path."""
        return _any_glob(path, tuple(self.third_party_globs))

    def rule_enabled(self, rule_id: str, default: bool = True) -> bool:
        return bool(self.rules.get(rule_id, {}).get("enabled", default))

    def rule_level(self, rule_id: str, grade: Grade | None, default: Level) -> Level:
        override = self.rules.get(rule_id, {}).get("level")
        if override:
            return Level(override)
        return grade.level if grade is not None else default

    def file_level(self, rule_id: str, grade: Grade, default: Level, distinct: dict[str, int], path: str) -> Level:
        """A file finding's level: an explicit ``rules:`` level wins, else the grade's lowered by volume."""
        if self.rules.get(rule_id, {}).get("level"):
            return self.rule_level(rule_id, grade, default)
        return self.volume.level(self.rule_level(rule_id, grade, default), distinct, path)


@lru_cache(maxsize=65536)
def _any_glob(path: str, patterns: tuple[str, ...]) -> bool:
    """Whether any one of ``patterns`` matches (each on its own); remembered, as several rules ask about
    the same file."""
    return any(_glob(path, g) for g in patterns)


def _glob(relative: str, pattern: str) -> bool:
    """One policy glob, with gitignore semantics (:mod:`scanner.globs`)."""
    return matches(relative, (pattern,))


def builtin_policy_names() -> list[str]:
    return sorted(
        p.name[: -len(".yaml")]
        for p in resources.files("policies").iterdir()
        if p.name.endswith(".yaml") and not p.name.startswith("_")
    )


def _volume(data: dict[str, Any]) -> VolumeGrading:
    default = VolumeGrading()
    return VolumeGrading(
        entities=tuple(data.get("entities", default.entities)),
        incidental_max_distinct=data.get("incidental_max_distinct", default.incidental_max_distinct),
        bulk_min_distinct=data.get("bulk_min_distinct", default.bulk_min_distinct),
        locations=tuple((tuple(loc["paths"]), Level(loc["max_level"])) for loc in data.get("locations", ())),
    )


def load_policy(name_or_path: str | None = None) -> Policy:
    """Load a built-in pack by name (``financial-cn``) or a policy file by path."""
    name_or_path = name_or_path or DEFAULT_POLICY
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        text = read_yaml_file(path, "policy file")
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
    errors.extend(
        f"{source}:{lines.get(('kinds', kind), '?')}: kinds.{kind}: grade {grade!r} is not defined in grades "
        f"(defined: {', '.join(grades)})"
        for kind, grade in data.get("kinds", {}).items()
        if grade is not None and grade not in grades
    )
    access_data = data.get("access")
    if access_data is not None:
        errors.extend(_undefined_access_grades(access_data, grades, source, lines))
    errors.extend(
        f"{source}:{lines.get(('encryption', key), '?')}: encryption.{key}: grade {grade!r} is not defined in grades"
        for key in ("required_grades", "kms_required_grades")
        for grade in data.get("encryption", {}).get(key, ())
        if grade not in grades
    )
    errors.extend(_unknown_rules(data.get("rules", {}), source, lines))
    if errors:
        raise ConfigError(source, errors)
    return Policy(
        name=data["name"],
        title=data.get("title", data["name"]),
        grades=grades,
        entities=dict(data["entities"]),
        log_globs=tuple(data.get("locations", {}).get("logs", ())),
        third_party_globs=tuple(data.get("locations", {}).get("third_party", ())),
        kinds=dict(data.get("kinds", {})),
        volume=_volume(data.get("volume", {})),
        world_readable=data.get("exposure", {}).get("world_readable", True),
        group_readable=data.get("exposure", {}).get("group_readable", False),
        encryption_required=tuple(data.get("encryption", {}).get("required_grades", ())),
        kms_required_grades=tuple(data.get("encryption", {}).get("kms_required_grades", ())),
        retention=tuple(
            RetentionRule(tuple(r["paths"]), r["max_age_days"], tuple(r.get("grades", ())))
            for r in data.get("retention", ())
        ),
        rules=dict(data.get("rules", {})),
        source=source,
        access=_build_access(access_data) if access_data is not None else None,
        description=data.get("description", "").strip(),
        obligations={o["id"]: o["reference"] for o in data.get("obligations", ())},
    )


def _undefined_access_grades(access: dict, grades: dict[str, Grade], source: str, lines: dict) -> list[str]:
    """Grades named in ``access`` must exist, like those in ``entities``."""
    errors = []
    lists: list[tuple[tuple, list]] = [
        (("access", key), access.get(key, []))
        for key in ("public_grades", "wildcard_host_grades", "other_role_grades", "row_security_grades")
    ]
    lists += [(("access", "roles", i, "grades"), r.get("grades", [])) for i, r in enumerate(access.get("roles", []))]
    for path, values in lists:
        for index, grade in enumerate(values):
            if grade not in grades:
                line = lines.get((*path, index), lines.get(path, "?"))
                errors.append(
                    f"{source}:{line}: {'.'.join(map(str, path))}: grade {grade!r} is not defined in grades "
                    f"(defined: {', '.join(grades)})"
                )
    return errors


def _unknown_rules(rules: dict, source: str, lines: dict) -> list[str]:
    """A misspelt rule ID under ``rules`` would silently change nothing: reject it like an unknown key."""
    if not rules:
        return []
    from difflib import get_close_matches

    from scanner.registry import RULES

    known = RULES.names()
    errors = []
    for rule_id in rules:
        if rule_id not in known:
            close = get_close_matches(rule_id, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known rules: {', '.join(known)}"
            errors.append(f"{source}:{lines.get(('rules', rule_id), '?')}: rules.{rule_id}: unknown rule; {hint}")
    return errors


def _build_access(access: dict) -> AccessPolicy:
    return AccessPolicy(
        public_grades=tuple(access.get("public_grades", ())),
        wildcard_host_grades=tuple(access.get("wildcard_host_grades", ())),
        other_role_grades=tuple(access.get("other_role_grades", ())),
        row_security_grades=tuple(access.get("row_security_grades", ())),
        exempt_roles=tuple(access.get("exempt_roles", ())),
        roles=tuple(
            RoleAllowance(r["name"], tuple(r["grades"]), tuple(r.get("objects", ("*",))), r.get("reason", ""))
            for r in access.get("roles", ())
        ),
    )


def kind_of(entity_type: str) -> str | None:
    """What ``entity_type`` is (:data:`~scanner.detection.recognizer.KINDS`): its recognizer's declared
    kind, else the vocabulary's (name-only and NER types); None for a name nobody registered."""
    from scanner.detection.fields import entity_type as vocabulary_entry
    from scanner.registry import RECOGNIZERS

    for recognizer in RECOGNIZERS:
        if recognizer.entity_type == entity_type:
            return recognizer.kind
    entry = vocabulary_entry(entity_type)
    return entry.kind if entry is not None else None


def known_entity_types() -> list[str]:
    """Every entity type a result may carry: the registered recognizers' and the vocabulary's."""
    from scanner.detection.fields import entity_types
    from scanner.registry import RECOGNIZERS

    return sorted({r.entity_type for r in RECOGNIZERS} | set(entity_types()))
