"""Benchmark: the local process pool against a Dask cluster (CPU-bound), and the orchestration alone.

Why (issue 15): a cluster must cost little over the local pool on the same box, so that moving an
estate scan onto the bank's Dask deployment is a matter of adding machines; the issue's prototype
measured 1 -> 2 workers 1.96x (local pool 2.00x) and ~10-20 % per-worker overhead.

A LocalCluster (processes, one thread each, loopback) is started once per worker count and reached
over ``tcp://`` like a real one, so its start-up is not counted; one warm-up scan lets every worker
build its detector, then the best of ``--repeat`` scans is kept. Findings must equal the pool's.

"pool 1" is the serial executor (no worker process at all), so "dask 1" over it is the whole cost of
a cluster round trip; "dask 2" over "pool 2" compares like with like. On a box with fewer CPUs than
client + scheduler + workers, the ratios measure contention as much as overhead.

Part two, the orchestration alone (``--io``): batches whose items are I/O-bound (each resource's
evaluation sleeps ``--io-sleep`` s, as a throttled share or a slow database would make it wait), run
through the real :class:`~scanner.executor_dask.DaskExecutor` (key check in every task, the job plugin,
placement split, the in-flight limit) on 1, 2, 4, 8 and 16 workers, the same batches each time:
efficiency T1/(N·TN), target ≥ 0.9. Workers are warmed (detector built) before timing. It also
measures the constants of the saturation model in docs/cluster.md: the cost per task of one scheduler
(no-op tasks, pipelined) and the round trip of one task, and the CPU time of a batch of real files.

Run: ``python bench/bench_dask.py [--files 4000] [--repeat 3] [--io] [--io-only]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("PRIVAUDIT_FINGERPRINT_KEY", "privaudit-bench-key-0123456789abcdef")


def make_tree(root: Path, files: int) -> None:
    """CSV exports with planted (checksum-valid, made-up) IDs and mobiles, and clean logs."""
    row = "Zhang Wei,110101199003070011,13812345678,zhang.wei@example.com\n"
    clean = "2026-12-03 10:00:00 INFO request served in 12 ms status=200 path=/api/v1/health\n"
    for i in range(files):
        sub = root / f"d{i % 40:02d}"
        sub.mkdir(exist_ok=True)
        body = ("name,id,mobile,email\n" + row * 20) if i % 4 == 0 else clean * 60
        (sub / f"f{i:05d}.{'csv' if i % 4 == 0 else 'log'}").write_text(body)


def best(scan: object, repeat: int) -> tuple[float, object]:
    times, report = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        report = scan()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times), report


def key(report: object) -> list[tuple[str, str, str]]:
    return sorted((f.rule_id, f.resource.uri, f.fingerprint) for f in report.findings)  # type: ignore[attr-defined]


class SleepRule:
    """An I/O-bound item: its evaluation waits, as a read from a throttled share would (a class of
    ``__main__``: cloudpickle sends it to the workers by value)."""

    id = "bench-sleep"
    seconds = 0.05

    def evaluate(self, scan: object, ctx: object) -> list:
        time.sleep(self.seconds)
        return []


def warm() -> int:
    """Build this worker's detector (as its first task would) and say how much memory it holds."""
    import psutil

    from scanner import executor
    from scanner.connector import ScanOptions
    from scanner.executor import Job
    from scanner.registry import CONNECTORS

    executor._prepare(Job([], [], None, ScanOptions().min_score))
    CONNECTORS.load()  # privaudit worker preloads it too
    return int(psutil.Process().memory_info().rss)


def cpu_seconds() -> float:
    """CPU time of this process (run on the scheduler: what one scheduler spends on the scan's tasks)."""
    times = os.times()
    return times.user + times.system


def noop(i: int) -> int:
    return i


def scheduler_constants(address: str, tasks: int = 2000) -> tuple[float, float]:
    """(seconds per task with many in flight, seconds of one task's round trip) on a 1-worker cluster."""
    from distributed import Client, wait

    with Client(address) as client:
        client.gather(client.map(noop, range(200), pure=False))  # warm
        started = time.perf_counter()
        futures = client.map(noop, range(tasks), pure=False)
        wait(futures)
        per_task = (time.perf_counter() - started) / tasks
        del futures
        started = time.perf_counter()
        for i in range(200):
            client.submit(noop, i, pure=False).result()
        round_trip = (time.perf_counter() - started) / 200
    return per_task, round_trip


def io_batches(root: Path, batches: int, files: int) -> tuple[list, object]:
    """``batches`` batches of ``files`` small files (each with a made-up mobile, so its rules run) and the job."""
    import datetime as dt

    from connectors.files import FilesConnector
    from scanner.connector import ScanOptions
    from scanner.executor import Batch, Job, WorkItem
    from scanner.model import Resource
    from scanner.policy import load_policy
    from scanner.rule import RuleContext

    for i in range(batches * files):
        (root / f"io-{i:05d}.csv").write_text(f"id,mobile\n{i},13812345678\n")
    connector = FilesConnector(str(root), ScanOptions())
    found = sorted((r for r in connector.discover() if isinstance(r, Resource)), key=lambda r: r.uri)
    connector.close()
    ctx = RuleContext(policy=load_policy(), now=dt.datetime.now(dt.UTC), options={})
    job = Job([(str(root), ScanOptions())], [SleepRule()], ctx, ScanOptions().min_score)
    items = [WorkItem(0, r) for r in found]
    return [Batch(items[i:i + files]) for i in range(0, len(items), files)], job


