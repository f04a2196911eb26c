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

import bisect
import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from scanner.detection.fields import FieldHint, classify_field, looks_like_value
from scanner.detection.hyperscan_cache import compiled_database
from scanner.detection.recognizer import Recognizer
from scanner.fingerprint import load_key, value_hash
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
# Overlapping claims are settled by evidence first: a recognizer whose own context word or field name is
# present outranks one without, whatever their priorities (``身份证 12010119940118813X`` is an ID, the same
# value under ``统一社会信用代码`` a credit code); priority decides between equals.
EVIDENCE_PRIORITY = 1000
CONTEXT_WINDOW = 48
# the longest text a context-gated candidate (a national phone number, an IBAN as written) can span
GATED_SPAN = 80
# Candidates longer than this are not expected; unbounded patterns (e-mail) search back at most this
# far from a candidate's end for its start (and then to the line start if the candidate reaches it).
MAX_CANDIDATE_SPAN = 512
# Validation, normalisation, masking and hashing are pure functions of a candidate's bytes: their
# results are memoised per detector (values recur in logs: the same customers, the same accounts).
# The memo is bounded and simply cleared when full; it lives only in process memory.
VALUE_CACHE_SIZE = 8_192

_KEY_BEFORE_VALUE = re.compile(
    rb"""["']?([A-Za-z_\x80-\xff][A-Za-z0-9_.\-\x80-\xff]{0,40})["']?\s{0,3}(?:[:=]|=>|\xef\xbc\x9a)\s{0,3}["']?\s{0,2}$"""
)


class _ContextWords:
    """:func:`_context_regex` behind a substring test: the regex (a look-behind at every position, case
    folded) costs ~0.3 µs a byte, and most lines and windows hold none of the words at all."""

    def __init__(self, words: list[bytes]) -> None:
        self.regex = _context_regex(words)
        self.words = tuple(dict.fromkeys(words))

    def search(self, data: bytes, pos: int = 0, endpos: int | None = None) -> re.Match[bytes] | None:
        segment = (data[pos:endpos] if pos or endpos is not None else data).lower()
        if not any(word in segment for word in self.words):
            return None
        return self.regex.search(data, pos, len(data) if endpos is None else endpos)


def _context_regex(words: list[bytes]) -> re.Pattern[bytes]:
    """Context words, ASCII ones only at the start of a word: ``pan`` must not fire inside ``spanId``
    or ``company``, nor ``ip`` inside ``skip``/``description``, nor ``card`` inside ``discard``; a
    camelCase hump (``clientIp``, ``userMobile``) or ``_`` starts a word. Chinese words have no
    word boundaries and match anywhere."""
    ascii_start = [w for w in words if w[:1].isalpha() and w[:1].isascii()]
    other = [w for w in words if w not in ascii_start]
    parts = []
    if ascii_start:
        alternatives = b"|".join(re.escape(w) for w in ascii_start)
        parts.append(rb"(?:(?<![A-Za-z])|(?-i:(?<=[a-z])(?=[A-Z])))(?:" + alternatives + rb")")
    if other:
        parts.append(b"|".join(re.escape(w) for w in other))
    return re.compile(b"|".join(parts), re.IGNORECASE)


# an ASCII word and one or two spaces right before a value: ``at offset 15040955312``, ``seq 13912345678``
_WORD_BEFORE_VALUE = re.compile(rb"(?<![A-Za-z0-9_.\-])([A-Za-z][A-Za-z0-9_]{1,40}) {1,2}$")


# English words that stand before a value in prose without naming it (``reach me at 13812345678``): the field
# classifier reads ``at`` as a timestamp suffix (``created_at``), which a preposition is not
_FUNCTION_WORDS = frozenset((
    b"at", b"on", b"in", b"to", b"from", b"by", b"for", b"of", b"via", b"with", b"is", b"are", b"was", b"be", b"as",
    b"and", b"or", b"the", b"a", b"an", b"me", b"us", b"him", b"her", b"them", b"it", b"my", b"your", b"our",
    b"his", b"their", b"call", b"dial", b"reach", b"number", b"no", b"nr",
))


def _negative_word_before(window: bytes) -> FieldHint | None:
    """In prose (``consumed at offset 15040955312``) the word before a value names it as a ``key=`` would;
    only names known not to be personal (offset, seq, amount, trace id …) are taken from prose, to lower
    the score. Positive words are context words already, and Chinese runs have no word boundaries."""
    found = _WORD_BEFORE_VALUE.search(window[-48:])
    if found is None or found.group(1).lower() in _FUNCTION_WORDS:
        return None
    hint = classify_field(found.group(1).decode("ascii"))
    return hint if hint.negative else None


