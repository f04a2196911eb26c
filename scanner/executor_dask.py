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
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scanner import executor as _executor
from scanner.executor import Batch, Job, Outcome, lost, run_batch
from scanner.fingerprint import FingerprintKeyError, keyed_hash

#: The constant whose HMAC proves two processes share the fingerprint key without sending it.
KEY_PROBE = "privaudit/cluster-key-check/v1"

INSECURE_WARNING = ("task payloads are pickles: whoever reaches the scheduler runs code on the workers; use "
                    "tls:// with --cluster-tls-ca/--cluster-tls-cert/--cluster-tls-key, or pass --cluster-insecure "
                    "on a network only the scan's machines can reach")


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

    def problem(self) -> str | None:
        """Why this spec cannot be used, or ``None``: checked before the scan, so the CLI exits 2."""
        address = self.address
        if address.startswith("local:"):
            count = address.removeprefix("local:")
            if not count.isdigit() or int(count) < 1:
                return f"--cluster {address!r}: local:N needs a worker count N ≥ 1, e.g. local:4"
            return None
        parts = urlsplit(address)
        if parts.scheme not in ("tls", "tcp") or not parts.hostname:
            return (f"--cluster {address!r} is not a cluster address; give local:N, tls://host:port or "
                    "tcp://host:port (with --cluster-insecure)")
        if parts.username or parts.password:
            return f"--cluster {parts.scheme}://…@{parts.hostname}: the address must not hold credentials"
        if parts.scheme == "tcp" and not self.insecure:
            return f"--cluster {address} is plain TCP: {INSECURE_WARNING}"
        if parts.scheme == "tls":
            files = (("--cluster-tls-ca", self.tls_ca), ("--cluster-tls-cert", self.tls_cert),
                     ("--cluster-tls-key", self.tls_key))
            missing = [name for name, value in files if not value]
            if missing:
                return f"--cluster {address} needs mutual TLS files: give {', '.join(missing)}"
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


def run_cluster_batch(token: str, check: str, batch: Batch) -> list[Outcome]:
    """A task: check the key, set up this worker for the job once (detector, fresh connectors), scan."""
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
        return run_batch(batch)


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

    def run(self, batches: Iterator[Batch]) -> Iterator[tuple[Batch, list[Outcome]]]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        queue = iter(batches)
        suspects: deque[Batch] = deque()  # items of batches whose workers died, each to be run alone
        pending: dict[Any, Batch] = {}
        alone: Any = None  # the future of a suspect running with nothing else of ours in flight
        done = as_completed()
        exhausted = False
        limit = self._slots()

        def submit(batch: Batch) -> Any:
            future = self.client.submit(run_cluster_batch, self.token, self.check, batch, pure=False)
            pending[future] = batch
            done.add(future)
            return future

        while True:
            while not suspects and not exhausted and len(pending) < limit:
                batch = next(queue, None)
                if batch is None:
                    exhausted = True
                    break
                submit(batch)
            if not pending:
                if not suspects:
                    return
                alone = submit(suspects.popleft())  # nothing else in flight: if its worker dies, it is the culprit
            future = next(done)
            batch = pending.pop(future)
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


def cluster_extra(params: dict[str, Any]) -> dict[str, Any]:
    """``ScanOptions.extra`` keys from the ``--cluster*`` options, checked now so a bad address, missing
    TLS files, plain TCP without ``--cluster-insecure`` or a target URI with a password exit 2 before
    anything is listed or scanned."""
    import click

    spec = ClusterSpec(params["cluster"], params.get("cluster_tls_ca"), params.get("cluster_tls_cert"),
                       params.get("cluster_tls_key"), bool(params.get("cluster_insecure")))
    problem = spec.problem()
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


def dask_setup(worker: Any) -> None:
    """Dask's preload hook (``dask worker --preload scanner.executor_dask``): privaudit's worker set-up."""
    setup_worker()
