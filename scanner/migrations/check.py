"""Run the migration check: order files, replay them, apply rules, suppressions and a baseline.

The result is an ordinary :class:`~scanner.model.ScanReport`, so the SARIF, JSON, text and GitHub
reporters and the CLI exit-code logic are shared with ``privaudit scan``.

Decisions worth knowing:

* A file that cannot be tokenized (an unterminated string, comment or quoted name) is an *error*
  notification whose message starts with ``file:line:``; the statements before it, and the other
  files, are still checked, and the command fails (exit 1) unless ``--fail-on none``.
* A statement that tokenizes but does not parse is a result of ``migration_statement_not_analysed``
  (an error for CREATE TABLE/VIEW, ALTER TABLE, GRANT, policies; a note for the rest), so it can be
  suppressed with a reason like any result; valid SQL the parser does not know never has to fail.
* An inline suppression without ``reason:`` is not applied and yields a
  ``migration_suppression_without_reason`` result at the comment; one naming an unknown rule is a
  warning notification.
* With ``--baseline``, results whose fingerprint is in the previous SARIF are ``unchanged`` and do
  not fail the run; the others are ``new``.
* Files named one by one (the pre-commit hook passes only the staged ones) are judged against the
  state the *whole* migration directory builds: :func:`context_targets` adds the directory of each
  file (for Diesel/Prisma, the directory of its version directory), every file there is replayed in
  order, and results are kept for the named files only (``report_only``). A GRANT in a new file on
  a table an older, unstaged migration created is judged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import pkgutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner import __version__
from scanner.fingerprint import SARIF_FINGERPRINT_KEY
from scanner.migrations.analysis import Analyzer
from scanner.migrations.live import LiveSchema, load_into
from scanner.migrations.ordering import (
    collect_sql_files,
    duplicate_versions,
    layout_of,
    named_dialect,
    order_migrations,
    other_dialect,
)
from scanner.migrations.parsing import ParsedFile, Statement, parse_file, parse_sql
from scanner.migrations.rulebase import MigrationContext, MigrationRule
from scanner.model import Finding, Level, Notification, Resource, ScanReport, TargetSummary
from scanner.policy import Policy
from scanner.rule import RuleContext

FINGERPRINT_KEY = SARIF_FINGERPRINT_KEY
SUPPRESSION_RULE = "migration_suppression_without_reason"


def migration_rule_classes() -> list[type[MigrationRule]]:
    """The rules in :mod:`scanner.rules.migrations`, imported directly.

    Only this package is imported (not the whole rule registry), so a half-written rule elsewhere
    cannot stop the migration gate.
    """
    import scanner.rules.migrations as package

    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
    found: dict[str, type[MigrationRule]] = {}
    pending = list(MigrationRule.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if getattr(cls, "id", None):
            found[cls.id] = cls
    return [found[k] for k in sorted(found)]


@dataclass
class _FileRoot:
    root: Path
    relative: str


@dataclass
class MigrationCheck:
    """Inputs of one run; :meth:`run` returns the report."""

    targets: Sequence[str]
    dialect: str
    policy: Policy
    baseline: set[str] | None = None
    schema_statements: list[Statement] = field(default_factory=list)
    live: LiveSchema | None = None
    command_line: list[str] = field(default_factory=list)
    cwd: Path = field(default_factory=Path.cwd)
    #: when set, only these files' results and problems are reported (the others build the state)
    report_only: set[Path] | None = None

    def _roots(self) -> dict[Path, _FileRoot]:
        """Each file's SARIF root: the working directory when the file is below it (repository-relative
        paths for GitHub), else the directory the user named."""
        roots: dict[Path, _FileRoot] = {}
        cwd = self.cwd.resolve()
        for target in self.targets:
            base = Path(target).resolve()
            base_dir = base if base.is_dir() else base.parent
            for path in collect_sql_files([target]):
                resolved = path.resolve()
                try:
                    roots[path] = _FileRoot(cwd, resolved.relative_to(cwd).as_posix())
                except ValueError:
                    roots[path] = _FileRoot(base_dir, resolved.relative_to(base_dir).as_posix())
        return roots

    def run(self) -> ScanReport:
        started = _now()
        roots = self._roots()
        ordered = order_migrations(roots, self.dialect)
        notifications = self._layout_notes(roots, ordered)
        rule_classes = [cls for cls in migration_rule_classes() if self.policy.rule_enabled(cls.id)]
        replay = _Replay(rules=[cls() for cls in rule_classes], known={cls.id for cls in migration_rule_classes()},
                         ctx=MigrationContext(RuleContext(self.policy), _resource_maker(roots, ordered)),
                         analyzer=Analyzer(self.dialect, self.policy), notifications=notifications)
        self._load_schema(replay)
        for path in ordered:
            self._replay_file(path, roots[path].relative, replay)
        for note in replay.analyzer.notes:
            notifications.append(Notification(f"{note.statement.file}:{note.statement.start_line}: {note.message}",
                                              resource_uri=note.statement.file, level=Level.NOTE, kind="not-judged"))
        if self.baseline is not None:
            for finding in replay.findings:
                finding.baseline_state = "unchanged" if finding.fingerprint in self.baseline else "new"
        summary = TargetSummary(target=" ".join(self.targets), connector="migrations", resources=len(ordered),
                                items_examined=replay.statements,
                                failed=any(n.kind == "syntax-error" for n in notifications))
        return ScanReport(
            findings=replay.findings, notifications=notifications, targets=[summary], rules=rule_classes,
            started=started, finished=_now(), tool_version=__version__, policy_name=self.policy.name,
            command_line=self.command_line, working_directory=str(self.cwd),
        )

    def _layout_notes(self, roots: dict[Path, _FileRoot], ordered: list[Path]) -> list[Notification]:
        """Files of other dialects left out, and versions several files claim."""
        notifications: list[Notification] = []
        elsewhere: dict[str, int] = {}
        for path in roots:
            if other_dialect(path, self.dialect):
                named = named_dialect(path) or "?"
                elsewhere[named] = elsewhere.get(named, 0) + 1
        if elsewhere:
            counts = ", ".join(f"{name}: {count}" for name, count in sorted(elsewhere.items()))
            notifications.append(Notification(
                f"{sum(elsewhere.values())} migration file(s) named for another dialect left out ({counts}); "
                f"checked: the {self.dialect} files", level=Level.NOTE, kind="not-judged"))
        for version, files in duplicate_versions(ordered):
            names = ", ".join(roots[f].relative for f in files)
            notifications.append(Notification(
                f"version {'.'.join(map(str, version))} is used by several files ({names}); migration tools refuse "
                "duplicate versions, they are checked in name order", level=Level.WARNING, kind="duplicate-version"))
        return notifications

    def _load_schema(self, replay: _Replay) -> None:
        """The schema the migrations start from: ``--schema-from`` (a dump or a live database), applied
        without results."""
        statements = list(self.schema_statements)
        if self.live is not None and self.live.statements_sql:
            statements += parse_sql(self.live.statements_sql, self.dialect, "<schema-from>").statements
        elif self.live is not None:
            for problem in load_into(replay.analyzer, self.live):
                replay.notifications.append(Notification(f"--schema-from: {problem}", level=Level.WARNING,
                                                         kind="schema-from"))
        for stmt in statements:
            replay.analyzer.apply(stmt, emit=False)

    def _replay_file(self, path: Path, display: str, replay: _Replay) -> None:
        """Apply one file's statements; judge and report them unless the file is context only (replayed
        for the state, not reported: the pre-commit hook's unstaged files)."""
        if self.report_only is not None and path.resolve() not in self.report_only:
            with contextlib.suppress(OSError):
                for stmt in parse_file(path, self.dialect, display).statements:
                    replay.analyzer.apply(stmt, emit=False)
            return
        try:
            parsed: ParsedFile = parse_file(path, self.dialect, display)
        except OSError as exc:
            replay.notifications.append(Notification(f"{display}: cannot be read: {exc.strerror or exc}",
                                                     resource_uri=display, level=Level.ERROR, kind="unreadable"))
            return
        for problem in parsed.problems:
            replay.notifications.append(self._problem_note(problem))
        for stmt in parsed.statements:
            replay.statements += 1
            replay.findings.extend(self._suppress(stmt, replay.judge(stmt), replay.rules, replay.known, replay.ctx,
                                                  replay.notifications))

    def _problem_note(self, problem: Any) -> Notification:
        if problem.severity == "note":
            return Notification(f"{problem.file}:{problem.line}: {problem.message}", resource_uri=problem.file,
                                level=Level.NOTE, kind="not-judged")
        return Notification(
            f"{problem.file}:{problem.line}: {problem.message} (statement not checked; fix the SQL or "
            f"check that --dialect {self.dialect} is right)",
            resource_uri=problem.file, level=Level.ERROR, kind="syntax-error")

    def _suppress(self, stmt: Statement, produced: list[Finding], rules: list[MigrationRule], known: set[str],
                  ctx: MigrationContext, notifications: list[Notification]) -> Iterable[Finding]:
        out = list(produced)
        suppression_rule = next((r for r in rules if r.id == SUPPRESSION_RULE), None)
        for suppression in stmt.suppressions:
            unknown = [r for r in suppression.rules if r not in known]
            if unknown or not suppression.rules:
                notifications.append(Notification(
                    f"{stmt.file}:{suppression.line}: privaudit:ignore names unknown rule(s) "
                    f"{', '.join(unknown) or '(none)'}; known migration rules: {', '.join(sorted(known))}",
                    resource_uri=stmt.file, level=Level.WARNING, kind="suppression"))
            if not suppression.reason:
                if suppression_rule is not None:
                    out.append(suppression_rule.for_suppression(stmt, suppression, ctx))
                continue
            for finding in produced:
                if finding.rule_id in suppression.rules and not finding.suppressions:
                    finding.suppressions = [{"kind": "inSource", "justification": suppression.reason}]
        return out


