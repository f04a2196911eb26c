"""Scans on a Dask cluster: the :class:`~scanner.executor.Executor` protocol over distributed's futures API.

Optional (``pip install 'privaudit[dask]'``); the local process pool stays the default. Batches become
tasks (``pure=False``: a batch is read again, never answered from the cache), at most ``2 × threads``
in flight, so discovery never runs far ahead of the cluster, as with the local pool.

The :class:`~scanner.executor.Job` (targets, per-resource rules, detector settings) travels once, in a
worker plugin: the scheduler hands it to every worker, including one that joins or is restarted by its
nanny mid-scan (data scattered to workers would die with them). Each worker builds the detector once
per process (the Hyperscan database cannot be pickled; its on-disk cache makes that ~0.1 s) and keeps
its connectors between tasks.

What crosses the wire is what the local pool's workers return: masked evidence, keyed hashes and
counters, never a raw value. For those hashes to agree, every worker must hold the client's fingerprint
key: the client and each worker compare an HMAC of a constant under their keys (the key itself never
travels) when the scan starts and again in every task, so a worker that joins later with another key
fails its first task before it reads anything.

Task payloads are pickles: whoever can reach the scheduler can run code on the workers. Hence mutual
TLS (``tls://``) by default and plain TCP only when asked for explicitly.
"""

from __future__ import annotations

import contextlib
import fnmatch
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scanner import executor as _executor
from scanner.connector import store_of
from scanner.executor import Batch, Job, Outcome, WorkItem, counters_of, lost, run_batch
from scanner.fingerprint import FingerprintKeyError, keyed_hash
from scanner.model import Level, Notification, ResourceScan

#: seconds to wait for a worker that offers a placement's resources (config ``placement_timeout:``)
PLACEMENT_TIMEOUT = 300.0
#: concurrent sessions per database across the cluster (config ``database_sessions:``)
DATABASE_SESSIONS = 2
#: how often, while placed work waits, the client asks the scheduler which resources its workers offer
PLACEMENT_POLL = 0.25
#: batches waiting for their resources, per slot of the cluster, before discovery is held back
PARKED_PER_SLOT = 64

#: The constant whose HMAC proves two processes share the fingerprint key without sending it.
KEY_PROBE = "privaudit/cluster-key-check/v1"

#: how the settings of a cluster are named where they were given: the command line or the scan config
CLI_NAMES = {"address": "--cluster", "ca": "--cluster-tls-ca", "cert": "--cluster-tls-cert",
             "key": "--cluster-tls-key", "insecure": "--cluster-insecure"}
CONFIG_NAMES = {"address": "", "ca": "cluster.tls.ca", "cert": "cluster.tls.cert",
                "key": "cluster.tls.key", "insecure": "cluster.insecure: true"}


def insecure_warning(names: dict[str, str] = CLI_NAMES) -> str:
    """Why plain TCP needs an explicit opt-in, with the settings that fix it named as the user gave them."""
    return ("task payloads are pickles: whoever reaches the scheduler runs code on the workers; use tls:// with "
            f"{names['ca']}/{names['cert']}/{names['key']}, or give {names['insecure']} on a network only the "
            "scan's machines can reach")


INSECURE_WARNING = insecure_warning()