_NOT_PERSONAL = FieldHint("", negative=True)
# key words of payment and order references: their values are Luhn-valid or phone-like often enough
# (``payment_ref=4539…``, ``txn=5425…``), and a field named so holds a reference, whatever its digits;
# and the last words of names of amounts (``amount_fen``, ``price_cents``): integers in minor units
_QUANTITY_WORDS = frozenset(("fen", "jiao", "yuan", "cent", "cents", "pence", "amount", "amt", "price", "fee", "fees",
                             "total", "sum", "subtotal", "tax", "discount", "qty", "quantity"))
_REFERENCE_WORDS = frozenset((
    "ref", "refs", "reference", "references", "txn", "txns", "trx", "tx", "txid", "transaction", "invoice", "receipt",
    "voucher", "confirmation", "booking", "ticket", "order", "orders", "trade", "settlement", "payout", "refund",
    "rrn", "arn", "stan", "authcode", "approval", "batch", "serial", "seq", "sequence", "nonce", "idempotency",
))
_KEY_TOKENS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


@lru_cache(maxsize=4096)
def _names_a_reference(field: str) -> bool:
    """Whether a field name holds a reference word as a token (``payment_ref``, ``paymentRef``, ``txn``,
    ``order-id``) or ends in an amount's (``amount_fen``), split at separators and camelCase humps as
    :mod:`scanner.detection.fields` does. Only asked when that module's classifier does not name the
    candidate's own entity (``order_phone`` stays a phone field)."""
    tokens = [token.lower() for token in _KEY_TOKENS.findall(field)]
    return bool(tokens) and (tokens[-1] in _QUANTITY_WORDS or any(t in _REFERENCE_WORDS for t in tokens))


# a unit right after a value: ``took 13812345678 ns``, ``read 15912345678 bytes`` (lower case: ``Ms.`` is a title)
_UNIT_AFTER = re.compile(rb" ?(?:ns|us|\xc2\xb5s|ms|sec|secs|seconds|millis|nanos|micros|bytes|kb|mb|gb|kib|mib|gib)"
                         rb"(?![A-Za-z0-9_])")


def _unit_after(data: bytes, end: int) -> bool:
    return _UNIT_AFTER.match(data, end, end + 12) is not None


def _is_digit(byte: int) -> bool:
    return 0x30 <= byte <= 0x39


def _inside_decimal(data: bytes, start: int, end: int) -> bool:
    """Whether a candidate is the integer or fraction part of a decimal number (``13812345678.00``,
    ``lat=0.13812345678``, ``15:30:00.110105198503120012``): amounts, coordinates, scores and
    fractional seconds are not identifiers. The boundary classes cannot exclude ``.`` (a value may
    end a sentence), so the digit on the far side of the point decides."""
    if start >= 2 and data[start - 1] == 0x2E and _is_digit(data[start - 2]) and _is_digit(data[start]):
        return True
    return end + 1 < len(data) and data[end] == 0x2E and _is_digit(data[end + 1]) and _is_digit(data[end - 1])


_GROUP_SEPARATORS = b" -."
_GROUP_SEPARATOR = re.compile(rb"[ .-]")


def _inside_group_run(data: bytes, start: int, end: int) -> bool:
    """Whether a value written in digit groups (``6222 0212 3456 7890``, ``138 1234 5678``) is a stretch
    of a longer run of such groups: tables of code points (``2591 2592 2593 2502 2524`` in a charset
    map), object IDs in a catalogue row (``0 0 188 1300 1301``). A number someone wrote ends where its
    groups end; the run goes on. A neighbour group counts when it has the width of the group it adjoins
    or holds hex letters (code points: ``5414 5415 5416 5417 20BBF``), or when it is decimal and a further
    group follows it: an expiry date after a card (``… 1111 12/25``) is not a run."""
    candidate = data[start:end]
    found = _GROUP_SEPARATOR.search(candidate)
    if found is None:
        return False
    separator = candidate[found.start()]
    groups = candidate.lstrip(b"+").split(bytes((separator,)))
    if not groups[0].isdigit():
        return False
    return (_group_follows(data, end, 1, separator, len(groups[-1]))
            or _group_follows(data, start, -1, separator, len(groups[0])))


def _group_follows(data: bytes, edge: int, direction: int, separator: int, width: int) -> bool:
    """Whether, from ``edge`` in ``direction``, one ``separator`` and then a digit group of ``width``
    (or a decimal group and any digit group, each behind one ``separator``) stand next to a value."""
    token = _token_at(data, edge, direction, separator)
    if token is None or not _is_hex_group(token):
        return False
    if len(token) == width or not token.isdigit():
        return True
    further = _token_at(data, edge + direction * (len(token) + 1), direction, separator)
    return further is not None and _is_hex_group(further)


