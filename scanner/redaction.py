"""Names are evidence too: personal values inside names are masked before any name leaves the process.

KYC uploads are stored as ``110101199003070011.pdf``, exports without a header row make their first
row of values the "field names", tables and columns get named after customers, S3 keys carry mobiles.
PIPL art. 51 and JR/T 0171-2020 (personal financial information protection) require that such values
are not disclosed by the scanner itself, whatever the channel: reports, stderr, state files.

Every string that leaves the process (URIs, display and logical names, field names, messages, stderr
lines) goes through :func:`mask_text`. It splits the string into *name tokens* (path components,
words), runs the detector over each token that could hold an identifier, and replaces each token
that holds one by its masked form plus ``;k=`` and a keyed hash of the real token::

    file:///srv/kyc/110101199003070011.pdf  ->  file:///srv/kyc/110101********0011.pdf;k=5f0c1d2e3a4b

The masked form keeps the location readable (directory, extension, first and last digits); the keyed
hash (HMAC-SHA256 under the fingerprint key, :mod:`scanner.fingerprint`) tells an operator who holds
the key which real name it was: ``privaudit locate`` walks a directory and prints the entries whose
masked form is the one given. Masking is deterministic and idempotent (a masked token holds no
identifier), so baselines and waivers written from masked reports keep matching.

Human-readable outputs (stderr, text, Markdown, HTML) also get control characters escaped, so a file
named with ``\\n``, ``\\r``, BEL or ANSI escape sequences cannot forge lines or drive the terminal;
JSON outputs keep them, as JSON escapes.
"""

from __future__ import annotations

import dataclasses
import enum
import hmac
import re
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote, unquote_to_bytes

from scanner.fingerprint import load_key
from scanner.model import Chunk

#: separates the masked name from the keyed hash of the real one (``;`` is a URI path sub-delimiter)
HASH_MARK = ";k="
NAME_HASH_LENGTH = 12
#: entity types that are not personal data: an organisation's credit code in a name stays readable
NOT_PERSONAL = frozenset({"CN_USCC"})

# A name token: what lies between separators of paths, URIs, sentences and markup. ``.``, ``_``, ``-``,
# ``@`` and ``+`` stay inside (file names, e-mail addresses); the recognizers' own boundaries decide there.
_TOKEN = re.compile(r"[^\s\x00-\x1f\x7f/\\'\"<>()\[\]{},;|`=&?#!*:]+")
# Only a token holding a digit, ``@`` or a percent escape can hold an identifier in scope.
_MAYBE_IDENTIFIER = re.compile(r"[0-9@%]")
# ``ID110101199003070011`` / ``card6222021234567890abc``: a value glued to letters is still a value, and
# ``c_13812345678.110101199003070011`` (table.column) is two names, not a decimal number
_GLUED = re.compile(rb"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-WYZa-wyz])|(?<=[0-9])(?=\.[0-9])|(?<=[0-9]\.)(?=[0-9])")
_DIGIT_X = re.compile(rb"(?<=[0-9])(?=[Xx])")
# keyed digests of ours in free text (24+ hex characters, several letters); an ID glued to a letter is not one
_HEX_DIGEST = re.compile(r"(?=(?:.*[a-f]){3})[0-9a-f]{24,}")
#: fields that hold our own keyed hashes: never masked (a digit run in a hash is not a value)
KEYED_FIELDS = frozenset({"fingerprint", "value_hash", "fingerprints", "partialFingerprints", "valueHash"})
_SPLIT = b"\x00"  # not in any recognizer's boundary class: a hard token boundary for the detector
_URI_SAFE = "*;=~!$&'()+,:@-._"
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

T = TypeVar("T")


@lru_cache(maxsize=1)
def _detector() -> Any:
    """Every validating recognizer, any score: in a name there is no context to wait for."""
    from scanner.detection.engine import Detector

    return Detector(min_score=0.0)


def name_hash(raw: bytes) -> str:
    """Keyed hash of a real name token (its bytes as stored: names are bytes on POSIX)."""
    return hmac.digest(load_key(), b"name/v1\0" + raw, "sha256").hex()[:NAME_HASH_LENGTH]


def mask_text(text: str) -> str:
    """``text`` with every personal value inside a name token masked (see the module docstring), and
    undecodable bytes of POSIX names (surrogate escapes) shown as ``\xff``: outputs are valid UTF-8."""
    if not _MAYBE_IDENTIFIER.search(text) and not _SURROGATE.search(text):
        return text
    return _mask_text(text, load_key())


@lru_cache(maxsize=16384)
def _mask_text(text: str, key: bytes) -> str:
    """:func:`mask_text`, remembered per key: a report repeats its roots, targets and rule texts."""
    if _SURROGATE.search(text):
        text = _without_surrogates(text)
    if not _MAYBE_IDENTIFIER.search(text):
        return text
    return _TOKEN.sub(_masked_token_match, text)


def _without_surrogates(text: str) -> str:
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte (from JSON input)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _masked_token_match(found: re.Match[str]) -> str:
    token = found.group(0)
    if not _MAYBE_IDENTIFIER.search(token):
        return token
    if "@" in token and found.string.endswith("://", 0, found.start()):
        return token  # the user of ``postgresql://auditor@db.internal``: an account, not a customer
    if found.string.endswith(HASH_MARK, 0, found.start()):
        return token  # the keyed hash of a name masked before
    return mask_token(token)


