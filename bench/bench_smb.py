"""Benchmark: a tree scanned over SMB on loopback against the same tree read locally, and ACL reads.

Why: an SMB share is read through a protocol round trip per open, per 1 MiB read and per directory
page, and the connector also reads the security descriptor of every file with findings (plus, once per
folder per worker, the folders above it for inheritance). The figures that matter are the SMB/local
ratio on the same tree and the extra cost of the ACL reads per file.

Run (as root: smbd switches users): ``python bench/bench_smb.py [--files 2000] [--size 16384]
[--big-mib 64] [--pii-share 0.25] [--jobs 2] [--repeat 3]``. Starts a throwaway smbd as the tests do
(tests/servers.py), signing required; encryption is used because Samba offers it (``--encryption off``
measures signing only).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESIDENT_ID = "110101199003070011"  # made up, valid check character
MOBILE = "13812345678"


def make_tree(root: Path, files: int, size: int, pii_share: float, big_mib: int) -> tuple[int, int]:
    """``files`` CSV/log files of about ``size`` bytes in 20 folders (two levels), a share of them with
    personal data, and one large log; returns (files, bytes)."""
    rng = random.Random(17)
    total = 0
    for i in range(files):
        folder = root / f"dept{i % 20:02d}" / f"y{2020 + i % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        row = f"{i},order {rng.randrange(10**9):09d},status ok,amount {rng.randrange(10**6)}\n"
        body = "id,note,status,amount\n" + row * max(1, size // len(row))
        if rng.random() < pii_share:
            body += f"{i},{RESIDENT_ID},{MOBILE},0\n"
        path = folder / f"export_{i:05d}.csv"
        path.write_text(body)
        total += len(body)
    if big_mib:
        line = b"2026-01-01T00:00:00 INFO request served in 12 ms path=/api/v1/orders status=200\n"
        with open(root / "app.log", "wb") as handle:
            for _ in range(big_mib * 1024 * 1024 // len(line)):
                handle.write(line)
        total += (big_mib * 1024 * 1024 // len(line)) * len(line)
        files += 1
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return files, total


def timed(targets: list, options: object) -> tuple[float, object]:
    from scanner.scan import run_scan

    started = time.perf_counter()
    report = run_scan(targets, options, command_line=["bench"])  # type: ignore[arg-type]
    return time.perf_counter() - started, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--size", type=int, default=16384, help="bytes per small file")
    parser.add_argument("--big-mib", type=int, default=64, help="one large log of this size (0: none)")
    parser.add_argument("--pii-share", type=float, default=0.25, help="share of files with personal data")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--encryption", choices=("auto", "off"), default="auto")
    args = parser.parse_args()
    os.environ.setdefault("PRIVAUDIT_FINGERPRINT_KEY", "privaudit-bench-key-smb")

    from connectors.smb import SMBConnector
    from scanner.connector import ScanOptions
    from scanner.model import Resource
    from tests.servers import SMB_AUDITOR, _start_samba

    with tempfile.TemporaryDirectory(prefix="privaudit-bench-smb-", dir="/tmp") as base:
        Path(base).chmod(0o755)
        server = _start_samba(Path(base))
        try:
            os.environ["PRIVAUDIT_SMB_PASSWORD"] = server.passwords[SMB_AUDITOR]
            count, size = make_tree(server.root, args.files, args.size, args.pii_share, args.big_mib)
            mib = size / 2**20
            print(f"tree: {count:,} files, {mib:,.1f} MiB ({args.pii_share:.0%} of the small files with personal "
                  f"data{f', one {args.big_mib} MiB log' if args.big_mib else ''}); jobs {args.jobs}")
            runs: dict[str, list[float]] = {"local": [], "smb, no ACLs": [], "smb + ACLs": []}
            extra = {"smb_encryption": args.encryption}
            no_acls = {**extra, "smb_read_acls": False}
            for _ in range(args.repeat):
                for label, target, options in (
                    ("local", str(server.root), ScanOptions(jobs=args.jobs)),
                    ("smb, no ACLs", server.uri(), ScanOptions(jobs=args.jobs, extra=no_acls)),
                    ("smb + ACLs", server.uri(), ScanOptions(jobs=args.jobs, extra=extra)),
                ):
                    elapsed, report = timed([target], options)
                    runs[label].append(elapsed)
                    assert report.targets[0].resources == count, (label, report.targets[0])
            transport = next((n.message for n in report.notifications if n.kind == "transport"), "?")
            best = {label: min(times) for label, times in runs.items()}
            for label, elapsed in best.items():
                print(f"{label:>13}: best {elapsed:6.2f} s (median {statistics.median(runs[label]):.2f}) "
                      f"{count / elapsed:8,.0f} files/s {mib / elapsed:7.1f} MiB/s")
            print(f"SMB/local time ratio: {best['smb, no ACLs'] / best['local']:.2f}x without ACL reads, "
                  f"{best['smb + ACLs'] / best['local']:.2f}x with ({transport})")
            with_pii = sum(1 for f in report.findings if f.rule_id == "smb_file_broad_access_with_pii")
            acl_cost = (best["smb + ACLs"] - best["smb, no ACLs"]) / max(with_pii, 1)
            print(f"ACL reads: {with_pii:,} files with findings, +{acl_cost * 1000:.2f} ms per such file in the scan")

            connector = SMBConnector(server.uri(), ScanOptions(extra=extra))
            resources = [r for r in connector.discover() if isinstance(r, Resource)]
            sample = [r for r in resources if r.relative_path.endswith(".csv")][:500]
            started = time.perf_counter()
            for resource in sample:
                connector.access_of(resource)
            elapsed = time.perf_counter() - started
            print(f"access_of alone: {len(sample)} files in {elapsed:.2f} s, {elapsed / len(sample) * 1000:.2f} ms "
                  f"per file, {connector.acl_reads / len(sample):.2f} descriptor reads per file (folders cached)")
            connector.close()
        finally:
            server.process.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