def _token_at(data: bytes, edge: int, direction: int, separator: int) -> bytes | None:
    """The letters and digits behind exactly one ``separator`` at ``edge`` (going ``direction``); None
    when they are the end of a value grouped another way (``4012-8888-8888-1881 4012 8888 …``)."""
    at = edge if direction > 0 else edge - 1
    if not 0 <= at < len(data) or data[at] != separator:
        return None
    cursor = at + direction
    while 0 <= cursor < len(data) and _is_alnum(data[cursor]):
        cursor += direction
    beyond = cursor + direction
    if 0 <= beyond < len(data) and data[cursor] != separator and data[cursor] in _GROUP_SEPARATORS \
            and _is_alnum(data[beyond]):
        return None
    token = data[at + 1 : cursor] if direction > 0 else data[cursor + 1 : at]
    return token or None


def _is_hex_group(token: bytes) -> bool:
    return any(0x30 <= byte <= 0x39 for byte in token) and all(
        0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x46 or 0x61 <= byte <= 0x66 for byte in token)


def _is_alnum(byte: int) -> bool:
    return 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def _touches_mask(data: bytes, start: int, end: int) -> bool:
    """Whether a candidate is the visible end of a masked token: a run of ``*`` between it and another
    letter or digit (``s****n@outlook.com``, where the plain pattern would match ``n@outlook.com``;
    ``6222****1234``). A ``*`` run on the far side of a space or at the start of a line is markup
    (``**zhang@example.com**`` in Markdown), not a mask."""
    if start and data[start - 1] == 0x2A:
        before = start - 1
        while before and data[before - 1] == 0x2A:
            before -= 1
        if before and _is_alnum(data[before - 1]):
            return True
    if end < len(data) and data[end] == 0x2A:
        after = end
        while after < len(data) and data[after] == 0x2A:
            after += 1
        if after < len(data) and _is_alnum(data[after]):
            return True
    return False


def _outside_masks(accepted: list, masked_spans: list[tuple[int, int, int, str]]) -> list:
    """The accepted candidates that do not overlap a masked value: the visible part of a mask
    (``n@outlook.com`` in ``s****n@outlook.com``) is the masked value's, never a value of its own.
    ``masked_spans`` is sorted by start."""
    starts = [span[0] for span in masked_spans]
    longest = max(span[1] - span[0] for span in masked_spans)
    kept = []
    for cand in accepted:
        start, end = cand[0], cand[1]
        index = bisect.bisect_left(starts, end) - 1
        overlaps = False
        while index >= 0 and starts[index] > start - longest:
            if masked_spans[index][1] > start:
                overlaps = True
                break
            index -= 1
        if not overlaps:
            kept.append(cand)
    return kept


# UTF-8 of the full-width forms (U+FF01-FF5E) of digits, Latin letters, ``+``, ``@`` and ``*`` (masks): three
# bytes each
_FULLWIDTH = re.compile(rb"\xef\xbc[\x8a\x8b\x90-\x99\xa0-\xba]|\xef\xbd[\x81-\x9a]")


def _fullwidth_to_ascii(found: re.Match[bytes]) -> bytes:
    code = ((found[0][1] & 0x3F) << 6 | (found[0][2] & 0x3F)) + 0xF000  # U+FFxx
    return bytes((code - 0xFEE0,))


def _halfwidth(data: bytes) -> tuple[bytes, list[int] | None]:
    """``data`` with full-width digits, letters, ``+``, ``@`` and ``*`` as ASCII (Chinese input methods write
    ``身份证号１１０１０５…`` and ``手机：１３８…``; NFKC maps them so), and the positions in the result
    where a three-byte character became one, or None when there was none (most data: one search)."""
    if b"\xef\xbc" not in data and b"\xef\xbd" not in data:
        return data, None
    first = _FULLWIDTH.search(data)
    if first is None:
        return data, None
    shifts: list[int] = []
    parts: list[bytes] = []
    position = 0
    for found in _FULLWIDTH.finditer(data, first.start()):
        parts.append(data[position : found.start()])
        shifts.append(found.start() - 2 * len(shifts))
        parts.append(_fullwidth_to_ascii(found))
        position = found.end()
    parts.append(data[position:])
    return b"".join(parts), shifts


def _outside_owned(accepted: list, owned: list[tuple[int, int, Recognizer]]) -> list:
    """The accepted candidates that are not inside a longer token of another type that was not taken:
    an IBAN-shaped token that fails its check digits holds a card number's or a mobile number's digits
    (``DE12 4111 1111 1111 1111 00``, ``NO 02 15038901234``), an ID-shaped number that fails its check a
    card's or a credit code's, an international number one digit short a national number inside it; a part
    of a rejected token is not a value of its own. A claim of another type with evidence of its own
    (``卡号`` before it, a card column) stands."""
    owned.sort(key=lambda o: o[0])
    starts = [o[0] for o in owned]
    longest = max(o[1] - o[0] for o in owned)
    kept = []
    for cand in accepted:
        start, end, rec = cand[0], cand[1], cand[4]
        evidence = cand[2] >= EVIDENCE_PRIORITY
        index = bisect.bisect_right(starts, start) - 1
        inside = False
        while index >= 0 and starts[index] >= start - longest:
            owner_start, owner_end, owner = owned[index]
            if owner_start <= start and end <= owner_end and (
                (owner is not rec and not evidence) or (owner is rec and owner_end - owner_start > end - start)
            ):
                inside = True
                break
            index -= 1
        if not inside:
            kept.append(cand)
    return kept


