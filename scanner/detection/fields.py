"""Field-name classification: what a column header, JSON key, log key or database column name means.

One classifier serves content detection (hints raise or lower a match's score), the database
connectors (column names, comments, types and the table they sit in) and the migration checker
(schema changes), so the three agree on what ``sfzh``, ``shouji``, ``phone_confirmed_at`` or
``branch.name`` mean. The vocabulary is data (``field_names.yaml``), in English, pinyin and Chinese.

Names are read by meaning, not by spelling:

* a name is split into tokens (``durationNs``, ``duration_ns``, ``elapsed-ms``, ``x.trace.id``,
  ``PHONE_NO`` and ``phoneNumber`` all give the same words); Chinese is split into characters, so a
  run of tokens is a run of characters and ``客户手机号`` ends with ``手机号``;
* the *last* meaningful word says what the field is (English compounds are head-final:
  ``email_change_token`` is a token, ``identity_recovery_address_id`` a key, ``phone_confirmed_at`` a
  time), after trailing modifiers (``_new``, ``_hash``, ``2``, ``密文``) are set aside and number words
  (``_no``, ``_number``, ``号码``) are looked through;
* a role or unit suffix (``_at/_ts/_date/_ns/_ms/_bytes/_count/_length/_id/_type/_status/_via``,
  ``时间/类型/状态``) rules a personal word before it out, and so does a column type that cannot hold
  the value (a timestamp, boolean, UUID, enum or 32-bit integer is never a mobile number);
* a bare ``name`` is a person's name only in a table of people (customers, users, 客户, kehu ...), or
  when the values look like names; ``branch.name`` and ``products.name`` are not personal.

Entity types come from one registry (``entity_types`` in the vocabulary): every type a result may
carry is a recognizer's or a documented name-only type (:func:`entity_types`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

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


# -- tokens ---------------------------------------------------------------------------------------

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_IS_CJK = re.compile(f"[{_CJK}]")
_PIECES = re.compile(r"[^\W_]+")
# inside one piece: acronym before a capitalised word (XMLHttp), capitalised or lower-case words,
# an all-caps run, digits, a CJK character, any other letters (accented, Cyrillic ...)
_WORD = re.compile(
    rf"[{_CJK}]|[A-ZÀ-Þ]+(?=[A-ZÀ-Þ][a-zß-ÿ])|[A-ZÀ-Þ]?[a-zß-ÿ]+|[A-ZÀ-Þ]+|\d+|[^\W\d_{_CJK}A-Za-zÀ-ÿ]+",
)
# a digit run straight after a short letter word stays attached: md5, sha256, ipv4, e164, cvv2, sm3
_SHORT_WITH_DIGITS = re.compile(r"[a-z]{1,3}\d+")


def tokenize_field_name(name: str) -> list[str]:
    """``durationNs``/``duration_ns``/``Duration-NS`` -> ``['duration', 'ns']``; ``手机号码`` -> its characters.

    NFKC first, so full-width letters and digits read as ASCII; plural words are made singular
    (``addresses`` -> ``address``, ``ids`` stays) so ``emails`` means what ``email`` means.
    """
    text = unicodedata.normalize("NFKC", name)
    tokens: list[str] = []
    for piece in _PIECES.findall(text):
        words = _WORD.findall(piece)
        merged: list[str] = []
        for word in words:
            if word.isdigit() and merged and _SHORT_WITH_DIGITS.fullmatch(merged[-1].lower() + word) \
                    and not merged[-1].isdigit() and len(merged[-1]) <= 3 and not _IS_CJK.match(merged[-1]):
                merged[-1] += word
            else:
                merged.append(word)
        tokens.extend(_singular(w.lower()) for w in merged)
    return tokens


def _singular(word: str) -> str:
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ns", "ms", "ps")):
        return word[:-1]
    return word


def normalize_field_name(name: str) -> str:
    """``ID_Card-No`` / ``idCardNo`` / ``"id card no"`` -> ``idcardno``."""
    return _SEPARATORS.sub("", _CAMEL.sub("", unicodedata.normalize("NFKC", name))).lower()


def _norm_term(term: str) -> str:
    """A vocabulary entry as the joined tokens of a name (so ``bank_accounts`` matches ``bankaccount``)."""
    return "".join(tokenize_field_name(term))


# -- SQL types ------------------------------------------------------------------------------------

_TYPE_FAMILIES: list[tuple[str, re.Pattern[str]]] = [
    ("enum", re.compile(r"^(?:enum|set)\b")),
    ("boolean", re.compile(r"^(?:bool|boolean|bit(?:\s*\(\s*1\s*\))?|tinyint\s*\(\s*1\s*\)(?:\s+unsigned)?)$")),
    ("temporal", re.compile(r"^(?:timestamp|timestamptz|datetime|datetime2|smalldatetime|date|time|timetz|year)\b")),
    ("interval", re.compile(r"^interval\b")),
    ("uuid", re.compile(r"^(?:uuid|uniqueidentifier)\b")),
    ("smallint", re.compile(r"^(?:smallint|tinyint|int2|smallserial|serial2)\b")),
    ("bigint", re.compile(r"^(?:bigint|int8|bigserial|serial8|long)\b")),
    ("integer", re.compile(r"^(?:int|integer|int4|mediumint|serial|serial4)\b")),
    ("decimal", re.compile(r"^(?:numeric|decimal|dec|number|money|smallmoney)\b")),
    ("float", re.compile(r"^(?:real|float|float4|float8|double)\b")),
    ("network", re.compile(r"^(?:inet|cidr)\b")),
    ("mac", re.compile(r"^macaddr")),
    ("binary", re.compile(r"^(?:bytea|blob|tinyblob|mediumblob|longblob|binary|varbinary|image|raw)\b")),
    ("json", re.compile(r"^(?:json|jsonb|hstore|xml|variant|object)\b")),
    ("text", re.compile(r"^(?:char|character|varchar|nchar|nvarchar|varchar2|nvarchar2|bpchar|text|tinytext|"
                        r"mediumtext|longtext|ntext|citext|clob|nclob|string|name|tsvector)\b")),
]


def sql_type_family(sql_type: str | None) -> str:
    """The family of a declared column type, as PostgreSQL ``format_type``, MySQL ``COLUMN_TYPE`` or
    sqlglot write it: text, integer (32-bit), smallint, bigint, decimal, float, boolean, temporal,
    interval, uuid, enum, network, mac, binary, json; ``unknown`` without a type, ``other`` for types
    the classifier does not know (user-defined types, domains)."""
    if not sql_type:
        return "unknown"
    text = sql_type.strip().lower()
    text = re.sub(r"^(?:[a-z_][a-z0-9_]*\.)?(?=\w)", lambda m: "" if m.group(0) in ("pg_catalog.", "public.") else
                  m.group(0), text)
    if text.endswith("[]"):
        text = text[:-2].strip()
    array = re.match(r"^array\s*<\s*(.*)>$", text)
    if array:
        text = array.group(1)
    text = re.sub(r"^unsigned\s+|^u(?=(?:int|bigint|smallint|tinyint|mediumint)\b)", "", text)  # sqlglot's UINT
    for family, pattern in _TYPE_FAMILIES:
        if pattern.match(text):
            return family
    return "other"


#: families a class may be stored in when its vocabulary entry says nothing (``sql_types``)
DEFAULT_TYPE_FAMILIES = ("text", "json", "binary", "unknown", "other")


# -- the vocabulary -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityType:
    """A type a result may carry: a recognizer's (validated values), a name-only one (judged from a
    column name, no content recognizer) or one found by a named-entity model (``ner``)."""

    name: str
    source: str  # recognizer | name-only | ner
    kind: str  # identity | contact | financial | network | authentication | organisation | location
    personal: bool
    description: str = ""


@dataclass(frozen=True)
class FieldHint:
    """What a field name says: the field classes it suggests, and whether it is known non-personal.

    ``negative`` is set for names whose values are known not to be personal identifiers (order numbers,
    timestamps, durations, a personal word ruled out by its suffix or type); content matches under
    such a name lose score. ``conditional`` holds classes a name suggests only with more evidence (a
    bare ``name`` outside a table of people: sampled values must look like names). ``reason`` says why
    a personal-looking name was ruled out.
    """

    name: str
    classes: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    negative: bool = False
    conditional: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def personal(self) -> bool:
        return bool(self.classes) and not self.negative


@dataclass(frozen=True)
class _FieldClass:
    name: str
    entities: tuple[str, ...]
    exact: frozenset[str]
    words: frozenset[str]
    contains: tuple[str, ...]
    type_families: frozenset[str]


def _terms(values: Iterable[str]) -> frozenset[str]:
    bad = [v for v in values if not isinstance(v, str)]
    if bad:  # YAML 1.1 reads a bare on/no/yes as a boolean
        raise ValueError(f"field_names.yaml: {bad[0]!r} is not a string; quote it")
    return frozenset(t for t in (_norm_term(v) for v in values) if t)


class FieldClassifier:
    """Classifies field names against the vocabulary in ``field_names.yaml``."""

    def __init__(self, vocabulary: dict[str, Any]) -> None:
        self.entity_types = {
            name: EntityType(name, spec["source"], spec["kind"], bool(spec.get("personal", True)),
                             str(spec.get("description", "")))
            for name, spec in (vocabulary.get("entity_types") or {}).items()
        }
        self._classes = [
            _FieldClass(
                name=cls_name,
                entities=tuple(spec.get("entities", ())),
                exact=_terms(spec.get("exact", ())),
                words=_terms(spec.get("words", ())),
                contains=tuple(sorted(_terms(spec.get("contains", ())), key=len, reverse=True)),
                type_families=frozenset(spec.get("sql_types", ())) | frozenset(DEFAULT_TYPE_FAMILIES),
            )
            for cls_name, spec in vocabulary["classes"].items()
        ]
        self._by_name = {c.name: c for c in self._classes}
        self._exact: dict[str, list[_FieldClass]] = {}
        self._words: dict[str, list[_FieldClass]] = {}
        for c in self._classes:
            for term in c.exact:
                self._exact.setdefault(term, []).append(c)
            for term in c.words:
                self._words.setdefault(term, []).append(c)
        negative = vocabulary.get("negative", {})
        self._neg_exact = _terms(negative.get("exact", ()))
        self._neg_contains = tuple(_terms(negative.get("contains", ())))
        self._not_personal = _terms(negative.get("not_personal", ()))
        roles = vocabulary.get("roles", {})
        self._roles = {term: group for group, words in roles.items() for term in _terms(words)}
        self._negative_roles = frozenset(vocabulary.get("negative_role_groups", ()))
        self._text_roles = frozenset(vocabulary.get("text_role_groups", ()))
        self._modifiers = _terms(vocabulary.get("modifiers", ()))
        self._transparent = _terms(vocabulary.get("transparent", ()))
        self._flag_prefixes = _terms(vocabulary.get("flag_prefixes", ()))
        person = vocabulary.get("people", {})
        self._person_words = _terms(person.get("words", ()))
        self._person_table_modifiers = _terms(person.get("table_modifiers", ()))
        self._name_words = _terms(person.get("name_words", ()))
        self._generic = _terms(vocabulary.get("generic_columns", ()))
        self._role_terms = frozenset(self._roles)
        self._max_run = max((len(t) for t in (*self._exact, *self._words, *self._roles, *self._not_personal,
                                              *self._modifiers, *self._transparent, *self._person_words,
                                              *self._person_table_modifiers, *self._name_words)), default=1)

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self._classes]

    def class_entities(self, name: str) -> tuple[str, ...]:
        cls = self._by_name.get(name)
        return cls.entities if cls else ()

    # -- public -----------------------------------------------------------------------------------

    def classify(self, name: str, comment: str | None = None, sql_type: str | None = None,
                 table: str | None = None) -> FieldHint:
        """Classify a field by its name, falling back to its comment (database column comments).

        ``sql_type`` (a declared column type) rules out classes the type cannot hold; ``table`` (the
        relation's name) decides a bare ``name`` and generic columns (``value`` in a table of
        addresses)."""
        hint = self._classify_name(name, table)
        if not hint.classes and not hint.negative and comment:
            from_comment = self._classify_comment(comment)
            if from_comment.classes:
                hint = FieldHint(name, from_comment.classes, from_comment.entities, False, reason="comment")
        if sql_type is not None:
            hint = self._by_type(hint, sql_type_family(sql_type))
        return hint

    def is_person_table(self, table: str | None) -> bool:
        """Whether a table holds people (``customers``, ``auth.users``, ``t_kehu_xinxi``, ``客户信息表``):
        its head word, after table modifiers (``info``, ``list``, ``信息``, ``表``), names people."""
        if not table:
            return False
        tokens = tokenize_field_name(table.rsplit(".", 1)[-1])
        while len(tokens) > 1 and self._run_at_end(tokens, self._person_table_modifiers):
            tokens = tokens[: len(tokens) - self._run_at_end(tokens, self._person_table_modifiers)]
        return bool(self._run_at_end(tokens, self._person_words))

    # -- names ------------------------------------------------------------------------------------

    def _hint(self, raw: str, classes: list[_FieldClass], reason: str | None = None) -> FieldHint:
        entities: list[str] = []
        names: list[str] = []
        for c in classes:
            if c.name not in names:
                names.append(c.name)
            entities.extend(e for e in c.entities if e not in entities)
        return FieldHint(raw, tuple(names), tuple(entities), False, reason=reason)

    def _run_at_end(self, tokens: list[str], terms: frozenset[str]) -> int:
        """Length (in tokens) of the longest run ending at the last token that is one of ``terms``."""
        joined = ""
        best = 0
        for i in range(len(tokens) - 1, -1, -1):
            joined = tokens[i] + joined
            if len(joined) > self._max_run:
                break
            if joined in terms:
                best = len(tokens) - i
        return best

    def _class_at_end(self, tokens: list[str]) -> tuple[int, list[_FieldClass] | None]:
        """The class(es) of the longest vocabulary run ending at the last token; None for a neutral run
        (``mac_address``, ``phone_model``), ``(0, None)`` for nothing."""
        joined = ""
        best: tuple[int, list[_FieldClass] | None] = (0, None)
        for i in range(len(tokens) - 1, -1, -1):
            joined = tokens[i] + joined
            if len(joined) > self._max_run:
                break
            if joined in self._not_personal or (joined in self._neg_exact and i < len(tokens) - 1):
                best = (len(tokens) - i, None)
            elif joined in self._words:
                best = (len(tokens) - i, self._words[joined])
            elif i == 0 and joined in self._exact:
                best = (len(tokens) - i, self._exact[joined])
        return best

    def _strip_modifiers(self, tokens: list[str]) -> list[str]:
        while len(tokens) > 1:
            if tokens[-1].isdigit():
                tokens = tokens[:-1]
                continue
            n = self._run_at_end(tokens, self._modifiers)
            if not n or n >= len(tokens):
                break
            tokens = tokens[:-n]
        return tokens

    def _classify_name(self, raw: str, table: str | None) -> FieldHint:
        tokens = tokenize_field_name(raw)
        norm = "".join(tokens)
        if not norm:
            return FieldHint(raw)
        if norm in self._not_personal or norm in self._neg_exact:
            return FieldHint(raw, negative=True)
        if norm in self._exact:
            return self._hint(raw, self._exact[norm])
        for k in range(1, min(3, len(tokens))):
            if "".join(tokens[:k]) in self._flag_prefixes:
                # is_email_verified, has_mobile, 是否实名: a yes/no flag, whatever follows
                prefix = "".join(tokens[:k])
                reason = f"a flag ({prefix})" if self._mentions_personal(tokens[k:]) else None
                return FieldHint(raw, negative=True, reason=reason)
        tokens = self._strip_modifiers(tokens)
        return self._head(raw, tokens, table)

    def _head(self, raw: str, tokens: list[str], table: str | None) -> FieldHint:
        """Head-final reading of ``tokens`` (modifiers already stripped)."""
        while True:
            length, classes = self._class_at_end(tokens)
            if length and classes is None:
                return FieldHint(raw, negative=True)
            if length and classes:
                return self._hint(raw, classes)
            names = self._run_at_end(tokens, self._name_words)
            if names:
                return self._person_name(raw, tokens[: len(tokens) - names], table)
            role = self._run_at_end(tokens, self._role_terms)
            if role:
                return self._ruled_out(raw, tokens, role)
            transparent = self._run_at_end(tokens, self._transparent)
            if transparent and transparent < len(tokens):
                tokens = tokens[: len(tokens) - transparent]
                continue
            break
        if table and "".join(tokens) in self._generic:
            from_table = self._classify_name(table.rsplit(".", 1)[-1], None)
            if from_table.classes and not from_table.negative:
                return FieldHint(raw, from_table.classes, from_table.entities, False, reason="table")
        return self._contains(raw, tokens)

    def _person_name(self, raw: str, before: list[str], table: str | None) -> FieldHint:
        """``name`` (``名称``, ``display_name``): a person's name after a person word (``customer_name``,
        ``客户名称``) or in a table of people; otherwise only if the values look like names."""
        person = self._by_name["PERSON_NAME"]
        if before and self._run_at_end(before, self._person_words):
            return self._hint(raw, [person])
        if before:
            return FieldHint(raw)  # product_name, branch_name: a thing's name
        if self.is_person_table(table):
            return self._hint(raw, [person], reason="table of people")
        return FieldHint(raw, conditional=(person.name,))

    def _ruled_out(self, raw: str, tokens: list[str], role_len: int) -> FieldHint:
        """A role or unit suffix: about something, not the thing (``phone_confirmed_at``, ``address_id``)."""
        suffix = "".join(tokens[len(tokens) - role_len:])
        group = self._roles[suffix]
        head = tokens[: len(tokens) - role_len]
        if self._mentions_personal(head):
            # ruled out; known not to hold identifiers unless it is text about the thing (email_body)
            return FieldHint(raw, negative=group not in self._text_roles, reason=f"suffix {suffix!r} ({group})")
        return FieldHint(raw, negative=group in self._negative_roles)

    def _mentions_personal(self, tokens: list[str]) -> bool:
        """Whether any run of ``tokens`` is a personal word or stem (``phone`` in ``phone_confirmed``)."""
        norm = "".join(tokens)
        for i in range(len(tokens)):
            joined = ""
            for j in range(i, len(tokens)):
                joined += tokens[j]
                if joined in self._words or joined in self._exact or joined in self._name_words:
                    return True
        return any(stem in norm for c in self._classes for stem in c.contains)

    def _neutral_spans(self, norm: str) -> list[tuple[int, int]]:
        spans = []
        for term in self._not_personal:
            at = norm.find(term)
            while at >= 0:
                spans.append((at, at + len(term)))
                at = norm.find(term, at + 1)
        return spans

    def _contains(self, raw: str, tokens: list[str]) -> FieldHint:
        """Glued words (``customermobile``, ``kehushoujihao``) and unknown last words (``email_change``):
        a vocabulary stem anywhere, unless a role word follows it."""
        norm = "".join(tokens)
        starts = []
        pos = 0
        for t in tokens:
            starts.append(pos)
            pos += len(t)
        neutral = self._neutral_spans(norm)
        matched: list[_FieldClass] = []
        for c in self._classes:
            for stem in c.contains:
                at = norm.find(stem)
                if at < 0:
                    continue
                end = at + len(stem)
                if any(s <= at and end <= e for s, e in neutral):
                    continue  # microphone, phonemodel: a neutral word holds the stem
                after = [t for t, s in zip(tokens, starts, strict=True) if s >= end]
                if not any(self._run_at_end(after[: i + 1], self._role_terms) for i in range(len(after))):
                    matched.append(c)
                break
        if matched:
            return self._hint(raw, matched)
        negative = any(part in norm for part in self._neg_contains)
        return FieldHint(raw, negative=negative)

    def _classify_comment(self, comment: str) -> FieldHint:
        """A column comment is prose (``用户的手机号码，用于登录``): each phrase is read as a name, and the
        classes found are pooled."""
        found: list[_FieldClass] = []
        for phrase in re.split(r"[,，;；。:：、()（）\n]+", comment):
            phrase = phrase.strip()
            if not phrase:
                continue
            hint = self._classify_name(phrase, None)
            if hint.negative:
                continue
            classes = [self._by_name[c] for c in hint.classes]
            if not classes:
                classes = self._contains_anywhere(phrase)
            found.extend(c for c in classes if c not in found)
        return self._hint(comment, found)

    def _contains_anywhere(self, text: str) -> list[_FieldClass]:
        tokens = tokenize_field_name(text)
        hint = self._contains(text, tokens)
        return [self._by_name[c] for c in hint.classes]

    # -- types ------------------------------------------------------------------------------------

    def _by_type(self, hint: FieldHint, family: str) -> FieldHint:
        """Drop classes the declared type cannot hold (``phone_confirmed_at timestamptz``, ``address_type
        enum``); an ``inet`` column named as an address holds an IP address."""
        if not hint.classes and not hint.conditional:
            return hint
        if family == "network":
            ip = self._by_name.get("IP_ADDRESS")
            if ip is not None and hint.classes:
                return self._hint(hint.name, [ip], reason=hint.reason)
        kept = [self._by_name[c] for c in hint.classes if family in self._by_name[c].type_families]
        conditional = tuple(c for c in hint.conditional if family in self._by_name[c].type_families)
        if len(kept) == len(hint.classes) and conditional == hint.conditional:
            return hint
        if kept:
            return self._hint(hint.name, kept, reason=hint.reason)
        if hint.classes:
            return FieldHint(hint.name, negative=True, conditional=conditional, reason=f"type {family}")
        return FieldHint(hint.name, conditional=conditional)


# -- values ---------------------------------------------------------------------------------------

_LATIN_NAME_WORD = re.compile(r"^(?:[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)*|[A-Z]\.|Mc[A-Z][a-z]+|O'[A-Z][a-z]+|"
                              r"[A-Z][a-zà-ÿ]+|(?:van|von|de|der|den|da|di|du|le|la|bin|al)$)$")
_CJK_NAME = re.compile(rf"^[{_CJK}]{{2,4}}$|^[{_CJK}]{{1,6}}[·•][{_CJK}]{{1,8}}$")


@dataclass(frozen=True)
class _NameLexicon:
    surnames: frozenset[str]
    compound_surnames: tuple[str, ...]
    not_in_names: frozenset[str]
    not_name_words: frozenset[str]


def looks_like_person_name(value: str) -> bool:
    """Whether a value reads as a person's name: two to four Han characters starting with a common
    surname (single or compound) and free of the characters organisations and products use
    (``行``, ``店``, ``卡``, ``部`` ...), or two or three capitalised Latin words none of which is a
    common product, place or organisation word (``Gold Card``, ``Spring Sale`` are not names).

    A name has no checksum: this is evidence for a bare ``name`` column only, judged over a sample.
    """
    lexicon = _lexicon()
    text = unicodedata.normalize("NFKC", value).strip()
    if not text or len(text) > 40:
        return False
    if _IS_CJK.match(text):
        if not _CJK_NAME.match(text):
            return False
        if "·" in text or "•" in text:
            return True  # transliterated or minority names: 阿依古丽·买买提
        surname = 2 if text[:2] in lexicon.compound_surnames else 1 if text[0] in lexicon.surnames else 0
        given = text[surname:]
        return bool(surname) and bool(given) and not any(ch in lexicon.not_in_names for ch in given)
    words = text.replace(",", " ").split()
    if not 2 <= len(words) <= 4:
        return False
    if any(w.lower().strip(".") in lexicon.not_name_words for w in words):
        return False
    return all(_LATIN_NAME_WORD.match(w) for w in words)


def names_share(values: Iterable[str]) -> float:
    """Share of ``values`` that look like person names (:func:`looks_like_person_name`)."""
    values = [v for v in values if v and v.strip()]
    if not values:
        return 0.0
    return sum(1 for v in values if looks_like_person_name(v)) / len(values)


# -- defaults -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, Any]:
    text = resources.files("scanner.detection").joinpath("field_names.yaml").read_text("utf-8")
    # libyaml's loader when PyYAML was built with it: ~12x faster on this file, read by every process
    data: dict[str, Any] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return data


@lru_cache(maxsize=1)
def _lexicon() -> _NameLexicon:
    names = _vocabulary().get("person_name_values", {})
    surnames = "".join(names.get("surnames", ()))
    return _NameLexicon(
        surnames=frozenset(surnames.replace(" ", "")),
        compound_surnames=tuple(names.get("compound_surnames", ())),
        not_in_names=frozenset("".join(names.get("not_in_names", ())).replace(" ", "")),
        not_name_words=frozenset(w.lower() for w in names.get("not_name_words", ())),
    )


@lru_cache(maxsize=1)
def default_classifier() -> FieldClassifier:
    return FieldClassifier(with_recognizers(_vocabulary()))


def with_recognizers(vocabulary: dict[str, Any]) -> dict[str, Any]:
    """The vocabulary with what each registered recognizer declares about itself: its entity type (kind,
    description, whether it identifies a person) and the field names that announce its values, so a
    recognizer added later is one module (a ``nino`` column is read as a UK National Insurance number
    without an edit to ``field_names.yaml``). Entries in the file win."""
    from scanner.registry import RECOGNIZERS

    types = dict(vocabulary.get("entity_types") or {})
    classes = dict(vocabulary["classes"])
    for recognizer in RECOGNIZERS:
        name = recognizer.entity_type
        types.setdefault(name, {"source": "recognizer", "kind": recognizer.kind, "personal": recognizer.personal,
                                "description": recognizer.description})
        if recognizer.field_names and name not in classes:
            classes[name] = {"entities": [name], "words": list(recognizer.field_names)}
    return {**vocabulary, "entity_types": types, "classes": classes}


@lru_cache(maxsize=8192)
def classify_field(name: str, comment: str | None = None, sql_type: str | None = None,
                   table: str | None = None) -> FieldHint:
    """Cached classification with the default vocabulary (see :meth:`FieldClassifier.classify`)."""
    return default_classifier().classify(name, comment, sql_type, table)


def entity_types() -> dict[str, EntityType]:
    """The registry of entity types a result may carry (recognizers', name-only and NER types)."""
    return dict(default_classifier().entity_types)


def entity_type(name: str) -> EntityType | None:
    return default_classifier().entity_types.get(name)


def is_person_table(table: str | None) -> bool:
    return default_classifier().is_person_table(table)