class ClusterError(FingerprintKeyError):
    """The cluster cannot be used for this scan (address, TLS files, key mismatch, unreachable).

    A :class:`~scanner.fingerprint.FingerprintKeyError` so the command line reports it as the usage or
    configuration error it is (exit 2) before anything is scanned. Messages never hold a key.
    """


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """Where to run: ``local:N``, ``tls://host:port`` (mutual TLS files) or ``tcp://host:port`` (insecure)."""

    address: str
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    insecure: bool = False

    def problem(self, names: dict[str, str] = CLI_NAMES) -> str | None:
        """Why this spec cannot be used, or ``None``: checked before the scan, so the CLI exits 2.
        ``names``: the settings as the user gave them (:data:`CLI_NAMES` or :data:`CONFIG_NAMES`)."""
        address, option = self.address, names["address"]
        option = f"{option} " if option else ""  # a config's message already names cluster.address
        if address.startswith("local:"):
            count = address.removeprefix("local:")
            if not count.isdigit() or int(count) < 1:
                return f"{option}{address!r}: local:N needs a worker count N ≥ 1, e.g. local:4"
            return None
        try:
            parts = urlsplit(address)
            hostname = parts.hostname
        except ValueError:
            parts, hostname = urlsplit(""), None
        if parts.scheme not in ("tls", "tcp") or not hostname:
            return (f"{option}{address!r} is not a cluster address; give local:N, tls://host:port or "
                    f"tcp://host:port (with {names['insecure']})")
        if parts.username or parts.password:
            return f"{option}{parts.scheme}://…@{hostname}: the address must not hold credentials"
        if parts.scheme == "tcp" and not self.insecure:
            return f"{option}{address} is plain TCP: {insecure_warning(names)}"
        if parts.scheme == "tls":
            files = ((names["ca"], self.tls_ca), (names["cert"], self.tls_cert), (names["key"], self.tls_key))
            missing = [name for name, value in files if not value]
            if missing:
                return f"{option}{address} needs mutual TLS files: give {', '.join(missing)}"
        return None

    def security(self) -> Any:
        from distributed.security import Security

        if urlsplit(self.address).scheme != "tls":
            return None
        return Security(tls_ca_file=self.tls_ca, tls_client_cert=self.tls_cert, tls_client_key=self.tls_key,
                        require_encryption=True)


def spec_from_extra(extra: dict[str, Any]) -> ClusterSpec | None:
    """The cluster of a scan, from ``ScanOptions.extra`` (``cluster`` and ``cluster_tls_*`` keys)."""
    address = extra.get("cluster")
    if not address:
        return None
    return ClusterSpec(str(address), extra.get("cluster_tls_ca"), extra.get("cluster_tls_cert"),
                       extra.get("cluster_tls_key"), bool(extra.get("cluster_insecure")))


def password_targets(targets: list[str]) -> list[str]:
    """Targets whose URI holds a password: refused in cluster mode (credentials stay on the workers:
    pgpass, instance roles, keytabs, environment), shown without the password."""
    refused = []
    for target in targets:
        if "://" not in target:
            continue
        try:
            parts = urlsplit(target)
            has_password = parts.password is not None
        except ValueError:
            continue
        if has_password:
            refused.append(f"{parts.scheme}://{parts.username or ''}:***@{parts.hostname or ''}")
    return refused


# -- worker side ----------------------------------------------------------------------------------

def key_check() -> str:
    """HMAC of :data:`KEY_PROBE` under this process's fingerprint key (or why the key is unusable)."""
    try:
        return keyed_hash(KEY_PROBE)
    except FingerprintKeyError as exc:
        return f"unusable: {exc}"


_lock = threading.Lock()  # workers are meant to run one thread; a multi-threaded one must not share state
_token: str | None = None
_jobs: dict[str, Job] = {}  # token -> job, set by JobPlugin


try:
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # distributed is optional: without it nothing here runs
    _WorkerPlugin = object  # type: ignore[assignment,misc]


class JobPlugin(_WorkerPlugin):  # type: ignore[misc,valid-type]
    """Hands the scan's job to every worker once, including workers that start mid-scan (module level,
    so it is pickled by reference and sets this module's ``_jobs`` on the worker)."""

    def __init__(self, token: str, job: Job) -> None:
        self.name = f"privaudit-job-{token}"
        self.token, self.job = token, job

    def setup(self, worker: Any) -> None:
        _jobs[self.token] = self.job

    def teardown(self, worker: Any) -> None:
        _jobs.pop(self.token, None)


def run_cluster_batch(token: str, check: str, batch: Batch,
                      sessions: tuple[str, int] | None = None) -> list[Outcome]:
    """A task: check the key, set up this worker for the job once (detector, fresh connectors), scan.

    ``sessions``: name and leases of the ``distributed.Semaphore`` of the batch's database, held while
    its tables are sampled; the database's connections are closed before it is released, so the number of leases is
    the number of sessions the database sees from the whole cluster."""
    global _token
    mine = key_check()
    if mine != check:
        raise ClusterError(_mismatch_message({_worker_name(): mine}, "the scan stopped and wrote no report"))
    job = _jobs.get(token)
    if job is None:
        raise ClusterError(f"worker {_worker_name()} has not received this scan's job; is it a privaudit worker of "
                           "the same version as the client")
    with _lock:
        if _token != token:
            _executor.close_connectors()  # another scan's connectors: other targets under the same indices
            _executor._prepare(job)
            _token = token
        lease: Any = contextlib.nullcontext()
        if sessions is not None:
            _import_drivers(batch)  # a first import (seconds on a busy host) must not hold the database's lease
            lease = _semaphore(*sessions)
        with lease:
            try:
                return run_batch(batch)
            finally:
                close_database_connectors()