def context_targets(paths: Sequence[str]) -> tuple[list[str], set[Path] | None]:
    """Targets to replay and the files to report on. Directories are checked whole; when every path
    is a file (a pre-commit hook's staged files), the migration directories holding them are replayed
    too, so the named files are judged against the state older migrations built."""
    files = [Path(p) for p in paths]
    if not files or not all(f.is_file() for f in files):
        return list(paths), None
    directories: dict[str, None] = {}
    for file in files:
        directory = file.parent.parent if layout_of(file) else file.parent
        directories.setdefault(str(directory), None)
    return [*directories, *paths], {f.resolve() for f in files}


def active_findings(report: ScanReport) -> list[Finding]:
    """Findings that count for the exit code: not suppressed, not unchanged since the baseline."""
    return [f for f in report.findings if not f.suppressions and f.baseline_state != "unchanged"]


def gate_exit_code(report: ScanReport, fail_on: str) -> int:
    """The scan's scheme: 3 when a migration file could not be read at all (wins), 1 for findings at or
    above ``fail_on`` or statements that could not be parsed, else 0."""
    if any(n.kind == "unreadable" for n in report.notifications):
        return 3
    if fail_on == "none":
        return 0
    threshold = Level(fail_on).rank
    if any(f.level.rank >= threshold for f in active_findings(report)):
        return 1
    return 1 if any(n.kind == "syntax-error" for n in report.notifications) else 0


