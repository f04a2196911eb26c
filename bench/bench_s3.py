"""Benchmark: list + posture + sample a bucket of 10,000 objects on a local S3 API (moto server).

Why: the S3 connector must stay usable on buckets with many objects — listing is paginated
(1,000 keys a page), posture costs a fixed handful of calls per bucket, and content reads are
bounded by sampling (``s3_max_objects_per_prefix``), so time grows with the number of *prefixes*
sampled, not with the number of objects. Target: <= 30 s for 10,000 objects.

Incremental (issue 14): the scan runs with ``--state DIR`` and then again with nothing changed; the rerun
lists every object and reads every bucket's posture again but reads no object (each is carried: same
ETag, size and version), so it reports identical findings in a fraction of the time. Printed: both
times, their ratio, and how many objects were carried. Then ``--change-percent`` of the sampled objects
are overwritten and the scan runs a third time: exactly those are read again.

Run: ``python bench/bench_s3.py [--objects 10000] [--prefixes 100] [--per-prefix 20] [--jobs 0]
[--change-percent 1]``.

``--gzip-sample-mib N`` instead measures one ``.log.gz`` object that expands about 170:1 (under the
200:1 bomb ratio) to N MiB: its "4 MiB sample" must scan at most ``s3_max_object_bytes`` decompressed
bytes (before that cap: everything the 4 MiB range expanded to, 655 MiB for N = 655).
The server is moto's ThreadedMotoServer on 127.0.0.1 (real HTTP, same as the tests).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--prefixes", type=int, default=100)
    parser.add_argument("--per-prefix", type=int, default=20, help="s3_max_objects_per_prefix")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: one per CPU)")
    parser.add_argument("--gzip-sample-mib", type=int, default=0, help="measure one compressed object instead")
    parser.add_argument("--change-percent", type=float, default=1.0,
                        help="sampled objects overwritten before the third (incremental) run")
    args = parser.parse_args()

    for key, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"),
                       ("AWS_DEFAULT_REGION", "us-east-1")):
        os.environ.setdefault(key, value)
    os.environ.setdefault("PRIVAUDIT_FINGERPRINT_KEY", "privaudit-bench-key-s3")

    import logging

    import boto3
    from botocore.config import Config
    from moto.server import ThreadedMotoServer

    from scanner.connector import ScanOptions
    from scanner.scan import run_scan

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request would dominate the run
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        client = boto3.client("s3", endpoint_url=endpoint,
                              config=Config(s3={"addressing_style": "path"}, max_pool_connections=32))
        bucket = "bench-bucket"
        client.create_bucket(Bucket=bucket)
        if args.gzip_sample_mib:
            return gzip_sample(client, endpoint, bucket, args.gzip_sample_mib)
        started = time.perf_counter()

        def put(i: int) -> None:
            prefix = f"exports/day-{i % args.prefixes:03d}"
            body = (f"customer_id,mobile,note\n{i},1381234{i % 10000:04d},ok\n" if i % 7 == 0
                    else f"row {i}: nothing personal\n").encode()
            client.put_object(Bucket=bucket, Key=f"{prefix}/part-{i:05d}.csv", Body=body)

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(put, range(args.objects)))
        print(f"setup: {args.objects} objects in {args.prefixes} prefixes in {time.perf_counter() - started:.1f} s")

        options = ScanOptions(jobs=args.jobs, extra={"s3_endpoint_url": endpoint,
                                                     "s3_max_objects_per_prefix": args.per_prefix,
                                                     "s3_max_objects_per_bucket": args.objects})
        from connectors.s3 import S3Connector

        started = time.perf_counter()
        connector = S3Connector(f"s3://{bucket}", options)
        discovered = sum(1 for _ in connector.discover())
        connector.close()
        listing = time.perf_counter() - started
        print(f"list + posture alone: {listing:.2f} s ({args.objects / listing:,.0f} objects/s listed, "
              f"{discovered} resources/notes yielded)")

        with tempfile.TemporaryDirectory(prefix="bench-s3-state-") as state:
            started = time.perf_counter()
            report = run_scan([f"s3://{bucket}"], options, command_line=["bench"], state=state)
            elapsed = time.perf_counter() - started
            summary = report.targets[0]
            print(f"scan (--state, first run): listed {args.objects} objects, sampled {summary.resources}, "
                  f"{len(report.findings)} findings, {len(report.notifications)} notifications")
            print(f"total {elapsed:.2f} s; {args.objects / elapsed:,.0f} objects/s listed+posture+sampled; "
                  f"{summary.resources / elapsed:,.0f} sampled objects/s read and scanned")
            print("target <= 30 s:", "met" if elapsed <= 30 else "MISSED")
            same = incremental(client, bucket, options, state, report, elapsed, args.change_percent)
        return 0 if elapsed <= 30 and same else 1
    finally:
        server.stop()


def _found(report: Any) -> list[tuple[str, str, str]]:
    return sorted((f.rule_id, f.resource.uri, f.fingerprint or "") for f in report.findings)


def _carried(report: Any) -> int:
    return sum(n.count for n in report.notifications if n.kind == "state-reused")


def incremental(client: Any, bucket: str, options: Any, state: str, first: Any, first_seconds: float,
                change_percent: float) -> bool:
    """An unchanged rerun with the same state (ratio to the first run, identical findings), then one after
    ``change_percent`` of the sampled objects were overwritten (exactly those read again)."""
    from scanner.scan import run_scan

    started = time.perf_counter()
    again = run_scan([f"s3://{bucket}"], options, command_line=["bench"], state=state)
    seconds = time.perf_counter() - started
    same = _found(again) == _found(first)
    _not_reused(again)
    print(f"unchanged rerun (--state): {seconds:.2f} s, {_carried(again):,} of {again.targets[0].resources:,} "
          f"sampled objects carried (not read); {first_seconds / seconds:.1f} x faster than the first run; "
          f"findings identical: {same}")
    sampled = sorted(_sampled_keys(bucket, options))
    changed = sampled[:: max(1, round(100 / change_percent))] if change_percent > 0 else []
    for key in changed:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        client.put_object(Bucket=bucket, Key=key, Body=body + b"changed 13912345678\n")
    started = time.perf_counter()
    third = run_scan([f"s3://{bucket}"], options, command_line=["bench"], state=state)
    seconds = time.perf_counter() - started
    _not_reused(third)
    read = third.targets[0].resources - _carried(third)
    print(f"after {len(changed)} sampled objects changed ({change_percent:g} %): {seconds:.2f} s, {read} read again "
          f"(expected {len(changed)}): {'met' if read == len(changed) else 'MISSED'}")
    return same and read == len(changed)


def _not_reused(report: Any) -> None:
    """The state is not reused when the scanner's code changed between runs (its digest covers the connectors
    and the detector): in a checkout being edited, run the benchmark from a copy (git archive HEAD)."""
    for note in report.notifications:
        if note.kind == "state-not-reused":
            print(f"  (the state was not reused: {note.message})")


def _sampled_keys(bucket: str, options: Any) -> list[str]:
    """The keys the connector samples (the first of each prefix in key order), as it lists them."""
    from connectors.s3 import S3Connector
    from scanner.model import Resource

    connector = S3Connector(f"s3://{bucket}", options)
    try:
        return [r.metadata["key"] for r in connector.discover() if isinstance(r, Resource)]
    finally:
        connector.close()


def gzip_sample(client: object, endpoint: str, bucket: str, mib: int) -> int:
    """One log object, gzip-compressed about 170:1: what its sample costs after decompression."""
    import gzip
    import random

    from scanner.connector import ScanOptions
    from scanner.scan import run_scan

    rng = random.Random(2)
    block = "".join(f"2026-12-03 INFO request ok status=200 user=alice path=/api/v1/items/{j}\n" for j in range(40))
    parts = ["name,id_no,mobile\n张三,110101199003070011,13812345678\n"]
    size = 0
    while size < mib * 1024 * 1024:
        part = block if rng.random() > 0.03 else f"2026-12-03 WARN slow request {rng.randrange(10**9)}\n"
        parts.append(part)
        size += len(part)
    plain = "".join(parts).encode()
    body = gzip.compress(plain, 9)
    client.put_object(Bucket=bucket, Key="logs/app.log.gz", Body=body)  # type: ignore[attr-defined]
    options = ScanOptions(jobs=1, extra={"s3_endpoint_url": endpoint})
    started = time.perf_counter()
    report = run_scan([f"s3://{bucket}"], options, command_line=["bench"])
    elapsed = time.perf_counter() - started
    scanned = report.targets[0].bytes_scanned
    cap = 4 * 1024 * 1024
    print(f"gzip object: {len(body):,} bytes expanding to {len(plain):,} ({len(plain) / len(body):.0f}:1)")
    print(f"scan: {scanned:,} decompressed bytes scanned in {elapsed:.2f} s; "
          f"{sum(n.kind == 'limit' for n in report.notifications)} limit notification(s)")
    print(f"target <= {cap:,} bytes scanned:", "met" if scanned <= cap else "MISSED")
    return 0 if scanned <= cap else 1


if __name__ == "__main__":
    raise SystemExit(main())
