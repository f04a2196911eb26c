"""Benchmark: the same tree scanned by the local process pool and by a Dask cluster, 1 and 2 workers.

Why (issue 15): a cluster must cost little over the local pool on the same box, so that moving an
estate scan onto the bank's Dask deployment is a matter of adding machines; the issue's prototype
measured 1 -> 2 workers 1.96x (local pool 2.00x) and ~10-20 % per-worker overhead.

A LocalCluster (processes, one thread each, loopback) is started once per worker count and reached
over ``tcp://`` like a real one, so its start-up is not counted; one warm-up scan lets every worker
build its detector, then the best of ``--repeat`` scans is kept. Findings must equal the pool's.

"pool 1" is the serial executor (no worker process at all), so "dask 1" over it is the whole cost of
a cluster round trip; "dask 2" over "pool 2" compares like with like. On a box with fewer CPUs than
client + scheduler + workers, the ratios measure contention as much as overhead.

Run: ``python bench/bench_dask.py [--files 4000] [--repeat 3]``.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from distributed import LocalCluster

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
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                              host="127.0.0.1", scheduler_port=0) as cluster:
                options = ScanOptions(extra={"cluster": cluster.scheduler_address, "cluster_insecure": True})
                run_scan(target, options)  # every worker builds its detector
                results[f"dask {workers}"], report = best(lambda o=options: run_scan(target, o), args.repeat)
                assert key(report) == reference, "cluster findings differ from the local pool's"
        print(f"{args.files:,} files, {len(reference or []):,} findings (identical in every run), "
              f"best of {args.repeat}, {os.cpu_count()} CPUs")
        for name, seconds in results.items():
            print(f"  {name:7s} {seconds:7.2f} s")
        print(f"  1 -> 2 workers: pool {results['pool 1'] / results['pool 2']:.2f}x, "
              f"dask {results['dask 1'] / results['dask 2']:.2f}x")
        print(f"  dask / pool: 1 worker {results['dask 1'] / results['pool 1']:.2f}, "
              f"2 workers {results['dask 2'] / results['pool 2']:.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