_semaphores: dict[str, Any] = {}  # name -> this worker's distributed.Semaphore (registered once)


def _semaphore(name: str, leases: int) -> Any:
    from distributed import Semaphore

    if name not in _semaphores:
        _semaphores[name] = Semaphore(max_leases=leases, name=name)
    return _semaphores[name]


def _import_drivers(batch: Batch) -> None:
    """Import the connectors and client libraries (psycopg, PyMySQL) a batch needs."""
    import importlib

    from scanner.registry import CONNECTORS

    for name in {item.resource.connector for item in batch.items}:
        for module in CONNECTORS.get(name).requires:
            with contextlib.suppress(ImportError):  # reported by the connector when it is used
                importlib.import_module(module)


def close_database_connectors() -> None:
    """Close this worker's database connections after every batch: in cluster mode a session must not
    outlive the semaphore lease it was opened under (files, S3 and SFTP keep theirs between tasks)."""
    for key, connector in list(_executor._connectors.items()):
        if connector.store == "database":
            with contextlib.suppress(Exception):
                connector.close()
            del _executor._connectors[key]


def not_scanned(item: WorkItem, resources: dict[str, float], timeout: float) -> Outcome:
    """The outcome of an item no worker could take: its placement's resources were not offered in time."""
    resource = item.resource
    wanted = ", ".join(f"{name}={amount:g}" for name, amount in sorted(resources.items()))
    flags = " ".join(f"--resources {name}={amount:g}" for name, amount in sorted(resources.items()))
    scan = ResourceScan(resource=resource)
    scan.notifications.append(Notification(
        f"{resource.display_name}: not scanned: no worker of the cluster offered the resources its placement "
        f"requires ({wanted}) within {timeout:g} s; start `privaudit worker ADDRESS {flags}` "
        "in the target's network zone, or raise placement_timeout.",
        resource.uri, level=Level.ERROR, kind="not-scanned"))
    return Outcome(scan, [], counters_of(scan))


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except Exception:
        return "this worker"


def _mismatch_message(bad: dict[str, str], outcome: str = "nothing was scanned") -> str:
    names = ", ".join(sorted(bad))
    unusable = [v.removeprefix("unusable: ") for v in bad.values() if v.startswith("unusable: ")]
    detail = f" ({'; '.join(unusable)})" if unusable else ""
    return (f"the fingerprint key of worker {names} differs from this client's{detail}: fingerprints and keyed "
            "hashes would not agree; give every worker the same key (PRIVAUDIT_FINGERPRINT_KEY or the key file) "
            f"and start the scan again; {outcome}")


def setup_worker() -> None:
    """Loaded by ``privaudit worker`` at start: import the scanner and check the key is usable, so a
    misconfigured worker says so in its log before any task reaches it."""
    import logging

    import scanner.executor  # noqa: F401  (the task code, imported once)
    from scanner.registry import CONNECTORS

    CONNECTORS.load()  # every connector's module (seconds on a busy host), before the first task waits for it

    check = key_check()
    if check.startswith("unusable: "):
        logging.getLogger("privaudit.worker").error("privaudit worker: %s.", check.removeprefix("unusable: "))


# -- client side ----------------------------------------------------------------------------------


