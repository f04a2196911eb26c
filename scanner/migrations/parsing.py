"""Split a migration file into statements with sqlglot, keeping each statement's lines.

sqlglot's parser does not say on which line a statement starts, and SARIF/GitHub annotations need
exactly that (``region.startLine`` = the line of the statement's first token, after any leading
comments). So the file is tokenized once with the dialect's tokenizer (which skips comments and
knows the dialect's quoting, ``$$`` bodies and ``#`` comments), split at top-level ``;`` tokens,
and each statement is parsed on its own. That also isolates syntax errors: a statement that does
not parse becomes a :class:`SyntaxProblem` pointing at its file and line, and the statements after
it are still read.

A statement that tokenizes but that sqlglot cannot parse is kept with ``expression=None`` and
``unparsed`` set to a short description (no token dumps; line and column are the file's): many are
valid SQL sqlglot does not know (``DROP INDEX a, b``, ``DROP FUNCTION f (_tbl regclass)``), and
PostgreSQL would reject the others when the migration runs. The analyzer falls back to the
statement's text for what changes the schema state (``DROP TABLE``, ``ALTER TABLE .. RENAME``), and
the rule ``migration_statement_not_analysed`` reports it, so it can be suppressed like any result.
PostgreSQL 18's table constraint ``CONSTRAINT c NOT NULL col`` is removed before parsing (it only
says a column is not null).

``DO $$ ... $$`` blocks (plpgsql run once, at migration time) are read too: each static SQL
statement inside the block (after ``BEGIN``, ``THEN``, ``ELSE`` or ``LOOP``; not ``EXECUTE`` of a built
string) becomes a statement of its own at its own line; what cannot be read is listed as a note.

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
    #: why sqlglot could not read the statement (``expression`` is then None)
    unparsed: str | None = None
    #: (line, column) in the file of each column defined or added, by column name
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: the ``--`` comment ending a column's line (``client_secret text, -- Encrypted at application level``)
    line_comments: dict[str, str] = field(default_factory=dict)
    #: the DO block this statement was read from (its first line), if any
    block_line: int | None = None

    @property
    def first_word(self) -> str:
        return self.text.split(None, 1)[0].upper() if self.text.strip() else ""


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


_TOKEN_DUMP = re.compile(r"<Token token_type: [^,]+, text: (?P<text>.*?), line: \d+, col: \d+, start: \d+, "
                         r"end: \d+, comments: \[.*?\]>")
_PG18_NOT_NULL = re.compile(r",\s*CONSTRAINT\s+(?:\"[^\"]+\"|\w+)\s+NOT\s+NULL\s+(?:\"[^\"]+\"|\w+)"
                            r"(?:\s+NO\s+INHERIT)?(?=\s*[,)])", re.IGNORECASE)


def _error_position(exc: Exception) -> tuple[int, int, str]:
    """(1-based line and column within the parsed text, short description) of a sqlglot error.

    sqlglot puts its token objects into some descriptions (``Expected table name but got <Token
    token_type: ...>``); only the token's text is kept."""
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        description = _TOKEN_DUMP.sub(lambda m: repr(m.group("text")), str(first.get("description") or exc))
        return int(first.get("line") or 1), int(first.get("col") or 1), description.splitlines()[0]
    text = _TOKEN_DUMP.sub(lambda m: repr(m.group("text")), str(exc))
    match = re.search(r"[Ll]ine:? (\d+)", text)
    return (int(match.group(1)) if match else 1), 1, text.splitlines()[0] if text else type(exc).__name__


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
        stmt = _statement(sql, group, index, dialect, display, commands)
        statements.append(stmt)
        if dialect == "postgres" and stmt.first_word == "DO":
            inner, notes = _do_block(sql, group, dialect, display, commands, stmt.start_line)
            statements.extend(inner)
            problems.extend(notes)
    _attach_suppressions(statements, _suppressions(lines))
    return ParsedFile(path or Path(display), display, statements, problems)


def _line_of(sql: str, offset: int) -> int:
    return sql.count("\n", 0, offset) + 1


def _statement(sql: str, group: list[Token], index: int, dialect: str, display: str,
               commands: set[TokenType] | frozenset[TokenType]) -> Statement:
    """One statement from its tokens: parsed, or kept unparsed with a short reason."""
    first, last = group[0], group[-1]
    start_line = first.line
    end_line = max(start_line, last.line)
    raw = sql[first.start : last.end + 1]
    # the tokenizer swallows the rest of e.g. RENAME ... into one string token with an
    # unreliable offset: for those use the source text, comments removed
    text = " ".join(_COMMENTS.sub(" ", raw).split()) if first.token_type in commands else _joined(sql, group)
    base = first.start  # where the parsed text starts in ``sql`` (token offsets are the file's: 0)
    try:
        if first.token_type in commands:
            expression = _parse_one(raw, dialect)
        else:  # the file's tokens, not a second tokenizer pass (half of sqlglot's time)
            base = 0
            parsed = [e for e in sqlglot.Dialect.get_or_raise(dialect).parser().parse(group, sql) if e is not None]
            expression = parsed[0] if parsed else None
    except (ParseError, TokenError) as exc:
        # blanked, not removed, so offsets (column positions) stay the file's
        repaired = _PG18_NOT_NULL.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), raw) if dialect == "postgres" \
            else raw
        try:
            if repaired == raw:
                raise exc
            expression = _parse_one(repaired, dialect)
            base = first.start
        except (ParseError, TokenError):
            line, column, description = _error_position(exc)
            if base:  # positions in the statement's own text
                if line == 1:
                    column += first.start - (sql.rfind("\n", 0, first.start) + 1)
                line = start_line + line - 1
            return Statement(display, index, start_line, end_line, text, None,
                             unparsed=f"{description} at line {line}, column {column}")
    stmt = Statement(display, index, start_line, end_line, text, expression)
    _column_positions(stmt, expression, sql, base, first.start)
    return stmt


