"""Split a migration file into statements with sqlglot, keeping each statement's lines.

sqlglot's parser does not say on which line a statement starts, and SARIF/GitHub annotations need
exactly that (``region.startLine`` = the line of the statement's first token, after any leading
comments). So the file is tokenized once with the dialect's tokenizer (which skips comments and
knows the dialect's quoting, ``$$`` bodies and ``#`` comments), split at top-level ``;`` tokens,
and each statement is parsed on its own. That also isolates syntax errors: a statement that does
not parse becomes a :class:`SyntaxProblem` pointing at its file and line, and the statements after
it are still read.

Inline suppressions are comments ``-- privaudit:ignore <rule>[, <rule>...] reason: <text>`` on a
line of the statement or above it (between the previous statement and this one).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

DIALECTS = ("postgres", "mysql", "sqlite")

_SUPPRESSION = re.compile(
    r"(?:--|#|/\*)\s*privaudit:ignore\b(?P<body>.*?)(?:\*/)?\s*$", re.IGNORECASE
)
_DELIMITER = re.compile(r"^\s*DELIMITER\s+(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_COMMENTS = re.compile(r"--[^\n]*|#[^\n]*|/\*.*?\*/", re.DOTALL)
_REASON = re.compile(r"\breason\s*:\s*(?P<reason>.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Suppression:
    """One ``privaudit:ignore`` comment; ``reason`` is empty when the author gave none."""

    rules: tuple[str, ...]
    reason: str
    line: int


@dataclass
class Statement:
    """One SQL statement of a migration file.

    ``text`` is the statement re-assembled from its tokens (comments removed, whitespace collapsed,
    quotes kept) for the few statement kinds read with patterns; ``expression`` is sqlglot's tree,
    an ``exp.Command`` for syntax sqlglot only knows as opaque text.
    """

    file: str
    index: int
    start_line: int
    end_line: int
    text: str
    expression: exp.Expression | None
    suppressions: list[Suppression] = field(default_factory=list)


@dataclass(frozen=True)
class SyntaxProblem:
    """A statement (or file) that could not be read; ``line`` is 1-based in the file.

    ``severity`` "error" for SQL that does not parse (the gate fails), "note" for parts skipped on
    purpose (MySQL ``DELIMITER`` blocks).
    """

    file: str
    line: int
    message: str
    severity: str = "error"


@dataclass
class ParsedFile:
    path: Path
    display: str
    statements: list[Statement]
    problems: list[SyntaxProblem]


def _silence_sqlglot() -> None:
    # sqlglot logs "contains unsupported syntax. Falling back to parsing as a 'Command'" for every
    # GRANT ... ON ALL TABLES etc.; those are handled on purpose, so the warning is noise on stderr.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)


def _split(tokens: list[Token]) -> list[list[Token]]:
    statements: list[list[Token]] = []
    current: list[Token] = []
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if current:
                statements.append(current)
            current = []
        else:
            current.append(token)
    if current:
        statements.append(current)
    return statements


def _joined(sql: str, tokens: list[Token]) -> str:
    """Statement text without comments: tokens as written, one space where there was any gap."""
    parts: list[str] = []
    previous_end = None
    for token in tokens:
        if previous_end is not None and token.start > previous_end + 1:
            parts.append(" ")
        parts.append(sql[token.start : token.end + 1])
        previous_end = token.end
    return "".join(parts)


def _suppressions(lines: list[str]) -> dict[int, Suppression]:
    found: dict[int, Suppression] = {}
    for number, line in enumerate(lines, start=1):
        match = _SUPPRESSION.search(line)
        if not match:
            continue
        body = match.group("body").strip()
        reason_match = _REASON.search(body)
        reason = reason_match.group("reason").strip() if reason_match else ""
        rule_part = body[: reason_match.start()] if reason_match else body
        rules = tuple(r for r in re.split(r"[\s,]+", rule_part.strip()) if r)
        found[number] = Suppression(rules, reason, number)
    return found


def _error_position(exc: Exception) -> tuple[int, str]:
    """(1-based line within the parsed text, short description) of a sqlglot error."""
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        return int(first.get("line") or 1), str(first.get("description") or exc)
    text = str(exc)
    match = re.search(r"[Ll]ine:? (\d+)", text)
    return (int(match.group(1)) if match else 1), text.splitlines()[0] if text else type(exc).__name__


def _blank_delimiter_blocks(sql: str) -> tuple[str, list[int]]:
    """MySQL client ``DELIMITER`` blocks (triggers, procedures) blanked out, line numbers kept.

    ``DELIMITER`` is a mysql-client directive, not SQL; the blocks it wraps are procedural code
    that does not change tables, columns or grants. Returns the text and the first line of each
    skipped block.
    """
    out: list[str] = []
    skipped: list[int] = []
    custom: str | None = None
    for number, line in enumerate(sql.splitlines(keepends=True), start=1):
        match = _DELIMITER.match(line)
        if match:
            delimiter = match.group(1)
            custom = None if delimiter == ";" else delimiter
            if custom is not None:
                skipped.append(number)
            out.append("\n" if line.endswith("\n") else "")
        elif custom is not None:
            out.append("\n" if line.endswith("\n") else "")
        else:
            out.append(line)
    return "".join(out), skipped


def _failing_line(tokenize, lines: list[str]) -> int:  # type: ignore[no-untyped-def]
    """The first line whose prefix no longer tokenizes (binary search; only run after a failure)."""
    low, high = 1, len(lines)
    while low < high:
        middle = (low + high) // 2
        try:
            tokenize("\n".join(lines[:middle]))
        except TokenError:
            high = middle
        else:
            low = middle + 1
    return low


def parse_sql(sql: str, dialect: str, display: str, path: Path | None = None) -> ParsedFile:
    """Statements and syntax problems of one migration's text."""
    _silence_sqlglot()
    problems: list[SyntaxProblem] = []
    if dialect == "mysql" and _DELIMITER.search(sql):
        sql, blocks = _blank_delimiter_blocks(sql)
        problems.extend(SyntaxProblem(display, n, "DELIMITER block (trigger/procedure) skipped", "note")
                        for n in blocks)
    lines = sql.splitlines()
    tokenize = sqlglot.Dialect.get_or_raise(dialect).tokenize
    try:
        tokens = tokenize(sql)
    except TokenError as exc:
        line = _failing_line(tokenize, lines)
        description = str(exc).splitlines()[0] if str(exc) else "unterminated string, comment or quoted name"
        problems.append(SyntaxProblem(display, line, f"cannot tokenize from here to the end of the file "
                                                     f"(unterminated string, comment or quoted name?): {description}"))
        before = parse_sql("\n".join(lines[: line - 1]), dialect, display, path) if line > 1 else None
        statements = before.statements if before else []
        return ParsedFile(path or Path(display), display, statements, problems + (before.problems if before else []))
    statements: list[Statement] = []
    commands = sqlglot.Dialect.get_or_raise(dialect).tokenizer_class.COMMANDS
    for index, group in enumerate(_split(tokens)):
        first, last = group[0], group[-1]
        start_line = first.line
        end_line = max(start_line, last.line)
        raw = sql[first.start : last.end + 1]
        # the tokenizer swallows the rest of e.g. RENAME ... into one string token with an
        # unreliable offset: for those use the source text, comments removed
        text = " ".join(_COMMENTS.sub(" ", raw).split()) if first.token_type in commands else _joined(sql, group)
        try:
            parsed = [e for e in sqlglot.parse(raw, read=dialect) if e is not None]
            expression = parsed[0] if parsed else None
        except (ParseError, TokenError) as exc:
            offset, description = _error_position(exc)
            problems.append(SyntaxProblem(display, start_line + offset - 1, f"syntax error: {description}"))
            # Not replayed: the database would reject it too, and guessing would invent state.
            continue
        statements.append(Statement(display, index, start_line, end_line, text, expression))
    _attach_suppressions(statements, _suppressions(lines))
    return ParsedFile(path or Path(display), display, statements, problems)


def _attach_suppressions(statements: list[Statement], found: dict[int, Suppression]) -> None:
    """A comment on a statement's lines belongs to it; one between statements, to the next one."""
    for line, suppression in sorted(found.items()):
        owner = next((s for s in statements if s.start_line <= line <= s.end_line), None)
        if owner is None:
            owner = next((s for s in statements if s.start_line > line), None)
        if owner is not None:
            owner.suppressions.append(suppression)


def parse_file(path: Path, dialect: str, display: str) -> ParsedFile:
    """Read ``path`` (UTF-8, falling back to GB18030 as Chinese shops still use it) and parse it."""
    data = path.read_bytes()
    try:
        sql = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        sql = data.decode("gb18030", errors="replace")
    return parse_sql(sql, dialect, display, path)