class DaskExecutor:
    """Runs batches on a Dask cluster; same protocol and results as the local process pool.

    A batch whose workers keep dying (distributed's ``KilledWorker`` after its allowed failures; tasks
    that merely shared the dying worker can get it too) is retried one item at a time, each with nothing
    else of this scan in flight, as the local pool does: the item that kills its worker then becomes a
    ``worker-lost`` error notification and the rest of the scan goes on.

    Placement (``cluster_placement`` in the scan's options: ``[glob over target URIs, resources]``, the
    first match wins): a target's items are submitted with those worker resources, so a database is
    sampled from a worker in its network zone. A batch of the scan pipeline may mix targets; it is split
    here by placement and by database. When no worker offers a placement's resources for
    ``cluster_placement_timeout`` seconds (from the first batch that needed them, or from the moment
    the last such worker left), the batches waiting for them come back as ``not-scanned`` errors.

    Every database target has a ``distributed.Semaphore`` of ``cluster_database_sessions`` leases (named
    by a keyed hash of its URI, never the URI), held by a worker while it samples that database's tables.
    """

    def __init__(self, job: Job, spec: ClusterSpec, *, timeout: float = 30.0) -> None:
        problem = spec.problem()
        if problem:
            raise ClusterError(problem)
        refused = password_targets([t for t, _ in job.targets])
        if refused:
            raise ClusterError(f"{refused[0]}: a target URI holding a password is refused in cluster mode; keep "
                               "credentials on the workers (pgpass, instance roles, keytabs, environment)")
        from distributed import Client

        self.job, self.spec = job, spec
        self.cluster: Any = None
        options = getattr(job.ctx, "options", None) or {}
        placement = [(str(glob), dict(resources)) for glob, resources in options.get("cluster_placement") or ()]
        # resources of each target (by index into the job): the first placement whose glob matches its URI
        self.resources = [next((r for glob, r in placement if fnmatch.fnmatchcase(target, glob)), None)
                          for target, _ in job.targets]
        self.placement_timeout = float(options.get("cluster_placement_timeout") or PLACEMENT_TIMEOUT)
        self.sessions = int(options.get("cluster_database_sessions") or DATABASE_SESSIONS)
        self._semaphores: dict[int, Any] = {}
        self._offered: dict[tuple, bool] = {}
        self._missing_since: dict[tuple, float] = {}
        self._offers_at = 0.0
        self._worker_resources: list[dict[str, float]] = []
        self.check = key_check()
        if self.check.startswith("unusable: "):
            raise ClusterError(self.check.removeprefix("unusable: "))
        try:
            if spec.address.startswith("local:"):
                import dask
                from distributed import LocalCluster

                # dashboard off; the scheduler's health/metrics HTTP server on a free loopback port;
                # no profiler (its stack samples could hold the values being scanned)
                with dask.config.set({"distributed.worker.profile.enabled": False}):
                    self.cluster = LocalCluster(
                        n_workers=int(spec.address.removeprefix("local:")), threads_per_worker=1, processes=True,
                        dashboard_address=None, scheduler_port=0, host="127.0.0.1",
                        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})
                self.client = Client(self.cluster, timeout=timeout)
            else:
                self.client = Client(spec.address, security=spec.security(), timeout=timeout)
            self.client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise ClusterError(f"cannot use the cluster at {spec.address}: {type(exc).__name__}: {exc}") from None
        self._check_workers()
        self.token = uuid.uuid4().hex
        self.plugin = JobPlugin(self.token, job)
        self.client.register_plugin(self.plugin)

    def _check_workers(self) -> None:
        checks = self.client.run(key_check)
        bad = {address: value for address, value in checks.items() if value != self.check}
        if bad:
            self.close()
            raise ClusterError(_mismatch_message(bad))

    def _slots(self) -> int:
        threads = sum(self.client.nthreads().values())
        return max(2, 2 * threads)

    # -- placement and database sessions --------------------------------------------------------

    def _split(self, batch: Batch) -> list[Batch]:
        """A batch per placement and per database target (each database has its own semaphore)."""
        groups: dict[tuple, Batch] = {}
        for item in batch.items:
            database = store_of(item.resource.connector) == "database"
            group = groups.setdefault((item.target if database else -1, self._key(item.target)), Batch())
            group.items.append(item)
            group.weight += item.resource.size or 0
        return list(groups.values()) if len(groups) > 1 else [batch]

    def _key(self, target: int) -> tuple:
        return tuple(sorted((self.resources[target] or {}).items()))

    def _batch_resources(self, batch: Batch) -> dict[str, float] | None:
        return self.resources[batch.items[0].target] if batch.items else None

    def _semaphore(self, batch: Batch) -> tuple[str, int] | None:
        """The name and leases of the batch's database semaphore, or None for files (a batch holds one
        database at most). The worker makes the ``distributed.Semaphore`` itself: one made here would be
        bound to whichever client is this process's default."""
        if not batch.items or store_of(batch.items[0].resource.connector) != "database":
            return None
        target = batch.items[0].target
        if target not in self._semaphores:
            # the name tells scans of one database apart without showing its URI; the cap is part of it
            # because the scheduler refuses one name with two different numbers of leases
            digest = keyed_hash("cluster-database-sessions:" + self.job.targets[target][0])[:24]
            self._semaphores[target] = (f"privaudit-db-{digest}-{self.sessions}", self.sessions)
        return self._semaphores[target]

    def _offers(self, resources: dict[str, float] | None, now: float) -> bool:
        """Whether a worker of the cluster offers ``resources`` (asked at most every PLACEMENT_POLL s);
        records since when none does, for the placement timeout."""
        if not resources:
            return True
        if now - self._offers_at >= PLACEMENT_POLL:
            workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
            self._worker_resources = [dict(w.get("resources") or {}) for w in workers.values()]
            self._offers_at, self._offered = now, {}
        key = tuple(sorted(resources.items()))
        if key not in self._offered:
            self._offered[key] = any(all(offer.get(name, 0) >= amount for name, amount in resources.items())
                                     for offer in self._worker_resources)
            if self._offered[key]:
                self._missing_since.pop(key, None)
            else:
                self._missing_since.setdefault(key, now)
        return self._offered[key]

    def _expired(self, resources: dict[str, float] | None, now: float) -> bool:
        since = self._missing_since.get(tuple(sorted((resources or {}).items())))
        return since is not None and now - since >= self.placement_timeout

    def _placement(self, parked: list[Batch], pending: dict[Any, Batch],
                   submit: Any) -> Iterator[tuple[Batch, list[Outcome]]]:
        """Submit parked batches whose resources a worker now offers; give up on those (parked or in
        flight) whose resources no worker has offered for the placement timeout."""
        now = time.monotonic()
        for batch in list(parked):
            resources = self._batch_resources(batch)
            if self._offers(resources, now):
                parked.remove(batch)
                submit(batch)
            elif self._expired(resources, now):
                parked.remove(batch)
                yield batch, [not_scanned(item, resources or {}, self.placement_timeout) for item in batch.items]
        for future, batch in list(pending.items()):
            resources = self._batch_resources(batch)
            if resources and not self._offers(resources, now) and self._expired(resources, now):
                future.cancel()
                del pending[future]
                yield batch, [not_scanned(item, resources, self.placement_timeout) for item in batch.items]

    # -- running --------------------------------------------------------------------------------

    def run(self, batches: Iterator[Batch]) -> Iterator[tuple[Batch, list[Outcome]]]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        queue = (part for batch in batches for part in self._split(batch))
        suspects: deque[Batch] = deque()  # items of batches whose workers died, each to be run alone
        parked: list[Batch] = []  # batches waiting for a worker that offers their placement's resources
        pending: dict[Any, Batch] = {}
        alone: Any = None  # the future of a suspect running with nothing else of ours in flight
        done = as_completed(loop=self.client.loop)  # not the default client's loop: another may be the default
        exhausted = False
        limit = self._slots()

        def submit(batch: Batch) -> Any:
            resources = self._batch_resources(batch)
            # the key names the placement, so an operator's dashboard (and a test) sees where batches ran
            zone = "+".join(sorted(resources)) if resources else "any"
            future = self.client.submit(run_cluster_batch, self.token, self.check, batch, self._semaphore(batch),
                                        key=f"privaudit-batch-{zone}-{uuid.uuid4().hex}", resources=resources)
            pending[future] = batch
            done.add(future)
            return future

        while True:
            while not suspects and not exhausted and len(pending) < limit and len(parked) < limit * PARKED_PER_SLOT:
                batch = next(queue, None)
                if batch is None:
                    exhausted = True
                    break
                if self._offers(self._batch_resources(batch), time.monotonic()):
                    submit(batch)
                else:
                    parked.append(batch)
            placed = bool(parked) or any(self._batch_resources(b) for b in pending.values())
            if placed:
                yield from self._placement(parked, pending, submit)
            if not pending:
                if suspects:
                    alone = submit(suspects.popleft())  # nothing else in flight: if its worker dies, it is the culprit
                elif parked or not exhausted:
                    time.sleep(PLACEMENT_POLL)
                    continue
                else:
                    return
            future = _next(done, PLACEMENT_POLL if placed else None)
            if future is None:
                continue
            batch = pending.pop(future, None)
            if batch is None:
                continue  # cancelled: its items were reported as not scanned
            try:
                outcomes = future.result()
            except KilledWorker:
                # a worker died (repeatedly) running it; the culprit may be any task on that worker
                if future is not alone:
                    suspects.extend(Batch([item]) for item in batch.items)
                    continue
                outcomes = [lost(batch.items[0])]
            except ClusterError:
                for other in pending:
                    other.cancel()
                raise
            yield batch, outcomes

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            if getattr(self, "plugin", None) is not None and self.cluster is None:
                with contextlib.suppress(Exception):  # a shared cluster: leave no job behind on its workers
                    client.unregister_worker_plugin(self.plugin.name)
            client.close()
        if self.cluster is not None:
            self.cluster.close()


