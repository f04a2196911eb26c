"""Scan orchestration, one pipeline for every command that scans: plan → execute → evaluate.

* **Plan**: each target's connector discovers resources *while the executor runs* (a large share
  starts scanning at once); small resources are batched into work items (up to :data:`BATCH_BYTES` or
  :data:`BATCH_FILES`), large files are split into parts, each its own item. With a state directory
  (:mod:`scanner.state`), a resource unchanged since it was last scanned is not read again: its stored
  result is carried.
* **Execute**: an executor (:mod:`scanner.executor`, the seam for a cluster) runs batches in worker
  processes; each worker scans its items and evaluates the per-resource rules where the resource was
  read, so what returns is findings plus, for a resource with something in it, its scan.
* **Evaluate**: results stream into an on-disk store (:mod:`scanner.results`); clean resources are
  counters in their target's summary; target-level rules then judge each target's kept scans and facts,
  and the report is built from the store. The parent's memory does not grow with the number of
  resources, only with what was found.

A resource that fails becomes a notification; the scan goes on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from scanner import __version__
from scanner import executor as _executor
from scanner.connector import Connector, ScanOptions, WorkPart, merge_parts
from scanner.executor import Batch, Job, Outcome, WorkItem, _frozen_heap, evaluate_resource, executor_for, notable
from scanner.fingerprint import key_warnings, load_key
from scanner.model import CarriedGroup, Level, Notification, Resource, ResourceScan, ScanReport, TargetSummary
from scanner.policy import Policy, load_policy
from scanner.registry import CONNECTORS, RULES
from scanner.results import PHASE_RESOURCE, PHASE_SCAN, PHASE_TARGET, ResultStore
from scanner.rule import RuleContext, TargetScan

ProgressCallback = Callable[[int, int], None]

__all__ = ["SKIPPED_WHILE_LISTING", "UsageError", "_frozen_heap", "connector_for", "run_scan"]

#: a batch closes at this many bytes or files (whichever comes first): per-item overhead is paid per batch
BATCH_BYTES = 64 * 1024 * 1024
BATCH_FILES = 2000
#: resources larger than this (or of unknown size: tables, remote objects) are work items of their own
SMALL = 1024 * 1024


class UsageError(ValueError):
    """A mistake in how the scanner was invoked (exit code 2)."""


def connector_for(target: str) -> type[Connector]:
    """The connector class that serves ``target``'s URI scheme (bare paths are files)."""
    scheme = urlparse(target).scheme if "://" in target else ""
    for cls in CONNECTORS:
        if scheme in cls.schemes:
            return cls
    known = sorted({s for cls in CONNECTORS for s in cls.schemes if s})
    raise UsageError(
        f"no connector handles {scheme}:// targets; use a path or one of: {', '.join(s + '://' for s in known)}"
    )


#: the detector this process built (None: build it again, e.g. after a recognizer was patched in a test)
_worker_detector: Any = None


def _worker_init(min_score: float, ner_model: str | None = None) -> None:
    """Build the detector in this process before workers are forked (they inherit it)."""
    global _worker_detector
    _executor._prepare(Job([], [], None, min_score, ner_model))
    _worker_detector = _executor._detector


# notification kinds of items left out while listing, counted per kind in the target's summary
SKIPPED_WHILE_LISTING = ("too-large", "zip-bomb", "limit", "symlink-loop", "special-file", "nested-archive",
                         "third-party")


@dataclass
class _Target:
    index: int
    target: str
    connector: Connector
    summary: TargetSummary
    options: ScanOptions
    state_key: str = ""
    facts: list[Any] = field(default_factory=list)
    listed: bool = False  # discovery went through to the end (vanished resources may be forgotten)


@dataclass
class Progress:
    """What the progress display shows: resources done, found so far (still growing while discovery runs),
    bytes read, and resources carried from the state."""

    done: int = 0
    found: int = 0
    bytes: int = 0
    reused: int = 0
    discovering: bool = True