def _flags(entry: _Entry) -> int:
    return re.IGNORECASE if entry.caseless else 0


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
    rec_index: int = 0
    requires_context: bool = False
    can_own: bool = False  # the recognizer overrides ``owns_span``
    # look for context before validating: a looser written form that needs context (national phone
    # numbers: every "digits, space, digits" is one, and their validation is dear)
    context_first: bool = False
    # candidate anchored at the end of the searched range, with the leading boundary as look-behind:
    # finds the leftmost start of a candidate whose end Hyperscan reported
    anchored: re.Pattern[bytes] | None = None
    max_width: int = MAX_CANDIDATE_SPAN


def _max_width(regex: str) -> int | None:
    """Longest text ``regex`` can match, or None when unbounded (or over MAX_CANDIDATE_SPAN)."""
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - Python < 3.11
        import sre_parse  # type: ignore[no-redef]
    try:
        width = sre_parse.parse(regex).getwidth()[1]
    except Exception:  # pragma: no cover - a regex sre cannot parse is compiled by Hyperscan only
        return None
    return width + 1 if width < MAX_CANDIDATE_SPAN else None


def _boundary(entry: _Entry) -> str:
    """Characters that may not touch a candidate; masked forms also may not touch ``*``/``#``."""
    return ("*#" if entry.masked else "") + entry.recognizer.boundary


def _masked_counts(masked_spans: list[tuple[int, int, int, str]]) -> dict[str, int]:
    """Masked values per entity, one per masked value: of spans that overlap (``masked_spans`` is sorted), only
    the first counts, the most specific type."""
    masked: dict[str, int] = {}
    last_end = -1
    for start, end, _priority, entity in masked_spans:
        if start < last_end:
            continue
        last_end = end
        masked[entity] = masked.get(entity, 0) + 1
    return masked