def _next(done: Any, timeout: float | None) -> Any:
    """The next finished future of ``done`` (a ``distributed.as_completed``), or None after ``timeout`` s."""
    if timeout is None:
        return next(done)
    deadline = time.monotonic() + timeout
    while not done.has_ready():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        with done.thread_condition:
            done.thread_condition.wait(timeout=min(remaining, 0.05))
    return next(done)


def cluster_extra(params: dict[str, Any], *, resolved: bool = False) -> dict[str, Any]:
    """``ScanOptions.extra`` keys from the ``--cluster*`` options, checked now so a bad address, missing
    TLS files, plain TCP without ``--cluster-insecure`` or a target URI with a password exit 2 before
    anything is listed or scanned.

    With a scan config (``config_path``) nothing is decided here unless ``resolved``: the config's
    ``cluster:`` may give the address or the TLS files, and :func:`cluster_settings` merges the two."""
    import click

    if params.get("config_path") and not resolved:
        return {}
    spec = ClusterSpec(params["cluster"], params.get("cluster_tls_ca"), params.get("cluster_tls_cert"),
                       params.get("cluster_tls_key"), bool(params.get("cluster_insecure")))
    problem = spec.problem(params.get("_cluster_names") or CLI_NAMES)
    if problem:
        raise click.UsageError(problem + ".")
    refused = password_targets([str(t) for t in params.get("targets") or ()])
    if refused:
        raise click.UsageError(f"{refused[0]}: a target URI holding a password is refused with --cluster; keep "
                               "credentials on the workers (pgpass, instance roles, keytabs, environment).")
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise click.UsageError("--cluster needs Dask distributed: pip install 'privaudit[dask]'.") from None
    extra: dict[str, Any] = {"cluster": spec.address}
    for name in ("cluster_tls_ca", "cluster_tls_cert", "cluster_tls_key"):
        if params.get(name):
            extra[name] = str(params[name])
    if spec.insecure:
        extra["cluster_insecure"] = True
    return extra