class _Run:
    """One scan: the targets, the store, the state, the parts of large files waiting for their siblings."""

    def __init__(self, options: ScanOptions, policy: Policy, ctx: RuleContext, rules: list[Any],
                 progress: Any, state: Any, notifications: list[Notification]) -> None:
        self.options, self.policy, self.ctx = options, policy, ctx
        self.rules = rules
        self.resource_rules = [r for r in rules if type(r).evaluate is not _BASE_EVALUATE]
        self.store = ResultStore()
        self.state = state
        self.targets: list[_Target] = []
        self.parts: dict[tuple[int, str], dict[int, ResourceScan]] = {}
        self.expected: dict[tuple[int, str], int] = {}
        self.progress = Progress()
        self._callback = progress
        self.store.add_notes(PHASE_SCAN, 0, "", notifications)

    # -- plan ---------------------------------------------------------------------------------

    def open_targets(self, specs: Iterable[str | tuple[str, ScanOptions]]) -> None:
        for index, spec in enumerate(specs):
            target, options = spec if isinstance(spec, tuple) else (spec, self.options)
            if not self.options.extra.get("include_third_party") and not options.third_party:
                options = dataclasses.replace(options, third_party=self.policy.third_party_globs)
            cls = connector_for(target)
            connector = cls(target, options)
            entry = _Target(index, target, connector, TargetSummary(target=connector.display_target,
                                                                    connector=cls.name), options)
            if self.state is not None:
                entry.state_key = self.state.target_key(target, options)
                connector.groups = self.state.groups(entry.state_key)
            self.targets.append(entry)

    def batches(self) -> Iterator[Batch]:
        """Work for the executor, as discovery finds it: small resources batched, large ones alone."""
        batch = Batch()
        for entry in self.targets:
            for item in self._items(entry):
                size = item.resource.size
                if item.part is not None or size is None or size > SMALL:
                    yield Batch([item], weight=size or 0)
                    continue
                batch.items.append(item)
                batch.weight += size
                if len(batch.items) >= self._batch_files() or batch.weight >= BATCH_BYTES:
                    yield batch
                    batch = Batch()
        self.progress.discovering = False
        if hasattr(self._callback, "advance"):
            self._report_progress()
        if batch.items:
            yield from self._split_last(batch)

    def _batch_files(self) -> int:
        """Batches grow with the estate: small while little is known (every worker gets work at once),
        :data:`BATCH_FILES` once discovery is well ahead."""
        jobs = max(1, self.options.jobs or os.cpu_count() or 1)
        return max(8, min(BATCH_FILES, self.progress.found // (jobs * 8)))

    def _split_last(self, batch: Batch) -> Iterator[Batch]:
        """The last batch, spread over the workers so none waits for one big batch at the end."""
        jobs = max(1, self.options.jobs or os.cpu_count() or 1)
        step = max(1, -(-len(batch.items) // jobs))
        for start in range(0, len(batch.items), step):
            yield Batch(batch.items[start:start + step])

    def _items(self, entry: _Target) -> Iterator[WorkItem]:
        """Discover one target's resources (and then its facts); carried resources are finished here."""
        try:
            listing: Iterable[Resource | Notification] = entry.connector.discover()
            # a database's catalogs are listed, and its facts read, in one session before any table is
            # sampled (a lost session then costs one table, not the target's grants); files stream
            eager = entry.connector.store == "database"
            if eager:
                listing = list(listing)
                self._facts(entry)
            for found in listing:
                if isinstance(found, Notification):
                    self._listing_note(entry, found)
                    continue
                if isinstance(found, CarriedGroup):
                    self._carried_group(entry, found)
                    continue
                self.progress.found += 1
                if self.state is not None:
                    carried = self.state.lookup(entry.state_key, found)
                    if carried is not None:
                        self.progress.reused += 1
                        self._finish(entry, carried, evaluate_resource(carried, self.resource_rules, self.ctx))
                        continue
                parts = entry.connector.parts(found)
                if parts != [None]:  # only split resources wait for siblings (one entry per resource would grow)
                    self.expected[(entry.index, found.uri)] = len(parts)
                for part in parts:
                    yield WorkItem(entry.index, found, part)
            if not eager:
                self._facts(entry)
            entry.listed = not entry.summary.failed
        except Exception as exc:  # a target that cannot be reached is reported, the rest goes on
            entry.summary.failed = True
            self.store.add_notes(PHASE_TARGET, entry.index, "", [Notification(
                f"Target {entry.connector.display_target} could not be scanned: {exc}.",
                entry.connector.display_target, level=Level.ERROR, kind="target-failed",
                exception=type(exc).__name__)])

    def _carried_group(self, entry: _Target, group: CarriedGroup) -> None:
        """An unchanged group's clean resources, carried from the state as counters."""
        entry.summary.resources += group.resources
        entry.summary.bytes_scanned += group.bytes_scanned
        entry.summary.items_examined += group.items_examined
        self.progress.found += group.resources
        self.progress.done += group.resources
        self.progress.reused += group.resources
        self.progress.bytes += group.bytes_scanned
        self._report_progress()

    def _facts(self, entry: _Target) -> None:
        notes = []
        for fact in entry.connector.facts():
            if isinstance(fact, Notification):
                notes.append(fact)
            else:
                entry.facts.append(fact)
        self.store.add_notes(PHASE_TARGET, entry.index, "", notes)

    def _listing_note(self, entry: _Target, note: Notification) -> None:
        self.store.add_notes(PHASE_TARGET, entry.index, "", [note])
        if note.kind in SKIPPED_WHILE_LISTING:
            entry.summary.skipped[note.kind] = entry.summary.skipped.get(note.kind, 0) + note.count
        if note.kind == "missing":
            entry.summary.failed = True

    # -- results ------------------------------------------------------------------------------

    def collect(self, batch: Batch, outcomes: list[Outcome]) -> None:
        for item, outcome in zip(batch.items, outcomes, strict=True):
            entry = self.targets[item.target]
            if item.part is not None:
                self._part(entry, item.resource, item.part, outcome)
                continue
            scan = outcome.scan or _clean_scan(item.resource, outcome.counters)
            if self.state is not None:
                self.state.record(entry.state_key, scan)
            self._finish(entry, scan, outcome.findings)

    def _part(self, entry: _Target, resource: Resource, part: WorkPart, outcome: Outcome) -> None:
        """Parts of a large file wait for their siblings; then they are merged (in file order) and judged."""
        key = (entry.index, resource.uri)
        bucket = self.parts.setdefault(key, {})
        assert outcome.scan is not None
        bucket[part.index] = outcome.scan
        if len(bucket) < self.expected[key]:
            return
        del self.parts[key], self.expected[key]
        scans = [bucket[i] for i in sorted(bucket)]
        scan = merge_parts(scans) if len(scans) > 1 else scans[0]
        if self.state is not None:
            self.state.record(entry.state_key, scan)
        self._finish(entry, scan, evaluate_resource(scan, self.resource_rules, self.ctx))

    def _finish(self, entry: _Target, scan: ResourceScan, findings: list[Any]) -> None:
        """A whole resource is done: its counters, findings, notifications and (with something in it) its
        scan for the target-level rules go to the store."""
        _summarize(entry.summary, scan)
        if any(n.kind == "not-scanned" for n in scan.notifications):
            entry.summary.failed = True  # no worker could take it (cluster placement): exit 3, baseline "not covered"
        for finding in findings:
            finding.properties.setdefault("target", entry.summary.target)
        self.store.add_findings(findings)
        if notable(scan):
            self.store.add_notes(PHASE_RESOURCE, entry.index, scan.resource.uri, scan.notifications)
            if scan.occurrences or scan.facts:
                self.store.add_scan(entry.index, scan)
        self.progress.done += 1
        self.progress.bytes += scan.bytes_scanned
        self._report_progress()

    def _report_progress(self) -> None:
        callback = self._callback
        if callback is None:
            return
        if hasattr(callback, "advance"):
            callback.advance(self.progress)
        else:
            callback(self.progress.done, self.progress.found)

    # -- evaluate -----------------------------------------------------------------------------

    def evaluate_targets(self) -> None:
        """The target-level rules, over each target's kept scans (by URI) and its facts."""
        for entry in self.targets:
            target_scan = TargetScan(entry.target, entry.connector.name, self.store.scans(entry.index), entry.facts)
            findings = [f for rule in self.rules for f in rule.evaluate_target(target_scan, self.ctx)
                        if f.level is not Level.NONE]
            for finding in findings:
                finding.properties.setdefault("target", entry.summary.target)
            self.store.add_findings(findings)


def _clean_scan(resource: Resource, counters: tuple) -> ResourceScan:
    done, lines, items, skipped, protected, masked = counters
    return ResourceScan(resource=resource, bytes_scanned=done, lines_scanned=lines, items_examined=items,
                        skipped=skipped, protected=protected, masked=masked)


def _base_evaluate() -> Any:
    from scanner.rule import Rule

    return Rule.evaluate


_BASE_EVALUATE = _base_evaluate()


def run_scan(
    targets: Iterable[str | tuple[str, ScanOptions]],
    options: ScanOptions | None = None,
    policy: Policy | None = None,
    *,
    now: dt.datetime | None = None,
    progress: Any = None,
    command_line: list[str] | None = None,
    state: str | Path | None = None,
    full: bool = False,
) -> ScanReport:
    """Scan every target and evaluate every rule; never raises for unreadable data.

    A target is a string, or ``(target, options)`` when it has its own include/exclude and limits (scan
    configs); worker count and ``min_score`` always come from ``options``. Every finding records its
    target's display name in ``properties.target`` so a baseline can tell "resolved" from "not scanned".
    ``state``: a state directory (:mod:`scanner.state`): resume an interrupted run, carry unchanged
    resources (``full``: read everything again). ``progress``: ``callback(done, found)``, or an object
    with ``advance(Progress)``.
    Raises :class:`~scanner.fingerprint.FingerprintKeyError` before any work when the key is unusable, and
    :class:`~scanner.state.StateError` when the state directory cannot be used.
    """
    global _worker_detector
    options = options or ScanOptions()
    policy = policy or load_policy()
    started = dt.datetime.now(dt.UTC)
    key = load_key()  # created here, once, before workers could race to create it
    notifications = [Notification(w, "", kind="key-exposed") for w in key_warnings()]
    ner_model = options.extra.get("ner_model")
    stored = None
    if state is not None:
        from scanner.state import State, detection_key

        stored = State(Path(state), key)
        stored.begin(detection_key(policy, options.min_score, ner_model), full)
        notifications.extend(stored.notifications)
    rules = [cls() for cls in RULES
             if policy.rule_enabled(cls.id) and getattr(cls, "scope", None) not in ("migrations", "review")]
    ctx = RuleContext(policy=policy, now=now or dt.datetime.now(dt.UTC), options=dict(options.extra))
    run = _Run(options, policy, ctx, rules, progress, stored, notifications)
    try:
        run.open_targets(targets)
        job = Job([(e.target, e.options) for e in run.targets], run.resource_rules, ctx, options.min_score, ner_model)
        _executor._detector = _worker_detector  # None: built again (e.g. a test patched a recognizer)
        executor = executor_for(job, options.jobs or os.cpu_count() or 1)
        try:
            for batch, outcomes in executor.run(run.batches()):
                run.collect(batch, outcomes)
        finally:
            executor.close()
            _worker_detector = _executor._detector
            for entry in run.targets:
                with contextlib.suppress(Exception):  # closing is best effort
                    entry.connector.close()
        run.evaluate_targets()
        if stored is not None:
            stored.finish(e.state_key for e in run.targets if e.listed)
            if stored.reused:
                run.store.add_notes(PHASE_SCAN, 0, "", [Notification(
                    f"{stored.reused:,} unchanged resources were not read again: their results were carried from "
                    f"the state in {stored.path}" + (" (an interrupted run resumed)" if stored.resuming else "") + ".",
                    str(stored.path), level=Level.NOTE, kind="state-reused", count=stored.reused)])
        report = ScanReport(
            findings=list(run.store.findings()),
            notifications=list(run.store.notifications()),
            targets=[e.summary for e in run.targets],
            rules=[type(r) for r in rules],
            started=started.isoformat(timespec="seconds").replace("+00:00", "Z"),
            finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            tool_version=__version__,
            policy_name=policy.name,
            command_line=command_line if command_line is not None else list(sys.argv),
            working_directory=os.getcwd(),
        )
        return report
    finally:
        run.store.close()
        if stored is not None:
            stored.close()


def _summarize(summary: TargetSummary, scan: ResourceScan) -> None:
    summary.resources += 1
    summary.bytes_scanned += scan.bytes_scanned
    summary.items_examined += scan.items_examined
    if scan.skipped:
        summary.skipped[scan.skipped] = summary.skipped.get(scan.skipped, 0) + 1
    if scan.protected:
        summary.protected[scan.protected] = summary.protected.get(scan.protected, 0) + 1
    for entity, count in scan.masked.items():
        summary.masked[entity] = summary.masked.get(entity, 0) + count
