"""The candidate-first detection engine.

Presidio runs every recognizer's regex over the text and then validates; on logs that costs
~0.04 MiB/s and floods results with look-alikes. Here one multi-pattern pass (Hyperscan, falling
back to Python ``re`` where Hyperscan is not available) finds candidates in the raw UTF-8 bytes,
and only those candidates are checked: word boundary, checksum / calendar / allocation
(``Recognizer.validate``), masked forms, context words and field-name hints. Overlapping claims
go to the most specific recognizer, so one value is reported once.

The raw value exists only inside :meth:`Detector.scan`; what leaves is a :class:`Match` with masked
evidence and a keyed hash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scanner.detection.fields import FieldHint, classify_field
from scanner.detection.recognizer import Recognizer
from scanner.fingerprint import value_hash
from scanner.model import Chunk, Match, Protection
from scanner.registry import RECOGNIZERS

try:  # Hyperscan wheels exist for x86-64 Linux/macOS; elsewhere the slower re path is used.
    import hyperscan
except ImportError:  # pragma: no cover - exercised on platforms without the wheel
    hyperscan = None

CONTEXT_BOOST = 0.35
FIELD_BOOST = 0.35
NEGATIVE_FIELD_PENALTY = 0.5
DEFAULT_MIN_SCORE = 0.5
CONTEXT_WINDOW = 48

_KEY_BEFORE_VALUE = re.compile(
    rb"""["']?([A-Za-z_\x80-\xff][A-Za-z0-9_.\-\x80-\xff]{0,40})["']?\s{0,3}(?:[:=]|=>|\xef\xbc\x9a)\s{0,3}["']?\s{0,2}$"""
)


def _byte_table(chars: str) -> bytes:
    allowed = set(re.sub(r"(.)-(.)", lambda m: "".join(map(chr, range(ord(m[1]), ord(m[2]) + 1))), chars))
    return bytes(1 if chr(b) in allowed else 0 for b in range(256))


@dataclass
class _Entry:
    recognizer: Recognizer
    masked: bool
    regex: str
    score: float
    caseless: bool
    table: bytes


def _boundary(entry: _Entry) -> str:
    """Characters that may not touch a candidate; masked forms also may not touch ``*``/``#``."""
    return ("*#" if entry.masked else "") + entry.recognizer.boundary


@dataclass
class ChunkDetections:
    """What one chunk yielded: plaintext matches, and counts of masked values per entity."""

    matches: list[Match]
    masked: dict[str, int]


