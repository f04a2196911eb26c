"""Where work items run: the executor seam between planning a scan and evaluating its results.

A scan hands an executor an *iterator* of :class:`Batch` es (discovery is still walking while the first
ones run) and gets back ``(batch, outcomes)`` pairs as they finish, in any order. The executor pulls the
next batch only when it has room, so discovery never runs far ahead of scanning and memory stays
bounded by the batches in flight, whatever the size of the estate.

:class:`SerialExecutor` runs batches in this process (``--jobs 1``); :class:`ProcessPoolExecutor` in a
pool of forked worker processes. A cluster executor (Dask) implements the same two methods.

What a worker does with a batch is :func:`run_batch`: scan each item with the connector of its target,
and, for a whole resource, evaluate the per-resource rules right there, so what travels back is the
findings and, only for a resource with something in it, its scan (for target-level rules); a clean
resource comes back as a handful of counters.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import sys
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures import ProcessPoolExecutor as _Pool
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

from scanner.connector import Connector, ReadError, ScanOptions, WorkPart
from scanner.model import Finding, Level, Notification, Resource, ResourceScan
from scanner.registry import CONNECTORS


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One resource, or one part of a large one, of the target at ``target`` (an index into the job)."""

    target: int
    resource: Resource
    part: WorkPart | None = None


@dataclass(slots=True)
class Batch:
    """Work items scanned together: many small files pay the round trip to a worker once."""

    items: list[WorkItem] = field(default_factory=list)
    weight: int = 0


@dataclass(slots=True)
class Outcome:
    """What came back for one work item.

    ``scan`` is the whole scan for a part (merged in the parent) and for a resource with anything in
    it (occurrences, facts, notifications); ``None`` for a clean resource, which is ``counters`` only:
    (bytes scanned, lines, items examined, skipped reason, protection label, masked counts).
    ``findings``: what the per-resource rules made of it (parts: none yet).
    """

    scan: ResourceScan | None
    findings: list[Finding]
    counters: tuple[int, int, int, str | None, str | None, dict[str, int]]


@dataclass
class Job:
    """What every worker needs to know, set once per pool: the targets with their options, the
    per-resource rules and their context, and the detector settings."""

    targets: list[tuple[str, ScanOptions]]
    rules: list[Any]
    ctx: Any
    min_score: float
    ner_model: str | None = None


def notable(scan: ResourceScan) -> bool:
    """Whether a scan holds anything beyond counters: something found, facts, or notifications.

    Per-resource rules judge what was found in a resource (matches, occurrences, column verdicts), so a
    scan that is not notable gives them nothing to judge and is not shown to them.
    """
    return bool(scan.occurrences or scan.matches or scan.facts or scan.notifications or scan.validation_failures)


def counters_of(scan: ResourceScan) -> tuple[int, int, int, str | None, str | None, dict[str, int]]:
    return (scan.bytes_scanned, scan.lines_scanned, scan.items_examined, scan.skipped, scan.protected,
            dict(scan.masked))


def evaluate_resource(scan: ResourceScan, rules: list[Any], ctx: Any) -> list[Finding]:
    """Every per-resource rule over one (whole) resource's scan; nothing for a scan that is not notable."""
    if not notable(scan):
        return []
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(f for f in rule.evaluate(scan, ctx) if f.level is not Level.NONE)
    return findings


# -- worker side --------------------------------------------------------------------------------

_job: Job | None = None
_detector: Any = None
_connectors: dict[tuple[str, int], Connector] = {}


def _prepare(job: Job) -> None:
    """Build the detector once per process (forked workers inherit the one the parent built)."""
    global _job, _detector
    _job = job
    if _detector is not None and (_detector.min_score, getattr(_detector, "ner_model", None)) == (
            job.min_score, job.ner_model):
        return
    from scanner.detection.engine import Detector

    detector: Any = Detector(min_score=job.min_score)
    detector.prepare()
    if job.ner_model:
        from scanner.detection.presidio import NerDetector

        detector = NerDetector(detector, job.ner_model)
    _detector = detector


def _pool_init(job: Job) -> None:
    """Pool initializer: the job, the detector, and closing this worker's connectors when it exits
    (pool workers skip ``atexit``; without this SSH sessions and database connections would only be
    dropped by the operating system)."""
    import multiprocessing.util

    _prepare(job)
    multiprocessing.util.Finalize(None, close_connectors, exitpriority=10)


def close_connectors() -> None:
    for connector in _connectors.values():
        with contextlib.suppress(Exception):
            connector.close()
    _connectors.clear()


def scan_item(item: WorkItem) -> ResourceScan:
    """Scan one work item with its target's connector (kept per process: sessions are reused); a
    resource that fails becomes a notification, never an exception."""
    assert _job is not None
    target, options = _job.targets[item.target]
    resource = item.resource
    key = (resource.connector, item.target)
    connector = _connectors.get(key)
    if connector is None:
        connector = _connectors[key] = CONNECTORS.get(resource.connector)(target, options)
    try:
        return connector.scan_resource(resource, _detector, item.part)
    except ReadError as exc:
        scan = ResourceScan(resource=resource)
        scan.notifications.append(Notification(f"{resource.display_name}: {exc}.", resource.uri, kind=exc.kind,
                                               level=exc.level))
        return scan
    except Exception as exc:  # one resource must never abort the scan
        scan = ResourceScan(resource=resource)
        scan.notifications.append(Notification(
            f"{resource.display_name} could not be scanned: {type(exc).__name__}: {exc}.", resource.uri,
            level=Level.ERROR, kind="internal-error", exception=type(exc).__name__))
        return scan


