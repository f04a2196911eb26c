"""Load YAML and validate it against a JSON Schema, reporting file, line and what was expected.

Policy packs, rule metadata, scan configs and waivers are all YAML written by people. A typo must be
rejected with a message a person can act on (``policy.yaml:12: rules.pii_in_log: unknown key
'levle'; expected one of: levels, enabled``), so validation keeps the line of every node.

These files are also input an attacker may shape (a waivers file in a merge request, a config on a
shared host), so loading is bounded: the file is read only when it is a regular file under
:data:`MAX_YAML_BYTES`; it must be UTF-8 (YAML 1.2 section 5.2 allows UTF-16/32 too, but a file saved
as UTF-16 by Notepad is nearly always an accident, and naming it beats a traceback); YAML aliases may
not multiply the document (the "billion laughs": nine aliases of nine aliases expand 100 written nodes
to 10^9) nor refer to the node that contains them; nesting is at most :data:`MAX_DEPTH` levels. Each
node is visited once whatever the aliases, so loading is linear in the size of the file.
Every message goes through :func:`scanner.redaction.for_humans`: a value echoed from the file (an ID
typed as a resource glob, a file named after a customer) is masked like any other output.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from yaml.constructor import SafeConstructor

#: a scan config, waivers file or policy pack larger than this is not hand-written: refused unread
MAX_YAML_BYTES = 16 * 1024 * 1024
#: deepest nesting accepted (privaudit's own files nest at most 6 levels; libyaml stops at 1000)
MAX_DEPTH = 64
#: aliases may expand the document to at most this many times the nodes written in the file ...
MAX_ALIAS_RATIO = 10
#: ... and add at most this many nodes, whichever is smaller
MAX_ALIAS_NODES = 100_000
_SATURATED = 1 << 40  # expanded counts stop growing here (a chain of bombs would make huge integers)
#: below this size a syntax error is re-parsed by PyYAML's Python parser, whose messages say more
_EXPLAIN_BYTES = 64 * 1024

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
#: scalar tags whose constructor can fail on what the file says (explicit ``!!int abc``, ``2026-02-30``)
_CHECKED_SCALARS = {
    "tag:yaml.org,2002:int": "an integer", "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean", "tag:yaml.org,2002:binary": "base64 data",
    _TIMESTAMP: "a calendar date (YYYY-MM-DD)",
}
_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"), (codecs.BOM_UTF16_LE, "UTF-16"),
         (codecs.BOM_UTF16_BE, "UTF-16"))


class ConfigError(ValueError):
    """A YAML document that does not fit its schema; ``errors`` holds one line per problem.

    The errors are masked (:func:`scanner.redaction.for_humans`) when the exception is made, so whoever
    prints them cannot leak a personal value the file held."""

    def __init__(self, source: str, errors: list[str]) -> None:
        from scanner.redaction import for_humans

        self.source = source
        self.errors = [for_humans(e) for e in errors]
        super().__init__("\n".join(self.errors))


class UserFileError(ValueError):
    """A user-supplied file that cannot be read as UTF-8 text (size, kind, encoding); the message says why.

    ``unreadable`` is the operating system's reason when the file could not be opened or read at all."""

    def __init__(self, message: str, unreadable: str | None = None) -> None:
        super().__init__(message)
        self.unreadable = unreadable


def read_user_file(path: str | Path, *, what: str, max_bytes: int = MAX_YAML_BYTES) -> str:
    """The text of a user-supplied file; :class:`UserFileError` when it is not a regular UTF-8 file below
    ``max_bytes``. Opened without blocking (a FIFO put in its place must not hang the run) and sized from
    the open descriptor before anything is read."""
    source = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        reason = "it does not exist" if isinstance(exc, FileNotFoundError) else str(exc.strerror or exc)
        raise UserFileError(f"{source}: cannot be read: {reason}", reason) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UserFileError(f"{source}: is not a regular file ({_kind(info.st_mode)}); give the {what} itself")
        if info.st_size > max_bytes:
            raise UserFileError(f"{source}: is {info.st_size:,} bytes, more than the {max_bytes:,} bytes a {what} "
                                "may have; this is not the file you meant, or split it")
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:  # EISDIR and EIO surface here
            raise UserFileError(f"{source}: cannot be read: {exc.strerror or exc}", str(exc.strerror or exc)) \
                from None
    if len(data) > max_bytes:  # it grew after fstat
        raise UserFileError(f"{source}: is more than the {max_bytes:,} bytes a {what} may have")
    return decode_utf8(data, source)