def load_baseline(path: str) -> set[str]:
    """Fingerprints of the results in a previous SARIF log (``partialFingerprints[privaudit/v1]``)."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise ValueError("not a SARIF log (no 'runs' array)")
    found: set[str] = set()
    for run in data["runs"]:
        for result in run.get("results") or ():
            fingerprint = (result.get("partialFingerprints") or {}).get(FINGERPRINT_KEY)
            if fingerprint:
                found.add(fingerprint)
    return found


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class _Replay:
    """The state of one check: the rules, the analyzer's schema, and what it has found so far."""

    rules: list[MigrationRule]
    known: set[str]
    ctx: MigrationContext
    analyzer: Analyzer
    notifications: list[Notification]
    findings: list[Finding] = field(default_factory=list)
    statements: int = 0

    def judge(self, stmt: Statement) -> list[Finding]:
        """The rules' results for one statement; a statement the analyzer fails on is reported, never fatal."""
        produced: list[Finding] = []
        try:
            for event in self.analyzer.apply(stmt):
                for rule in self.rules:
                    if isinstance(event, rule.handles):
                        produced.extend(rule.check(event, self.ctx))
        except Exception as exc:  # one odd statement must not stop the gate; it is reported
            self.notifications.append(Notification(
                f"{stmt.file}:{stmt.start_line}: could not analyse this statement ({type(exc).__name__}: "
                f"{exc}); please report it with the statement", resource_uri=stmt.file, level=Level.ERROR,
                kind="syntax-error", exception=type(exc).__name__))
        return produced


def _resource_maker(roots: dict[Path, _FileRoot], ordered: list[Path]) -> Any:
    """The resource a migration result is reported on: the file, with its SARIF root."""
    display_to_root = {roots[p].relative: roots[p] for p in ordered}

    def resource_for(stmt: Statement, logical_name: str | None, logical_kind: str | None) -> Resource:
        root = display_to_root.get(stmt.file)
        return Resource(
            uri=stmt.file, kind="migration", display_name=stmt.file, connector="migrations",
            root_uri=(root.root.as_uri().rstrip("/") + "/") if root else None,
            relative_path=root.relative if root else None,
            logical_name=logical_name, logical_kind=logical_kind,
        )

    return resource_for