class Detector:
    """Runs a set of recognizers candidate-first over :class:`Chunk` bytes."""

    def __init__(
        self,
        recognizers: Sequence[Recognizer] | None = None,
        *,
        entities: Iterable[str] | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
        use_hyperscan: bool = True,
    ) -> None:
        if recognizers is None:
            wanted = set(entities) if entities is not None else None
            recognizers = [
                cls()
                for cls in RECOGNIZERS
                if (wanted is None and cls.enabled_by_default) or (wanted is not None and cls.entity_type in wanted)
            ]
        self.recognizers = list(recognizers)
        self.min_score = min_score
        self._entries: list[_Entry] = []
        self._context: dict[str, re.Pattern[bytes] | None] = {}
        for rec in self.recognizers:
            table = _byte_table(rec.boundary)
            masked_table = _byte_table("*#" + rec.boundary)
            for cand in rec.candidates:
                self._entries.append(_Entry(rec, False, cand.regex, cand.score, cand.caseless, table))
            for regex in rec.masked:
                self._entries.append(_Entry(rec, True, regex, 0.0, False, masked_table))
            words = [w.lower().encode("utf-8") for w in rec.context_words]
            self._context[rec.entity_type] = (
                re.compile(b"|".join(re.escape(w) for w in words)) if words else None
            )
        self.backend = "hyperscan" if (use_hyperscan and hyperscan is not None) else "re"
        if self.backend == "hyperscan":
            self._db = self._compile_hyperscan()
        else:
            self._regexes = [
                re.compile(
                    f"(?<![{_boundary(e)}])(?:{e.regex})(?![{_boundary(e)}])".encode(),
                    re.IGNORECASE if e.caseless else 0,
                )
                for e in self._entries
            ]

    def _compile_hyperscan(self):  # type: ignore[no-untyped-def]
        expressions, ids, flags = [], [], []
        for index, entry in enumerate(self._entries):
            boundary = _boundary(entry)
            expressions.append(f"(?:^|[^{boundary}])(?:{entry.regex})(?:[^{boundary}]|$)".encode())
            ids.append(index)
            flag = hyperscan.HS_FLAG_SOM_LEFTMOST | hyperscan.HS_FLAG_MULTILINE
            if entry.caseless:
                flag |= hyperscan.HS_FLAG_CASELESS
            flags.append(flag)
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=expressions, ids=ids, elements=len(expressions), flags=flags)
        return db

    # -- scanning -------------------------------------------------------------------------------

    def _candidates(self, data: bytes) -> list[tuple[int, int, int]]:
        """(start, end, entry index) of every bounded candidate, boundaries stripped."""
        if self.backend == "re":
            found = []
            for index, regex in enumerate(self._regexes):
                found.extend((m.start(), m.end(), index) for m in regex.finditer(data))
            return found
        hits: list[tuple[int, int, int]] = []
        append = hits.append

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            append((start, end, index))

        self._db.scan(data, match_event_handler=on_match)
        entries = self._entries
        out = set()
        for start, end, index in hits:
            table = entries[index].table
            if not table[data[start]]:
                start += 1
            if end > start and not table[data[end - 1]]:
                end -= 1
            out.add((start, end, index))
        return list(out)

    def scan(self, chunk: Chunk) -> ChunkDetections:
        data = chunk.data
        accepted: list[tuple[int, int, int, float, Recognizer, str, str | None]] = []
        masked_spans: list[tuple[int, int, str]] = []
        field_cache: dict[int, str | None] = {}
        for start, end, index in self._candidates(data):
            entry = self._entries[index]
            rec = entry.recognizer
            if entry.masked:
                masked_spans.append((start, end, rec.entity_type))
                continue
            text = data[start:end].decode("ascii", "replace")
            value = rec.normalize(text)
            verdict = rec.validate(value)
            if verdict is False:
                continue
            line_start = data.rfind(b"\n", 0, start) + 1
            window = data[max(line_start, start - CONTEXT_WINDOW) : start]
            field = self._field_for(chunk, data, line_start, start, window, field_cache)
            hint: FieldHint | None = classify_field(field) if field else None
            score = entry.score
            context_re = self._context[rec.entity_type]
            has_context = bool(context_re and context_re.search(window.lower()))
            if has_context:
                score += CONTEXT_BOOST
            if hint is not None:
                if hint.negative:
                    score -= NEGATIVE_FIELD_PENALTY
                elif rec.entity_type in hint.entities:
                    score += FIELD_BOOST
                    has_context = True
            if rec.requires_context and not has_context:
                continue
            if score < self.min_score:
                continue
            accepted.append((start, end, rec.priority, min(score, 1.0), rec, text, field))

        matches = self._to_matches(chunk, self._resolve_overlaps(accepted))
        masked: dict[str, int] = {}
        last_end = -1
        for start, end, entity in sorted(masked_spans):
            if start < last_end:
                continue
            last_end = end
            masked[entity] = masked.get(entity, 0) + 1
        return ChunkDetections(matches, masked)

    @staticmethod
    def _field_for(
        chunk: Chunk,
        data: bytes,
        line_start: int,
        start: int,
        window: bytes,
        cache: dict[int, str | None],
    ) -> str | None:
        if chunk.field is not None:
            return chunk.field
        if chunk.layout == "delimited" and chunk.fields:
            column = data.count(chunk.delimiter, line_start, start)
            return chunk.fields[column] if column < len(chunk.fields) else None
        found = _KEY_BEFORE_VALUE.search(window[-64:])
        if found is None:
            return None
        return found.group(1).decode("utf-8", "replace")

    @staticmethod
    def _resolve_overlaps(accepted: list) -> list:
        """Keep, among overlapping claims, the most specific (priority, then score, then length)."""
        accepted.sort(key=lambda a: (a[0], -a[1]))
        kept: list = []
        for cand in accepted:
            if kept and cand[0] < kept[-1][1]:
                best = kept[-1]
                if (cand[2], cand[3], cand[1] - cand[0]) > (best[2], best[3], best[1] - best[0]):
                    kept[-1] = cand
                continue
            kept.append(cand)
        return kept

    @staticmethod
    def _to_matches(chunk: Chunk, kept: list) -> list[Match]:
        data = chunk.data
        matches = []
        line = chunk.line_offset + 1
        position = 0
        for start, end, _priority, score, rec, text, field in kept:
            line += data.count(b"\n", position, start)
            position = start
            value = rec.normalize(text)
            matches.append(
                Match(
                    entity_type=rec.entity_type,
                    start=chunk.byte_offset + start,
                    end=chunk.byte_offset + end,
                    line=line,
                    score=round(score, 2),
                    evidence=rec.mask(text),
                    value_hash=value_hash(rec.entity_type, value),
                    protection=Protection.PLAINTEXT,
                    field=field,
                )
            )
        return matches


def detect_text(text: str, detector: Detector | None = None) -> list[Match]:
    """Convenience for tests and small inputs: detect in one string."""
    detector = detector or Detector()
    return detector.scan(Chunk(text.encode("utf-8"))).matches