def read_yaml_file(path: str | Path, what: str) -> str:
    """:func:`read_user_file` for YAML loaders: its problems are a :class:`ConfigError`."""
    try:
        return read_user_file(path, what=what)
    except UserFileError as exc:
        raise ConfigError(str(path), [str(exc)]) from None


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def decode_utf8(data: bytes, source: str) -> str:
    """``data`` as UTF-8 (a UTF-8 byte order mark is dropped); :class:`UserFileError` saying which encoding it
    seems to be and how to convert it otherwise."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise UserFileError(
                f"{source}: the file is {name} (it starts with a {name} byte order mark, as Windows Notepad writes "
                f"when saving as \"Unicode\"), not UTF-8; save it as UTF-8 (Notepad: Save As, Encoding: UTF-8) or "
                f"convert it: iconv -f {name} -t UTF-8 FILE > FILE.utf8")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        nul = b"\x00" in data[:4096]
        guess = ("it holds NUL bytes, so it is probably UTF-16 or UTF-32 without a byte order mark"
                 if nul else _guess(data))
        source_encoding = "UTF-16LE" if nul else ("GB18030" if "GB18030" in guess else "ENCODING")
        raise UserFileError(
            f"{source}:{line}: the file is not UTF-8 (byte 0x{data[exc.start]:02x} in column {column}; "
            f"{guess}); save it as UTF-8 or convert it: iconv -f {source_encoding} -t UTF-8 FILE > FILE.utf8"
        ) from None
    if "\x00" in text:  # valid UTF-8, but no text file holds NUL: ASCII saved as UTF-16 without a BOM
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise UserFileError(
            f"{source}:{line}: the file is not UTF-8 text (it holds NUL bytes, so it is probably UTF-16 or UTF-32 "
            "without a byte order mark); save it as UTF-8 or convert it: iconv -f UTF-16LE -t UTF-8 FILE > FILE.utf8")
    return text


def _guess(data: bytes) -> str:
    """A hint at the encoding: Chinese Windows and many Chinese editors save GB18030/GBK. Latin-1 text decodes
    as GB18030 too (``ü`` and the next letter make a rare ideograph), so the hint needs the double bytes of
    common Chinese (GB 2312's area, both bytes 0xA1-0xFE) to be nearly all of it."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return "its encoding is unknown"
    wide = [char.encode("gb18030") for char in set(text) if ord(char) > 0x7F]
    common = sum(1 for b in wide if len(b) == 2 and b[0] >= 0xA1 and b[1] >= 0xA1)
    if wide and common >= 0.9 * len(wide):
        return "it reads as GB18030/GBK, the Chinese Windows encoding"
    return "its encoding is unknown"


@dataclass
class _Inspection:
    lines: dict[tuple, int]
    problems: list[str]


def load_yaml(text: str, source: str, problems: list[str] | None = None) -> tuple[Any, dict[tuple, int]]:
    """Parse ``text``; return the data and the line map. Problems become :class:`ConfigError`.

    Syntax errors, alias bombs, recursive aliases and too deep nesting always raise. Values the YAML
    constructor cannot build (``2026-02-30``, ``!!int abc``) and duplicate keys are collected into
    ``problems`` when the caller passes a list (the value is kept as its text, so the caller can report
    them with its own errors, every one at once); without a list they raise too.
    """
    text = text.removeprefix("\ufeff")
    try:
        loader = _Loader(text)  # PyYAML's Python reader checks the characters here
    except yaml.YAMLError as exc:
        raise ConfigError(source, [_syntax_error(exc, text, source)]) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise ConfigError(source, [_syntax_error(exc, text, source)]) from None
        except RecursionError:  # PyYAML's Python parser without libyaml: nesting deeper than the stack
            raise ConfigError(source, [f"{source}: nested too deeply (more than {MAX_DEPTH} levels)"]) from None
        except ValueError as exc:  # PyYAML's Python scanner (without libyaml): chr() of an escape past U+10FFFF
            raise ConfigError(source, [f"{_escape_line(text, source)}: not valid YAML: an escape in a "
                                       f"double-quoted value is not a character ({exc})"]) from None
        if node is None:
            return None, {}
        found = _inspect(node, source)
        if found.problems and problems is None:
            raise ConfigError(source, found.problems)
        if problems is not None:
            problems.extend(found.problems)
        try:
            data = loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise ConfigError(source, [_syntax_error(exc, text, source, explain=False)]) from None
        except (ValueError, TypeError, LookupError, AttributeError, OverflowError) as exc:  # pragma: no cover
            # every scalar was checked above; a constructor failing anyway is still the file's fault
            raise ConfigError(source, [f"{source}: not valid YAML: a value cannot be read ({exc})"]) from None
    finally:
        loader.dispose()
    return data, found.lines


def _syntax_error(exc: yaml.YAMLError, text: str, source: str, *, explain: bool = True) -> str:
    """``file:line: not valid YAML: problem`` (PyYAML's wording, which says what it expected, for small files)."""
    if explain and _Loader is not yaml.SafeLoader and len(text) <= _EXPLAIN_BYTES:
        try:
            loader = yaml.SafeLoader(text)  # its reader checks the characters already
            try:
                loader.get_single_node()
            finally:
                loader.dispose()
        except yaml.YAMLError as python_exc:
            exc = python_exc
        except (RecursionError, ValueError):
            pass  # libyaml's error stands
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    position = getattr(exc, "position", None)
    if line is None and isinstance(position, int):  # a ReaderError: a character YAML does not allow
        line = text.count("\n", 0, position) + 1
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
    if isinstance(getattr(exc, "character", None), int) and getattr(exc, "reason", None):
        problem = f"unacceptable character #x{exc.character:04x}: {exc.reason}"  # type: ignore[attr-defined]
    context, opened = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and "quoted scalar" in context and "end of stream" in problem and opened is not None:
        # an unclosed quote: the error is where the quote opened, not at the end of the file
        line, problem = opened.line + 1, f"a quoted value is not closed ({problem})"
    where = f"{source}:{line}" if line is not None else source
    return f"{where}: not valid YAML: {problem}"


def _escape_line(text: str, source: str) -> str:
    """``file:line`` of the first ``\\UXXXXXXXX`` escape past U+10FFFF (the scanner's error has no mark)."""
    for found in re.finditer(r"\\U([0-9A-Fa-f]{8})", text):
        if int(found.group(1), 16) > 0x10FFFF:
            return f"{source}:{text.count(chr(10), 0, found.start()) + 1}"
    return source


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _dotted(path: tuple) -> str:
    """``targets.1.include``; a key of hundreds of characters is cut short like a quoted value."""
    return ".".join(str(p) if len(str(p)) <= _SHOWN else _shown(p)[1:-1] for p in path) or "(top level)"


#: a node to walk: its path (None under a mapping key), the node, whether its children are walked already
_Step = tuple[tuple | None, yaml.Node, bool]


def _inspect(root: yaml.Node, source: str) -> _Inspection:
    """One pass over the distinct nodes (an alias is not walked again): the line of every path, duplicate
    keys, scalars the constructor would fail on (made plain text, so construction goes on), and alias
    bombs, recursive aliases and deep nesting, refused before anything is built from the nodes.

    Per distinct node it counts how many nodes the node stands for once aliases are expanded (memoised,
    so counting never expands anything) and how deep it nests."""
    walk = _Walk(source)
    stack: list[_Step] = [((), root, False)]
    while stack:
        path, node, finished = stack.pop()
        if finished:
            walk.finish(node)
            continue
        if path is not None:
            walk.lines.setdefault(path, _line(node))
        if id(node) in walk.size:
            continue  # an alias of a node walked already
        if id(node) in walk.open:
            walk.refuse_recursion(path, node)
        if isinstance(node, yaml.ScalarNode):  # most nodes: a leaf, finished at once
            walk.scalar(path, node)
            continue
        walk.open.add(id(node))
        stack.append((path, node, True))
        if isinstance(node, yaml.MappingNode):
            stack.extend(reversed(walk.mapping_children(path, node)))  # in document order: anchors before aliases
        else:
            stack.extend((None if path is None else (*path, index), item, False)
                         for index, item in reversed(list(enumerate(node.value))))
    walk.refuse_bomb(root)
    return _Inspection(walk.lines, walk.problems)


class _Walk:
    """What :func:`_inspect` has learnt so far, and what it does at each kind of node. A path is None
    under a mapping key (keys have no path of their own)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[tuple, int] = {}
        self.problems: list[str] = []
        self.size: dict[int, int] = {}  # id(node) -> nodes once expanded (saturated), for the nodes walked
        self.height: dict[int, int] = {}
        self.open: set[int] = set()  # collections entered and not yet finished
        self.constructor = SafeConstructor()

    def _where(self, node: yaml.Node, path: tuple | None) -> str:
        return f"{self.source}:{_line(node)}" + (f": {_dotted(path)}" if path is not None else "")

    def finish(self, node: yaml.Node) -> None:
        """A collection whose children are all walked: its expanded size and its height, refused when too deep."""
        key = id(node)
        children = _children(node)
        self.size[key] = min(1 + sum(self.size[id(child)] for child in children), _SATURATED)
        self.height[key] = 1 + max((self.height[id(child)] for child in children), default=0)
        self.open.discard(key)
        if self.height[key] > MAX_DEPTH:
            raise ConfigError(self.source, [
                f"{self.source}:{_line(node)}: nested more than {MAX_DEPTH} levels deep (with aliases expanded); "
                "privaudit's files need a few levels"])

    def refuse_recursion(self, path: tuple | None, node: yaml.Node) -> None:
        """An alias of a collection met inside that collection: named at the alias (the key it is the value
        of), not at the anchor."""
        line = self.lines[path] if path is not None else _line(node)
        raise ConfigError(self.source, [
            f"{self.source}:{line}: a YAML alias refers to a node that contains it (a recursive structure); "
            "privaudit's files hold no cycles: write the values out"])

    def scalar(self, path: tuple | None, node: yaml.ScalarNode) -> None:
        """A leaf: size and height 1; a value its tag's constructor would fail on is a problem, kept as text."""
        self.size[id(node)] = self.height[id(node)] = 1
        if node.tag not in _CHECKED_SCALARS:
            return
        problem = _scalar_problem(self.constructor, node)
        if problem is not None:
            self.problems.append(f"{self._where(node, path)}: {problem}")
            node.tag = "tag:yaml.org,2002:str"

    def mapping_children(self, path: tuple | None, node: yaml.MappingNode) -> list[_Step]:
        """The values and keys of a mapping to walk, in document order, with the line of each key's path; a
        key given twice is a problem (YAML keeps the last one silently)."""
        first: dict[tuple[str, str], int] = {}
        pending: list[_Step] = []
        for name_node, value in node.value:
            name = name_node.value if isinstance(name_node, yaml.ScalarNode) else f"<{name_node.id} key>"
            child = None if path is None else (*path, name)
            if child is not None:
                self.lines.setdefault(child, _line(name_node))
            if isinstance(name_node, yaml.ScalarNode) and name_node.tag != _MERGE:
                identity = (name_node.tag, name_node.value)
                if identity in first:
                    self.problems.append(f"{self._where(name_node, child)}: the key {name_node.value!r} is given "
                                         f"twice (first at line {first[identity]}); YAML keeps only the last one: "
                                         "remove one of them")
                else:
                    first[identity] = _line(name_node)
            pending.append((child, value, False))
            pending.append((None, name_node, False))
        return pending

    def refuse_bomb(self, root: yaml.Node) -> None:
        """Refuse a document whose aliases expand it past the limit, named at the smallest node that already
        does: where the aliases are."""
        written = len(self.size)
        limit = min(MAX_ALIAS_RATIO * written, written + MAX_ALIAS_NODES)
        if self.size[id(root)] <= limit:
            return
        bomb = root
        while (inner := next((c for c in _children(bomb) if self.size[id(c)] > limit), None)) is not None:
            bomb = inner
        raise ConfigError(self.source, [
            f"{self.source}:{_line(bomb)}: YAML aliases (*name) expand this node to more than {limit:,} nodes (the "
            f"file writes {written:,}; at most {MAX_ALIAS_RATIO} times that, and at most {MAX_ALIAS_NODES:,} "
            "more, is accepted): an alias bomb is refused; write the values out or use fewer aliases"])


def _scalar_problem(constructor: SafeConstructor, node: yaml.ScalarNode) -> str | None:
    """Why the constructor cannot build this scalar, or None; PyYAML raises whatever its parsing hits."""
    build = SafeConstructor.yaml_constructors[node.tag]
    try:
        build(constructor, node)
    except (yaml.YAMLError, ValueError, TypeError, LookupError, AttributeError, OverflowError) as exc:
        what = _CHECKED_SCALARS[node.tag]
        detail = f": {exc}" if node.tag == _TIMESTAMP and isinstance(exc, ValueError) else ""
        return f"{node.value!r} is not {what}{detail}"
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


_SHOWN = 120  # characters of a value quoted in a message


def _shown(value: Any) -> str:
    """``repr(value)``, cut short: a message quotes the value to locate it, not to copy a 5 MB string."""
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN - 4]}...{text[-1]}"