def _parse_one(raw: str, dialect: str) -> exp.Expression | None:
    parsed = [e for e in sqlglot.parse(raw, read=dialect) if e is not None]
    return parsed[0] if parsed else None


def _column_positions(stmt: Statement, expression: exp.Expression | None, sql: str, offset: int,
                      first_start: int) -> None:
    """Where each column of a CREATE TABLE / ALTER TABLE ADD is named, as file (line, column)."""
    if not isinstance(expression, exp.Create | exp.Alter):
        return
    for coldef in expression.find_all(exp.ColumnDef):
        ident = coldef.this
        start = getattr(ident, "meta", {}).get("start") if ident is not None else None
        if start is None:
            continue
        absolute = offset + int(start)
        line = stmt.start_line + sql.count("\n", first_start, absolute)
        column = absolute - (sql.rfind("\n", 0, absolute) + 1) + 1
        name = ident.this if isinstance(ident, exp.Identifier) and ident.quoted else coldef.name.lower()
        stmt.positions.setdefault(name, (line, column))
        line_end = sql.find("\n", absolute)
        rest = sql[absolute : line_end if line_end >= 0 else len(sql)]
        if "--" in rest and "'" not in rest.split("--", 1)[0]:
            stmt.line_comments.setdefault(name, rest.split("--", 1)[1].strip())


_BLOCK_VERBS = frozenset({"CREATE", "ALTER", "DROP", "GRANT", "REVOKE", "COMMENT"})
_BLOCK_OPENERS = frozenset({"BEGIN", "THEN", "ELSE", "LOOP"})


def _do_block(sql: str, group: list[Token], dialect: str, display: str, commands: set[TokenType] | frozenset[TokenType],
              do_line: int) -> tuple[list[Statement], list[SyntaxProblem]]:
    """The static SQL statements of a ``DO`` block's plpgsql body, at their own lines in the file.

    A statement is static when a schema verb (CREATE/ALTER/DROP/GRANT/REVOKE/COMMENT) starts it right
    after ``BEGIN``, ``THEN``, ``ELSE`` or ``LOOP`` or a ``;``; ``EXECUTE`` runs a string built at run
    time, which is not read: one note lists those lines."""
    body_token = next((t for t in group if t.token_type in (TokenType.STRING, TokenType.HEREDOC_STRING)
                       and sql[t.start : t.start + 1] == "$"), None)
    if body_token is None:
        return [], []
    source = sql[body_token.start : body_token.end + 1]
    tag = re.match(r"\$[A-Za-z_0-9]*\$", source)
    if tag is None:
        return [], []
    body_start = body_token.start + len(tag.group(0))
    body_end = body_token.end + 1 - len(tag.group(0))
    # tokenize the body in place: everything before it blanked, so offsets and lines stay the file's
    padded = re.sub(r"[^\n]", " ", sql[:body_start]) + sql[body_start:body_end]
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(padded)
    except TokenError:
        return [], [SyntaxProblem(display, do_line, "DO block not analysed: its body cannot be tokenized", "note")]
    statements: list[Statement] = []
    dynamic: list[int] = []
    for index, piece in enumerate(_split(tokens)):
        words = [t.text.upper() for t in piece]
        start = next((i for i, w in enumerate(words)
                      if w in _BLOCK_VERBS and (i == 0 or words[i - 1] in _BLOCK_OPENERS)), None)
        if start is None:
            if "EXECUTE" in words:
                dynamic.append(_line_of(sql, piece[words.index("EXECUTE")].start))
            continue
        stmt = _statement(padded, piece[start:], 10_000 + index, dialect, display, commands)
        stmt.block_line = do_line
        statements.append(stmt)
    notes: list[SyntaxProblem] = []
    if dynamic:
        lines = ", ".join(str(n) for n in dynamic[:10]) + (" ..." if len(dynamic) > 10 else "")
        notes.append(SyntaxProblem(display, do_line, f"DO block: {len(dynamic)} EXECUTE of a string built at run time "
                                                     f"not analysed (line {lines})", "note"))
    return statements, notes


def _attach_suppressions(statements: list[Statement], found: dict[int, Suppression]) -> None:
    """A comment on a statement's lines belongs to it (the innermost one: a statement inside a DO block
    rather than the block); one between statements, to the next one."""
    for line, suppression in sorted(found.items()):
        owners = [s for s in statements if s.start_line <= line <= s.end_line]
        owner = min(owners, key=lambda s: s.end_line - s.start_line) if owners else None
        if owner is not None and owner.first_word == "DO":  # a comment between the statements of a block
            owner = next((s for s in statements if s.block_line == owner.start_line and s.start_line > line), owner)
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
