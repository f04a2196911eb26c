"""Name masking (scanner.redaction) on names with ground truth, and on a stock tree nobody here wrote.

Prints recall (planted values that no longer appear raw), false positives (stock names that were
changed) and throughput. Usage: ``python bench/bench_name_masking.py [STOCK_DIR ...]`` (default /usr).
"""

from __future__ import annotations

import os
import random
import sys
import time

from scanner.demo import card_from, resident_id
from scanner.redaction import mask_text

PATTERNS = (
    "{v}.pdf", "ID{v}_front.jpg", "kyc_{v}.png", "{v}-{n}.csv", "客户{v}.xlsx", "{n}_{v}_{n}.txt", "{v}",
    "exports/{v}/statement.csv", "c_{v}.col_{n}", "file:///srv/kyc/{v}.pdf", "s3://bucket/{n}/{v}.json",
)


def planted_values(rng: random.Random, count: int) -> list[str]:
    values = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            values.append(resident_id(f"110105{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}"
                                      f"{rng.randint(1, 28):02d}{rng.randint(100, 999)}"))
        elif kind == 1:
            values.append(f"1{rng.choice('38')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}")
        elif kind == 2:
            values.append(card_from(f"622202{rng.randint(0, 10**12 - 1):012d}"))
        else:
            values.append(f"user{rng.randint(1, 99999)}@example.com")
    return values


def recall(count: int = 8000) -> tuple[int, int, float]:
    rng = random.Random(7)
    names = [(value, rng.choice(PATTERNS).format(v=value, n=rng.randint(1, 999)))
             for value in planted_values(rng, count)]
    started = time.perf_counter()
    survived = sum(1 for value, name in names if value in mask_text(name))
    return len(names), survived, time.perf_counter() - started


def stock(root: str) -> tuple[int, list[tuple[str, str]], float]:
    paths = [os.path.join(d, n) for d, dirs, files in os.walk(root) for n in dirs + files]
    started = time.perf_counter()
    changed = [(p, m) for p in paths if (m := mask_text(p)) != p]
    return len(paths), changed, time.perf_counter() - started


def report_overhead(files: int = 3000) -> tuple[int, float, float]:
    """Rendering a SARIF log of a scan of ``files`` files (a tenth named after an ID), with and without
    masking: seconds of each, best of 3 interleaved rounds."""
    import tempfile
    from pathlib import Path

    from scanner.cli import render_report
    from scanner.connector import ScanOptions
    from scanner.registry import REPORTERS
    from scanner.scan import run_scan

    rng = random.Random(11)
    values = planted_values(rng, files)
    with tempfile.TemporaryDirectory() as tmp:
        for i, value in enumerate(values):
            name = f"kyc/{value}.txt" if i % 10 == 0 else f"share/{i // 100}/doc_{i}.txt"
            path = Path(tmp) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"contact {value}\n")
        report = run_scan([tmp], ScanOptions(jobs=2))
    plain, masked = [], []
    for _ in range(3):
        started = time.perf_counter()
        REPORTERS.get("sarif")().render(report)
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        render_report(report, "sarif")
        masked.append(time.perf_counter() - started)
    return len(report.findings), min(plain), min(masked)


def main() -> None:
    findings, plain, masked = report_overhead()
    print(f"SARIF of {findings} findings: {plain:.3f}s unmasked, {masked:.3f}s masked ({masked / plain:.2f}x)")
    total, survived, seconds = recall()
    print(f"planted: {total} names, {survived} with a raw value left (recall {1 - survived / total:.4f}), "
          f"{total / seconds:.0f} names/s")
    for root in sys.argv[1:] or ["/usr"]:
        count, changed, seconds = stock(root)
        print(f"stock {root}: {count} paths, {len(changed)} changed (false positives), {count / seconds:.0f} paths/s")
        for _path, masked in changed[:10]:
            print(f"  {masked}")


if __name__ == "__main__":
    main()