def _describe(error: jsonschema.ValidationError) -> list[tuple[tuple, str]]:
    """(path, message) for a schema error; an object with several unknown keys is one message per key."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        # keys may be numbers, dates or booleans (``1: x``, ``2026-01-01: x``): sorted as text
        extra = sorted(set(error.instance) - set(allowed), key=str) if isinstance(error.instance, dict) else []
        patterns = error.schema.get("patternProperties")
        if patterns:
            return [(path, error.message)]
        return [((*path, key), f"unknown key {_shown(key)}; expected one of: {', '.join(allowed)}")
                for key in extra or ["?"]]
    if error.validator == "not" and error.validator_value == {} and error.schema.get("description"):
        return [(path, error.schema["description"])]  # a key no longer accepted: its description says what instead
    if error.validator == "required":
        return [(path, error.message.replace("is a required property", "is required but missing"))]
    if error.validator == "enum":
        return [(path, f"{_shown(error.instance)} is not one of: {', '.join(map(str, error.validator_value))}")]
    if error.validator == "type":
        return [(path, f"expected {error.validator_value}, got {type(error.instance).__name__} "
                       f"{_shown(error.instance)}")]
    message = error.message
    if isinstance(error.instance, str | list | dict) and len(quoted := repr(error.instance)) > _SHOWN:
        message = message.replace(quoted, _shown(error.instance), 1)
    return [(path, message)]


_VALIDATORS: dict[int, tuple[dict, jsonschema.protocols.Validator]] = {}


def _validator(schema: dict) -> jsonschema.protocols.Validator:
    """One validator per schema (schemas are module constants; building one costs more than a small file)."""
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = _VALIDATORS[id(schema)] = (schema, jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.FormatChecker()))
    return cached[1]


def validate(data: Any, schema: dict, source: str, lines: dict[tuple, int] | None = None,
             prefix: tuple = ()) -> None:
    """Raise :class:`ConfigError` listing every schema violation with file and line; ``data`` sits at
    ``prefix`` in the document (a part validated on its own)."""
    messages = []
    errors = sorted(_validator(schema).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    for relative, message in (described for error in errors for described in _describe(error)):
        path = (*prefix, *relative)
        line = None
        if lines:
            probe = path
            while probe not in lines and probe:
                probe = probe[:-1]
            line = lines.get(probe)
        where = f"{source}:{line}" if line else source
        messages.append(f"{where}: {_dotted(path)}: {message}")
    if messages:
        raise ConfigError(source, messages)


def load_validated(path: Path, schema: dict) -> Any:
    """Read, parse and validate one YAML file."""
    text = read_yaml_file(path, "YAML file")
    data, lines = load_yaml(text, str(path))
    validate(data, schema, str(path), lines)
    return data
