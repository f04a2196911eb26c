"""Field-name classification: what a column header, JSON key or database column name suggests.

One classifier serves content detection (hints raise or lower a match's score), the database
connector (column names and comments) and the migration checker (schema changes), so the three
agree on what ``sfzh``, ``shouji`` or ``卡号`` mean. The vocabulary is data
(``field_names.yaml``), in English, pinyin and Chinese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

_SEPARATORS = re.compile(r"[\s_\-.:/\\\[\]\"'`()]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


_NUMBER = re.compile(r"[-+]?[\d.,/: ]+\Z")
_DIGIT_RUN = re.compile(r"\d{5}")


def looks_like_value(name: str) -> bool:
    """Whether a would-be field name (a CSV header cell, a JSON key) is data: numbers, dates, runs of
    five or more digits, e-mail addresses. Exports without a header row and JSON keyed by customer
    ID make values look like names; taken for names, they would be reported as names."""
    if not name:
        return False
    return bool(_NUMBER.match(name)) or "@" in name or _DIGIT_RUN.search(name) is not None


def normalize_field_name(name: str) -> str:
    """``ID_Card-No`` / ``idCardNo`` / ``"id card no"`` -> ``idcardno``."""
    return _SEPARATORS.sub("", _CAMEL.sub("", name)).lower()


@dataclass(frozen=True)
class FieldHint:
    """What a field name says: the field classes it suggests, and whether it is known non-personal."""

    name: str
    classes: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    negative: bool = False

    @property
    def personal(self) -> bool:
        return bool(self.classes) and not self.negative


@dataclass(frozen=True)
class _FieldClass:
    name: str
    entities: tuple[str, ...]
    exact: frozenset[str]
    contains: tuple[str, ...]


class FieldClassifier:
    """Classifies field names against the vocabulary in ``field_names.yaml``."""

    def __init__(self, vocabulary: dict) -> None:
        self._classes = [
            _FieldClass(
                name=cls_name,
                entities=tuple(spec.get("entities", ())),
                exact=frozenset(normalize_field_name(n) for n in spec.get("exact", ())),
                contains=tuple(normalize_field_name(n) for n in spec.get("contains", ())),
            )
            for cls_name, spec in vocabulary["classes"].items()
        ]
        negative = vocabulary.get("negative", {})
        self._neg_exact = frozenset(normalize_field_name(n) for n in negative.get("exact", ()))
        self._neg_contains = tuple(normalize_field_name(n) for n in negative.get("contains", ()))
        self._not_personal = frozenset(normalize_field_name(n) for n in negative.get("not_personal", ()))

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self._classes]

    def classify(self, name: str, comment: str | None = None) -> FieldHint:
        """Classify a field by its name, falling back to its comment (database column comments)."""
        hint = self._classify_one(name)
        if not hint.classes and not hint.negative and comment:
            from_comment = self._classify_one(comment, exact_only=False)
            if from_comment.classes:
                return FieldHint(name, from_comment.classes, from_comment.entities, False)
        return hint

    def _classify_one(self, raw: str, exact_only: bool = False) -> FieldHint:
        norm = normalize_field_name(raw)
        if not norm:
            return FieldHint(raw)
        if norm in self._not_personal or norm in self._neg_exact:
            return FieldHint(raw, negative=True)
        matched = [c for c in self._classes if norm in c.exact]
        if not matched and not exact_only:
            matched = [c for c in self._classes if any(part in norm for part in c.contains)]
        if not matched:
            negative = any(part in norm for part in self._neg_contains)
            return FieldHint(raw, negative=negative)
        entities: list[str] = []
        for c in matched:
            entities.extend(e for e in c.entities if e not in entities)
        return FieldHint(raw, tuple(c.name for c in matched), tuple(entities), False)


@lru_cache(maxsize=1)
def default_classifier() -> FieldClassifier:
    text = resources.files("scanner.detection").joinpath("field_names.yaml").read_text("utf-8")
    return FieldClassifier(yaml.safe_load(text))


@lru_cache(maxsize=8192)
def classify_field(name: str, comment: str | None = None) -> FieldHint:
    """Cached classification with the default vocabulary."""
    return default_classifier().classify(name, comment)