def run_batch(batch: Batch) -> list[Outcome]:
    """Scan a batch and evaluate the per-resource rules of its whole resources (see :class:`Outcome`)."""
    assert _job is not None
    outcomes: list[Outcome] = []
    for item in batch.items:
        scan = scan_item(item)
        if item.part is not None:
            outcomes.append(Outcome(scan, [], counters_of(scan)))
            continue
        findings = evaluate_resource(scan, _job.rules, _job.ctx)
        outcomes.append(Outcome(scan if notable(scan) else None, findings, counters_of(scan)))
    return outcomes


def lost(item: WorkItem) -> Outcome:
    """The outcome of an item whose worker died twice: an error notification, nothing scanned."""
    resource = item.resource
    scan = ResourceScan(resource=resource)
    scan.notifications.append(Notification(
        f"{resource.display_name}: the worker process scanning it died twice (killed by a signal or the "
        "out-of-memory killer); not scanned, the rest of the scan went on.",
        resource.uri, level=Level.ERROR, kind="worker-lost",
    ))
    return Outcome(scan, [], counters_of(scan))


# -- executors ------------------------------------------------------------------------------------


class Executor(Protocol):
    """Runs batches of a :class:`Job`; a cluster implementation needs only this."""

    def run(self, batches: Iterator[Batch]) -> Iterator[tuple[Batch, list[Outcome]]]:
        """Pull batches as there is room, yield each with its outcomes as it finishes."""
        ...

    def close(self) -> None:
        ...


class SerialExecutor:
    """Everything in this process, in order (``--jobs 1``, or a scan with one work item)."""

    def __init__(self, job: Job) -> None:
        _prepare(job)

    def run(self, batches: Iterator[Batch]) -> Iterator[tuple[Batch, list[Outcome]]]:
        for batch in batches:
            yield batch, run_batch(batch)

    def close(self) -> None:
        close_connectors()


def _pool_context() -> multiprocessing.context.BaseContext | None:
    """``fork`` where it is safe (Linux): workers start in milliseconds and share, copy-on-write, the
    detector the parent built (importing Presidio and compiling the Hyperscan database costs ~1.5 s
    and ~100 MiB per process otherwise). Elsewhere the platform default."""
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


@contextlib.contextmanager
def _frozen_heap(forking: bool) -> Iterator[None]:
    """While forked workers run, the parent's objects (detector, registries, reference tables) sit in
    the GC's permanent generation (``gc.freeze``, as the ``gc`` docs advise before ``fork``): the
    workers' collections skip them instead of walking, and thereby copying, the inherited heap."""
    if not forking:
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class ProcessPoolExecutor:
    """A pool of worker processes, at most ``2 × jobs`` batches in flight.

    A worker that dies (SIGKILL, SIGSEGV, the OOM killer) breaks the pool and every batch in flight
    with it. Their items are retried one at a time, each in a fresh single-worker pool, so the one that
    kills its worker again is known; it becomes a ``worker-lost`` error notification and the rest of
    the scan goes on in a new pool.
    """

    def __init__(self, job: Job, jobs: int) -> None:
        self.job, self.jobs = job, jobs
        self.context = _pool_context()
        if self.context is not None:
            _prepare(job)  # inherited by forked workers

    def _pool(self, workers: int) -> _Pool:
        return _Pool(max_workers=workers, mp_context=self.context, initializer=_pool_init, initargs=(self.job,))

    def run(self, batches: Iterator[Batch]) -> Iterator[tuple[Batch, list[Outcome]]]:
        queue = iter(batches)
        with _frozen_heap(self.context is not None):
            while True:
                suspects: list[Batch] = []
                yield from self._run_pool(queue, suspects)
                if not suspects:
                    return
                for batch in suspects:
                    for item in batch.items:
                        yield from self._retry_alone(item)

    def _run_pool(self, queue: Iterator[Batch], suspects: list[Batch]) -> Iterator[tuple[Batch, list[Outcome]]]:
        """Run batches until the queue is empty or the pool breaks (then ``suspects``: those in flight)."""
        with self._pool(self.jobs) as pool:
            pending: dict[Future, Batch] = {}
            exhausted = False
            while True:
                while not exhausted and len(pending) < self.jobs * 2:
                    batch = next(queue, None)
                    if batch is None:
                        exhausted = True
                        break
                    pending[pool.submit(run_batch, batch)] = batch
                if not pending:
                    return
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    batch = pending.pop(future)
                    try:
                        outcomes = future.result()
                    except BrokenProcessPool:
                        suspects.append(batch)
                        continue
                    yield batch, outcomes
                if suspects:
                    suspects.extend(pending.values())  # all of them fail with the pool: none gets a result
                    return

    def _retry_alone(self, item: WorkItem) -> Iterator[tuple[Batch, list[Outcome]]]:
        batch = Batch([item])
        with self._pool(1) as pool:
            try:
                yield batch, pool.submit(run_batch, batch).result()
                return
            except BrokenProcessPool:
                pass
        yield batch, [lost(item)]

    def close(self) -> None:
        close_connectors()


def executor_for(job: Job, jobs: int) -> Executor:
    """The local pool, or a Dask cluster when the scan's options name one (``cluster`` in ``extra``)."""
    options = getattr(job.ctx, "options", None) or {}
    if options.get("cluster"):
        from scanner.executor_dask import DaskExecutor, spec_from_extra

        spec = spec_from_extra(options)
        assert spec is not None
        return DaskExecutor(job, spec)
    return SerialExecutor(job) if jobs <= 1 else ProcessPoolExecutor(job, jobs)