@dataclass
class ChunkDetections:
    """What one chunk yielded: plaintext matches, counts of masked values per entity, and how many
    candidates each recognizer (by id) failed to validate because its validator raised."""

    matches: list[Match]
    masked: dict[str, int]
    failed: dict[str, int] = dataclasses.field(default_factory=dict)


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
        self._context: dict[str, _ContextWords | None] = {}
        for rec_index, rec in enumerate(self.recognizers):
            table = _byte_table(rec.boundary)
            masked_table = _byte_table("*#" + rec.boundary)
            for cand in rec.candidates:
                self._entries.append(
                    _Entry(rec, False, cand.regex, cand.score, cand.caseless, table, rec_index,
                           rec.requires_context or cand.requires_context,
                           type(rec).owns_span is not Recognizer.owns_span,
                           cand.requires_context and not rec.requires_context)
                )
            for regex in rec.masked:
                self._entries.append(_Entry(rec, True, regex, 0.0, False, masked_table, rec_index))
            words = [w.lower().encode("utf-8") for w in rec.context_words]
            # ``window.lower()`` then a search == an ASCII-caseless search (bytes patterns fold ASCII only)
            self._context[rec.entity_type] = _ContextWords(words) if words else None
        self._value_cache: dict[tuple[int, bytes], list] = {}
        self._failed: dict[str, int] = {}
        # Forms that count only next to a context word (national phone numbers, IBANs in lower case) are
        # searched for only in the lines that hold one of their entity's context words, or in chunks whose
        # field names the entity: in the whole of a log, every "digits, space, digits" is a national phone
        # number's shape, and those patterns doubled the candidate scan.
        self._claimers = [rec for rec in self.recognizers if type(rec).claims_around is not Recognizer.claims_around]
        self._gated = [i for i, e in enumerate(self._entries) if e.context_first]
        self._ungated = [i for i, e in enumerate(self._entries) if not e.context_first]
        gated_entities = sorted({self._entries[i].recognizer.entity_type for i in self._gated})
        self._gate_words = sorted({w.lower().encode("utf-8") for rec in self.recognizers
                                   if rec.entity_type in gated_entities for w in rec.context_words})
        self._gated_entities = frozenset(gated_entities)
        self.backend = "hyperscan" if (use_hyperscan and hyperscan is not None) else "re"
        # the gated forms are searched with ``re`` by both backends: the lines they are searched in are few
        with_re = self._gated if self.backend == "hyperscan" else range(len(self._entries))
        self._regexes: dict[int, tuple[re.Pattern[bytes], re.Pattern[bytes]]] = {
            index: (
                re.compile(f"(?<![{_boundary(e)}])(?:{e.regex})(?![{_boundary(e)}])".encode(), _flags(e)),
                re.compile(f"(?:{e.regex})".encode(), _flags(e)),
            )
            for index in with_re
            for e in (self._entries[index],)
        }
        if self.backend == "hyperscan":
            self._db = self._compile_hyperscan(self._ungated)

    def prepare(self) -> None:
        """Load every recognizer's lazily loaded reference data now (see :meth:`Recognizer.prepare`):
        the scan parent calls this before forking workers, which then share it copy-on-write.

        Best effort: a recognizer whose data cannot be loaded here (an unreadable stdnum table) fails
        again when it validates a value, where the scan reports it as a notification on that resource
        and goes on."""
        for rec in self.recognizers:
            try:
                rec.prepare()
            except Exception:  # reported where a value is validated (see above)
                continue

    def _compile_hyperscan(self, indices: list[int]):  # type: ignore[no-untyped-def]
        # No HS_FLAG_SOM_LEFTMOST: start-of-match tracking halves Hyperscan's speed on digit-heavy
        # logs. Hyperscan reports where candidates end; the few that do are located exactly by a
        # Python regex anchored at that end (``_Entry.anchored``), same leftmost-start semantics.
        expressions, ids, flags = [], [], []
        for index in indices:
            entry = self._entries[index]
            boundary = _boundary(entry)
            expressions.append(f"(?:^|[^{boundary}])(?:{entry.regex})(?:[^{boundary}]|$)".encode())
            ids.append(index)
            flag = hyperscan.HS_FLAG_MULTILINE
            if entry.caseless:
                flag |= hyperscan.HS_FLAG_CASELESS
            flags.append(flag)
            entry.anchored = re.compile(
                f"(?<![{boundary}])(?:{entry.regex})\\Z".encode(), re.IGNORECASE if entry.caseless else 0
            )
            width = _max_width(entry.regex)
            entry.max_width = width if width is not None else MAX_CANDIDATE_SPAN
        # the context words of the gated forms, in the same pass: ids from len(self._entries) on
        for number, word in enumerate(self._gate_words):
            expressions.append(re.escape(word))
            ids.append(len(self._entries) + number)
            flags.append(hyperscan.HS_FLAG_CASELESS)
        return compiled_database(hyperscan, expressions, ids, flags)

    # -- scanning -------------------------------------------------------------------------------

    def _gated_ranges(self, chunk: Chunk, data: bytes, words: list[tuple[int, int]] | None) -> list[tuple[int, int]]:
        """Where a context-gated form can have its context: from each context word of their entities to
        as far as a candidate starting within ``CONTEXT_WINDOW`` after it reaches (on its line), merged;
        all of ``data`` when the chunk's field (a column, a JSON key) or a delimited column names one."""
        names = [chunk.field] if chunk.field is not None else list(chunk.fields or ())
        if any(set(classify_field(name).entities) & self._gated_entities for name in names if name):
            return [(0, len(data))]
        if words is None:  # (start, end) of every context word, when Hyperscan did not report them
            words = []
            lowered = data.lower()
            for word in self._gate_words:
                position = lowered.find(word)
                while position >= 0:
                    words.append((position, position + len(word)))
                    position = lowered.find(word, position + 1)
        ranges: list[tuple[int, int]] = []
        for start, end in sorted(words):
            line_end = data.find(b"\n", end, end + CONTEXT_WINDOW + GATED_SPAN)
            stop = end + CONTEXT_WINDOW + GATED_SPAN if line_end < 0 else line_end
            if ranges and start <= ranges[-1][1]:
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], min(stop, len(data))))
            else:
                ranges.append((start, min(stop, len(data))))
        return ranges

    def _re_candidates(self, data: bytes, indices: Iterable[int], ranges: list[tuple[int, int]] | None,
                       found: list[tuple[int, int, int]]) -> None:
        """Candidates of the entries ``indices`` found with ``re`` in ``ranges`` of ``data`` (None: all of it).

        Hyperscan reports every end a candidate can have; ``re`` only the longest. The shorter ones at a
        boundary inside it (``IBAN de89 3704 0044 0532 0130 00 and``: the candidate without `` and``) are
        added so that both backends see the same ones."""
        entries = self._entries
        for index in indices:
            regex, whole = self._regexes[index]
            table = entries[index].table
            spans = [(0, len(data))] if ranges is None else ranges
            for first, stop in spans:
                for m in regex.finditer(data, first, stop):
                    start, end = m.span()
                    found.append((start, end, index))
                    for cut in range(start + 2, end - 1):
                        if not table[data[cut]] and table[data[cut - 1]] and whole.fullmatch(data, start, cut):
                            found.append((start, cut, index))

    def _candidates(self, data: bytes, chunk: Chunk | None = None) -> list[tuple[int, int, int]]:
        """(start, end, entry index) of every bounded candidate, boundaries stripped."""
        chunk = chunk or Chunk(b"")
        if self.backend == "re":
            return self._candidates_with_re(data, chunk)
        gated: list[tuple[int, int, int]] = []
        ends: list[tuple[int, int]] = []
        words: list[tuple[int, int]] = []
        append = ends.append
        first_word = len(self._entries)
        gate_words = self._gate_words

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            if index < first_word:
                append((end, index))
            else:
                words.append((end - len(gate_words[index - first_word]), end))

        self._db.scan(data, match_event_handler=on_match)
        if self._gated:
            self._re_candidates(data, self._gated, self._gated_ranges(chunk, data, words), gated)
        if not ends:
            return gated
        return self._starts_of(data, ends) + gated

    def _candidates_with_re(self, data: bytes, chunk: Chunk) -> list[tuple[int, int, int]]:
        """:meth:`_candidates` without Hyperscan: every form searched with ``re``, the gated ones only
        where their context can be."""
        found: list[tuple[int, int, int]] = []
        if self._gated:
            self._re_candidates(data, self._gated, self._gated_ranges(chunk, data, None), found)
        self._re_candidates(data, self._ungated, None, found)
        return found

    def _starts_of(self, data: bytes, ends: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
        """(start, end, entry index) of the candidates Hyperscan reported as (end, entry index): each
        located by its entry's regex anchored at that end, once per end and entry."""
        entries = self._entries
        seen: set[tuple[int, int]] = set()
        out: list[tuple[int, int, int]] = []
        for end, index in ends:
            entry = entries[index]
            # the reported end includes the trailing boundary character unless the candidate ends the line
            if not entry.table[data[end - 1]]:
                end -= 1
            key = (end, index)
            if key in seen:
                continue
            seen.add(key)
            found = entry.anchored.search(data, max(0, end - entry.max_width), end)  # type: ignore[union-attr]
            if found is not None and found.start() == end - entry.max_width and entry.max_width >= MAX_CANDIDATE_SPAN:
                # an unbounded candidate may begin further back: search from the start of its line
                found = entry.anchored.search(data, data.rfind(b"\n", 0, found.start()) + 1, end)  # type: ignore[union-attr]
            if found is not None:
                out.append((found.start(), end, index))
        return out

    def scan(self, chunk: Chunk) -> ChunkDetections:
        data = chunk.data
        # full-width digits and letters (``１１０１…`` in Chinese text) are read as ASCII; ``shifts`` maps
        # positions in the converted data back to the chunk's bytes
        data, shifts = _halfwidth(data)
        accepted: list[tuple[int, int, int, float, Recognizer, str, str | None, list]] = []
        masked_spans: list[tuple[int, int, int, str]] = []
        owned: list[tuple[int, int, Recognizer]] = []  # candidates not taken whose shape claims their span
        field_cache: dict[int, str | None] = {}
        self._line_context: dict[tuple[int, str], bool] = {}
        entries = self._entries
        cache = self._value_cache
        min_score = self.min_score
        # One flat loop (the hot path): a candidate is accepted and ``continue``s, or falls through to the
        # end, where a rejected one whose shape claims its span is kept as an owner.
        for start, end, index in self._candidates(data, chunk):
            entry = entries[index]
            rec = entry.recognizer
            if entry.masked:
                if rec.is_masked_form(data[start:end]):
                    masked_spans.append((start, end, -rec.priority, rec.entity_type))
                continue
            if _inside_decimal(data, start, end) or _touches_mask(data, start, end):
                continue
            raw = data[start:end]
            key = (entry.rec_index, raw)
            memo = cache.get(key)
            # (a candidate without its context may still claim its span: an IBAN's shape, whatever its case)
            if not entry.context_first or self._may_have_context(chunk, data, start, entry, field_cache):
                memo = memo or self._memo(rec, raw, key)
                if (memo[2] if memo[2] is not None else self._validate(rec, memo)):
                    if _inside_group_run(data, start, end):
                        continue
                    field, score, has_context = self._evidence(chunk, data, start, end, entry, field_cache)
                    if score >= min_score and (has_context or not entry.requires_context):
                        priority = rec.priority + (EVIDENCE_PRIORITY if has_context else 0)
                        accepted.append((start, end, priority, min(score, 1.0), rec, memo[0], field, memo))
                        continue
            if entry.can_own and self._owns(memo or self._memo(rec, raw, key), rec):
                owned.append((start, end, rec))

        masked_spans.sort()
        accepted = self._unclaimed(data, accepted, masked_spans, owned)
        matches = self._to_matches(chunk, data, shifts, self._resolve_overlaps(accepted)) if accepted else []
        failed, self._failed = self._failed, {}
        return ChunkDetections(matches, _masked_counts(masked_spans), failed)

    def _unclaimed(self, data: bytes, accepted: list, masked_spans: list[tuple[int, int, int, str]],
                   owned: list[tuple[int, int, Recognizer]]) -> list:
        """The accepted candidates that no other claim covers: not the visible part of a masked value
        (``masked_spans`` sorted by start), not a part of a longer token that was not taken, and not a
        value another recognizer's shape claims around it (unless it has evidence of its own)."""
        if masked_spans and accepted:
            accepted = _outside_masks(accepted, masked_spans)
        if owned and accepted:
            accepted = _outside_owned(accepted, owned)
        if self._claimers and accepted:
            accepted = [cand for cand in accepted if cand[2] >= EVIDENCE_PRIORITY or not any(
                claimer is not cand[4] and claimer.claims_around(data, cand[0], cand[1]) for claimer in self._claimers)]
        return accepted

    def _memo(self, rec: Recognizer, raw: bytes, key: tuple[int, bytes]) -> list:
        """What is known about one distinct candidate (values repeat a lot in logs and exports): its text
        and normalised value now; whether it passes validation, its evidence and hash, and whether its
        shape claims its span when first needed."""
        text = raw.decode("ascii", "replace")
        # [text, value, passed validation (None: not asked yet), (evidence, value hash, fingerprint key)
        #  once reported, whether its shape claims its span (``Recognizer.owns_span``; None: not asked yet)]
        memo = [text, rec.normalize(text), None, None, None]
        cache = self._value_cache
        if len(cache) >= VALUE_CACHE_SIZE:
            cache.clear()
        cache[key] = memo
        return memo

    def _passes(self, rec: Recognizer, value: str) -> bool:
        """``rec.validate`` as a yes or no. A validator that raises (a reference table without the value's
        division code, a library bug) rejects that one candidate and is counted in
        ``ChunkDetections.failed``: one odd number must never cost the rest of the resource."""
        try:
            return rec.validate(value) is not False
        except Exception:
            self._failed[rec.id] = self._failed.get(rec.id, 0) + 1
            return False

    def _validate(self, rec: Recognizer, memo: list) -> bool:
        """:meth:`_passes` for a memoised candidate asked the first time; the answer is kept in it."""
        memo[2] = self._passes(rec, memo[1])
        return memo[2]

    @staticmethod
    def _owns(memo: list, rec: Recognizer) -> bool:
        if memo[4] is None:
            memo[4] = rec.owns_span(memo[0], memo[1])
        return memo[4]

    def _may_have_context(self, chunk: Chunk, data: bytes, start: int, entry: _Entry,
                          field_cache: dict[int, str | None]) -> bool:
        """The cheap half of :meth:`_evidence`: whether a context word of the entity stands before the
        candidate or its field names the entity."""
        rec = entry.recognizer
        line_start = data.rfind(b"\n", 0, start) + 1
        window = data[max(line_start, start - CONTEXT_WINDOW) : start]
        context_re = self._context[rec.entity_type]
        if context_re is not None:
            # most lines have no context word at all: asked once per line and entity
            key = (line_start, rec.entity_type)
            in_line = self._line_context.get(key)
            if in_line is None:
                line_end = data.find(b"\n", start)
                in_line = context_re.search(data, line_start, len(data) if line_end < 0 else line_end) is not None
                self._line_context[key] = in_line
            if in_line and context_re.search(window) is not None:
                return True
        field = self._field_for(chunk, data, line_start, start, window, field_cache)
        return field is not None and rec.entity_type in classify_field(field).entities

    def _evidence(self, chunk: Chunk, data: bytes, start: int, end: int, entry: _Entry,
                  field_cache: dict[int, str | None]) -> tuple[str | None, float, bool]:
        """(field name, score, whether a context word or the field name speaks for the entity) of the
        candidate at ``start:end``: context words raise the score, field names raise or lower it, and so
        do reference keys and units (``payment_ref=``, ``… ns``) that name a value as not personal."""
        rec = entry.recognizer
        line_start = data.rfind(b"\n", 0, start) + 1
        window = data[max(line_start, start - CONTEXT_WINDOW) : start]
        field = self._field_for(chunk, data, line_start, start, window, field_cache)
        hint: FieldHint | None = classify_field(field) if field else None
        if hint is None and window[-1:] == b" ":
            hint = _negative_word_before(window)
        if (hint is None or not (hint.negative or rec.entity_type in hint.entities)) and (
            (field is not None and _names_a_reference(field)) or _unit_after(data, end)
        ):
            hint = _NOT_PERSONAL
        score = entry.score
        context_re = self._context[rec.entity_type]
        has_context = context_re is not None and context_re.search(window) is not None
        if has_context:
            score += CONTEXT_BOOST
        if hint is not None:
            if hint.negative:
                score -= NEGATIVE_FIELD_PENALTY
            elif rec.entity_type in hint.entities:
                score += FIELD_BOOST
                has_context = True
        return field, score, has_context

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
            column = _column_of(data, line_start, start, chunk.delimiter)
            return chunk.fields[column] if column < len(chunk.fields) else None
        tail = window[-10:]
        if b":" not in tail and b"=" not in tail and b"\xbc\x9a" not in tail:
            return None  # no ``key:`` / ``key=`` / ``key：`` right before the value
        found = _KEY_BEFORE_VALUE.search(window[-64:])
        if found is None:
            return None
        key = found.group(1).decode("utf-8", "replace")
        return None if looks_like_value(key) else key  # JSON keyed by customer ID: a value, not a name

    @staticmethod
    def _resolve_overlaps(accepted: list) -> list:
        """Keep, among overlapping claims, the one that outranks the others (see :func:`_outranks`)."""
        accepted.sort(key=lambda a: (a[0], -a[1]))
        kept: list = []
        for cand in accepted:
            if kept and cand[0] < kept[-1][1]:
                if _outranks(cand, kept[-1]):
                    kept[-1] = cand
                continue
            kept.append(cand)
        return kept

    @staticmethod
    def _to_matches(chunk: Chunk, data: bytes, shifts: list[int] | None, kept: list) -> list[Match]:
        matches = []
        line = chunk.line_offset + 1
        position = 0
        byte_offset = chunk.byte_offset
        plaintext = Protection.PLAINTEXT
        key = load_key()  # memoised hashes are only reused under the key they were made with
        for start, end, _priority, score, rec, text, field, *memo in kept:
            line += data.count(b"\n", position, start)
            position = start
            if memo:
                entry = memo[0]
                value = entry[1]
                if entry[3] is None or entry[3][2] is not key:
                    entry[3] = (rec.mask(text), value_hash(rec.entity_type, rec.canonical(value)), key)
                evidence, hashed = entry[3][0], entry[3][1]
            else:
                value = rec.normalize(text)
                evidence, hashed = rec.mask(text), value_hash(rec.entity_type, rec.canonical(value))
            if shifts is not None:  # positions in the chunk's own (full-width) bytes
                start_in_chunk = start + 2 * bisect.bisect_left(shifts, start)
                end_in_chunk = end + 2 * bisect.bisect_left(shifts, end)
            else:
                start_in_chunk, end_in_chunk = start, end
            matches.append(
                Match(
                    entity_type=rec.entity_type,
                    start=byte_offset + start_in_chunk,
                    end=byte_offset + end_in_chunk,
                    line=line,
                    score=round(score, 2),
                    evidence=evidence,
                    value_hash=hashed,
                    protection=plaintext,
                    field=field,
                )
            )
        return matches


def _outranks(cand: tuple, best: tuple) -> bool:
    """Whether claim ``cand`` wins over the overlapping ``best``: evidence (a context word or field name of
    its own) first; then a validated claim that contains the other one whole, because the shorter value
    is part of it (the German mobile ``+49 15123438564`` holds digits that are also a mainland mobile
    number; ``13812345678@163.com`` is an e-mail address); then priority, score and length."""
    cand_evidence, best_evidence = cand[2] >= EVIDENCE_PRIORITY, best[2] >= EVIDENCE_PRIORITY
    if cand_evidence != best_evidence:
        return cand_evidence
    if cand[0] != best[0] or cand[1] != best[1]:
        if cand[0] <= best[0] and best[1] <= cand[1]:
            return True
        if best[0] <= cand[0] and cand[1] <= best[1]:
            return False
    return (cand[2], cand[3], cand[1] - cand[0]) > (best[2], best[3], best[1] - best[0])


def _column_of(data: bytes, line_start: int, start: int, delimiter: bytes) -> int:
    """Index of the delimited field holding ``start``: delimiters inside double-quoted fields (RFC 4180,
    ``"Zhang, Wei"``) do not separate fields."""
    if b'"' not in data[line_start:start]:
        return data.count(delimiter, line_start, start)
    column, quoted, separator = 0, False, delimiter[0]
    for byte in data[line_start:start]:
        if byte == 0x22:
            quoted = not quoted
        elif byte == separator and not quoted:
            column += 1
    return column


def detect_text(text: str, detector: Detector | None = None) -> list[Match]:
    """Convenience for tests and small inputs: detect in one string."""
    detector = detector or Detector()
    return detector.scan(Chunk(text.encode("utf-8"))).matches