def orchestration(args: argparse.Namespace) -> None:
    from distributed import Client, LocalCluster

    from scanner.executor_dask import ClusterSpec, DaskExecutor

    SleepRule.seconds = args.io_sleep
    root = Path(tempfile.mkdtemp(prefix="privaudit-bench-dask-io-"))
    try:
        batches, job = io_batches(root, args.io_batches, args.io_files)
        batch_seconds = args.io_files * args.io_sleep
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                          host="127.0.0.1", scheduler_port=0) as cluster:
            per_task, round_trip = scheduler_constants(cluster.scheduler_address)
        print(f"scheduler: {per_task * 1e3:.2f} ms per task pipelined (no-op tasks, 1 worker), "
              f"{round_trip * 1e3:.2f} ms per task round trip (one at a time)")
        print(f"orchestration: {len(batches)} batches of {args.io_files} I/O-bound items x {args.io_sleep * 1e3:.0f} "
              f"ms = {batch_seconds:.2f} s of waiting per batch, {os.cpu_count()} CPUs")
        times: dict[int, float] = {}
        for workers in args.io_workers:
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                              host="127.0.0.1", scheduler_port=0) as cluster, Client(cluster) as client:
                rss = client.run(warm)
                executor = DaskExecutor(job, ClusterSpec(cluster.scheduler_address, insecure=True))
                try:
                    scheduler_cpu = client.run_on_scheduler(cpu_seconds)
                    worker_cpu = sum(client.run(cpu_seconds).values())
                    client_cpu = time.process_time()
                    started = time.perf_counter()
                    done = sum(len(outcomes) for _, outcomes in executor.run(iter(batches)))
                    times[workers] = time.perf_counter() - started
                    client_cpu = time.process_time() - client_cpu
                    scheduler_cpu = client.run_on_scheduler(cpu_seconds) - scheduler_cpu
                    worker_cpu = sum(client.run(cpu_seconds).values()) - worker_cpu
                finally:
                    executor.close()
            assert done == len(batches) * args.io_files
            ideal = len(batches) * batch_seconds / workers
            efficiency = times[1] / (workers * times[workers])
            overhead = (times[workers] - ideal) / (len(batches) / workers)
            print(f"  {workers:2d} workers {times[workers]:7.2f} s  (ideal {ideal:6.2f} s)  efficiency T1/(N*TN) "
                  f"{efficiency:.3f}  overhead per batch {overhead * 1e3:6.1f} ms  "
                  f"CPU per batch: scheduler {scheduler_cpu / len(batches) * 1e3:5.1f} ms "
                  f"({scheduler_cpu / times[workers]:.0%} busy), client {client_cpu / len(batches) * 1e3:5.1f} ms, "
                  f"workers {worker_cpu / len(batches) * 1e3:5.1f} ms ({worker_cpu / times[workers]:.2f} CPUs)  "
                  f"worker RSS {sum(rss.values()) / len(rss) / 2**20:.0f} MiB  load {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--io", action="store_true", help="also measure the orchestration alone")
    parser.add_argument("--io-only", action="store_true", help="only the orchestration")
    parser.add_argument("--io-batches", type=int, default=128)
    parser.add_argument("--io-files", type=int, default=4, help="items per batch")
    parser.add_argument("--io-sleep", type=float, default=0.05, help="seconds each item waits")
    parser.add_argument("--io-workers", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2, 4, 8, 16])
    args = parser.parse_args()
    if not args.io_only:
        cpu_bound(args)
    if args.io or args.io_only:
        orchestration(args)


def cpu_bound(args: argparse.Namespace) -> None:
    from distributed import Client, LocalCluster

    from scanner.connector import ScanOptions
    from scanner.scan import run_scan

    root = Path(tempfile.mkdtemp(prefix="privaudit-bench-dask-"))
    try:
        make_tree(root, args.files)
        target = [str(root)]
        results: dict[str, float] = {}
        reference = None
        for jobs in (1, 2):
            run_scan(target, ScanOptions(jobs=jobs))  # warm the pattern cache
            results[f"pool {jobs}"], report = best(lambda j=jobs: run_scan(target, ScanOptions(jobs=j)), args.repeat)
            reference = reference or key(report)
            assert key(report) == reference
        rss: dict[int, float] = {}
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                              host="127.0.0.1", scheduler_port=0) as cluster, Client(cluster) as client:
                options = ScanOptions(extra={"cluster": cluster.scheduler_address, "cluster_insecure": True})
                run_scan(target, options)  # every worker builds its detector
                results[f"dask {workers}"], report = best(lambda o=options: run_scan(target, o), args.repeat)
                assert key(report) == reference, "cluster findings differ from the local pool's"
                sizes = client.run(warm)
                rss[workers] = sum(sizes.values()) / len(sizes) / 2**20
        print(f"{args.files:,} files, {len(reference or []):,} findings (identical in every run), "
              f"best of {args.repeat}, {os.cpu_count()} CPUs")
        for name, seconds in results.items():
            print(f"  {name:7s} {seconds:7.2f} s")
        print(f"  1 -> 2 workers: pool {results['pool 1'] / results['pool 2']:.2f}x, "
              f"dask {results['dask 1'] / results['dask 2']:.2f}x")
        print(f"  dask / pool: 1 worker {results['dask 1'] / results['pool 1']:.2f}, "
              f"2 workers {results['dask 2'] / results['pool 2']:.2f} "
              f"(per-worker overhead {100 * (results['dask 2'] / results['pool 2'] - 1):+.0f} %)")
        print(f"  batch CPU time: {results['pool 1'] / args.files * 1e3:.2f} ms per file (pool 1), so a batch of "
              f"256 small files ~{results['pool 1'] / args.files * 256:.2f} s")
        print(f"  worker process RSS (detector built, after the scans): {rss[1]:.0f} MiB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