@lru_cache(maxsize=65536)
def mask_token(token: str) -> str:
    """One name token, masked with the keyed hash of the real token appended, or unchanged."""
    core = token.rstrip(".")
    trailing = token[len(core) :]  # a sentence's full stop is not part of the name
    if not core or _HEX_DIGEST.fullmatch(core):
        return token  # fingerprints and hashes are ours, and keyed
    encoded = "%" in core
    raw = unquote_to_bytes(core) if encoded else core.encode("utf-8", "surrogateescape")
    masked = _mask_bytes(raw)
    if masked is None:
        return token
    shown = quote(masked, safe=_URI_SAFE) if encoded else masked.decode("utf-8", "backslashreplace")
    return f"{shown}{HASH_MARK}{name_hash(raw)}{trailing}"


def _mask_bytes(raw: bytes) -> bytes | None:
    """``raw`` with each identifier replaced by its masked evidence; None when it holds none."""
    probe = raw if _HEX_DIGEST.fullmatch(raw.decode("ascii", "replace")) else _GLUED.sub(_SPLIT, raw)
    matches = _personal_matches(probe)
    if not matches and _DIGIT_X.search(probe):
        # ``110101199003070012x.pdf``: the x was not the check character
        probe = _DIGIT_X.sub(_SPLIT, probe)
        matches = _personal_matches(probe)
    if not matches and b"@" in probe:
        probe, matches = _address_glued_to_name(probe)
    if not matches:
        return None
    pieces, position = [], 0
    for match in sorted(matches, key=lambda m: m.start):
        if match.start < position:
            continue
        evidence = match.evidence
        if match.entity_type in NOT_PERSONAL:  # a resident ID that also passes as a code: masked as an ID
            evidence = _resident_id_recognizer().mask(probe[match.start : match.end].decode("ascii"))
        pieces += [probe[position : match.start], evidence.encode("utf-8")]
        position = match.end
    pieces.append(probe[position:])
    return b"".join(pieces).replace(_SPLIT, b"")


def _address_glued_to_name(probe: bytes) -> tuple[bytes, list[Any]]:
    """``kyc_zhang.wei@example.com.csv``, ``zhang.wei@example.com_2024``: an address glued to a name.

    It may begin after any ``.``, ``_``, ``%``, ``+`` or ``-`` before its ``@`` that a letter or digit follows
    (they may also belong to an address, so the detector does not split there; a run of them,
    ``________zhang.wei@…``, is one place) and end at any ``.``, ``_`` or ``-`` after it that follows a
    letter; the longest address that validates wins."""
    at = probe.rfind(b"@")
    starts = [0, *(i + 1 for i in range(at) if probe[i] in b"._%+-" and chr(probe[i + 1]).isalnum())]
    ends = [len(probe), *(i for i in range(len(probe) - 1, at + 1, -1)
                          if probe[i] in b"._-" and chr(probe[i - 1]).isalpha())]
    for begin in starts[:8]:
        for end in ends[:8]:
            candidate = probe[:begin] + _SPLIT + probe[begin:end] + _SPLIT + probe[end:]
            matches = _personal_matches(candidate)
            if matches:
                return candidate, matches
    return probe, []


def _personal_matches(probe: bytes) -> list[Any]:
    return [m for m in _detector().scan(Chunk(probe)).matches
            if m.entity_type not in NOT_PERSONAL or _also_resident_id(probe[m.start : m.end])]


@lru_cache(maxsize=1)
def _resident_id_recognizer() -> Any:
    from scanner.registry import RECOGNIZERS

    return RECOGNIZERS.get("cn_resident_id")()


def _also_resident_id(raw: bytes) -> bool:
    """Some resident IDs also pass the credit-code check (GB 32100 and GB 11643 share the alphabet of
    digits and X): in a name, a value that is both is masked (the detector alone would keep the code)."""
    recognizer = _resident_id_recognizer()
    return bool(recognizer.validate(recognizer.normalize(raw.decode("ascii", "replace"))))


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """Control and bidirectional-override characters as visible escapes (``\\x1b``, ``\\u202e``)."""
    pattern = _CONTROL if keep_newlines else _CONTROL_ALL
    if not pattern.search(text):
        return text
    return pattern.sub(lambda m: _escape(m.group(0)), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_humans(text: str, *, keep_newlines: bool = False) -> str:
    """What a terminal, a text or a Markdown report may show of ``text``: masked and escaped."""
    return escape_controls(mask_text(text), keep_newlines=keep_newlines)


def redact(value: T, *, human: bool = False, keep_newlines: bool = False) -> T:
    """A copy of ``value`` (a report model, dataclasses, dicts, lists, strings) with every string masked,
    keys of mappings included; with ``human``, control characters escaped too (newlines kept with
    ``keep_newlines``: rule help texts are multi-line Markdown)."""
    def text(s: str) -> str:
        return for_humans(s, keep_newlines=keep_newlines) if human else mask_text(s)

    return _walk(value, text)  # type: ignore[no-any-return]


_SCALARS = frozenset({int, float, bool, type(None)})


@lru_cache(maxsize=256)
def _masked_fields(kind: type) -> tuple[str, ...] | None:
    """The fields of a dataclass the walk masks (None: not a dataclass instance's type)."""
    if not dataclasses.is_dataclass(kind):
        return None
    return tuple(f.name for f in dataclasses.fields(kind) if f.init and f.name not in KEYED_FIELDS)


def _walk(value: Any, text: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is str:
        return text(value)
    if isinstance(value, str):
        return value if isinstance(value, enum.Enum) else text(value)
    if isinstance(value, dict):
        return {_walk(k, text): v if k in KEYED_FIELDS else _walk(v, text) for k, v in value.items()}
    if isinstance(value, list | tuple):
        walked = [_walk(v, text) for v in value]
        return walked if isinstance(value, list) else tuple(walked)
    names = _masked_fields(kind)
    if names is not None:
        return dataclasses.replace(value, **{name: _walk(getattr(value, name), text) for name in names})
    return value  # numbers, enums, classes (the report's rules), None