def cluster_settings(ctx: Any, config: Any) -> dict[str, Any]:
    """``ScanOptions.extra`` of the cluster of ``privaudit scan --config``: each setting (address, each
    TLS file, insecure) from the command line, else the config's ``cluster:``, else ``PRIVAUDIT_CLUSTER``
    (the address only); then the config's ``placement:``, ``placement_timeout:``, ``database_sessions:``.

    The command line wins as for every other setting; the environment comes last because it is the
    machine's default, while the config is the review's own, archived with its evidence."""
    from click.core import ParameterSource

    params = dict(ctx.params)
    cluster = getattr(config, "cluster", None)
    if cluster is not None and cluster.address:
        if ctx.get_parameter_source("cluster") is not ParameterSource.COMMANDLINE:
            params["cluster"] = cluster.address
            params["_cluster_names"] = CONFIG_NAMES
        for name, value in (("cluster_tls_ca", cluster.tls_ca), ("cluster_tls_cert", cluster.tls_cert),
                            ("cluster_tls_key", cluster.tls_key)):
            params[name] = params.get(name) or value
        params["cluster_insecure"] = bool(params.get("cluster_insecure") or cluster.insecure)
    extra = cluster_extra(params, resolved=True) if params.get("cluster") else {}
    if cluster is not None:
        if cluster.placement:
            extra["cluster_placement"] = [[glob, dict(resources)] for glob, resources in cluster.placement]
        if cluster.placement_timeout is not None:
            extra["cluster_placement_timeout"] = float(cluster.placement_timeout)
        if cluster.database_sessions is not None:
            extra["cluster_database_sessions"] = int(cluster.database_sessions)
    return extra


def dask_setup(worker: Any) -> None:
    """Dask's preload hook (``dask worker --preload scanner.executor_dask``): privaudit's worker set-up."""
    setup_worker()
