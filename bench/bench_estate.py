"""Estate-scale benchmark (issue 14): many tiny files, streaming, bounded memory, resume, incremental.

Writes a tree of ``--files`` tiny files (~200 B each, 1,000 per directory; 1 % hold a made-up yet valid
resident ID in varied forms: bare, grouped ``110101 19900307 0011``, in a CSV row, a JSON value, a
``key=value`` log line) and runs ``privaudit scan`` on it as a user would (a fresh process, ``--jobs``),
printing files/s and the peak RSS of the whole process tree (the scanning process and its workers,
summed from ``/proc`` every 50 ms).

With ``--state`` it also measures what a state directory buys:

* resume: the scan is SIGKILLed (process group) at half the time of an uninterrupted run, then rerun
  with the same command and state; findings must be identical, and the rerun's time is given as a
  ratio of the uninterrupted run's;
* incremental: an unchanged rerun (ratio to the first), then 1 % of the files changed (half of them
  gaining an ID, half losing theirs) and rerun: the findings must change by exactly that.

Usage::

    python bench/bench_estate.py --files 50000 500000 --jobs 2 [--state] [--checkout /tmp/base14]

``--checkout`` runs another source tree (e.g. a git worktree of the commit before) on the same tree,
in the same session, for before/after figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def resident_id(rng: random.Random) -> str:
    """A made-up resident ID that passes GB 11643: a Beijing division, a real birth date, a check character."""
    region = rng.choice(("110101", "110102", "110105", "310101", "440106"))
    year, month, day = rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)
    body = f"{region}{year:04d}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
    return body + _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


_FILLER = ("order {n} shipped to warehouse {w}; status=ok latency_ms={l}\n",
           "INFO request_id={n} path=/api/v1/items/{w} took {l} ms\n",
           "sku,qty,price\nA{n},{w},{l}.00\n")


def _content(rng: random.Random, n: int, with_id: bool) -> tuple[str, str]:
    """(suffix, text) of about 200 bytes."""
    body = "".join(rng.choice(_FILLER).format(n=n, w=rng.randint(1, 99), l=rng.randint(1, 999)) for _ in range(3))
    if not with_id:
        return ".txt", body[:200]
    value = resident_id(rng)
    form = n % 5
    if form == 0:
        return ".txt", f"customer id card {value}\n" + body[:150]
    if form == 1:
        return ".txt", f"身份证 {value[:6]} {value[6:14]} {value[14:]}\n" + body[:150]
    if form == 2:
        return ".csv", f"name_code,id_card,amount\nX{n},{value},12.50\n"
    if form == 3:
        return ".json", json.dumps({"order": n, "id_card": value, "note": "kyc"}) + "\n"
    return ".log", f"2026-01-02 10:00:00 INFO login ok idcard={value} ip=10.0.0.1\n" + body[:120]


def generate(root: Path, count: int, seed: int = 14) -> int:
    """Write ``count`` files under ``root`` (1,000 per directory); return how many hold an ID."""
    rng = random.Random(seed)
    planted = 0
    for n in range(count):
        directory = root / f"d{n // 1000:05d}"
        if n % 1000 == 0:
            directory.mkdir(parents=True, exist_ok=True)
        with_id = n % 100 == 37
        planted += with_id
        suffix, text = _content(rng, n, with_id)
        (directory / f"f{n:07d}{suffix}").write_text(text, encoding="utf-8")
    return planted


def change_one_percent(root: Path, count: int, seed: int = 15) -> int:
    """Rewrite 1 % of the files: ones with an ID lose it, clean ones gain one (same names). Return the
    expected change in file findings (gained minus lost)."""
    rng = random.Random(seed)
    delta = 0
    for n in range(3, count, 100):
        directory = root / f"d{n // 1000:05d}"
        path = next(directory.glob(f"f{n:07d}.*"))
        gained = rng.random() < 0.5
        text = f"customer id card {resident_id(rng)}\n" if gained else "nothing to see here\n"
        path.write_text(text, encoding="utf-8")
        delta += 1 if gained else 0
    return delta


# -- running a scan and sampling its process tree -----------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeRss(threading.Thread):
    """Peak of the summed RSS of ``pid`` and its descendants, sampled every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            tree = _children()
            pids, total = [self.pid], 0
            while pids:
                pid = pids.pop()
                total += _rss_kib(pid)
                pids.extend(tree.get(pid, ()))
            self.peak_kib = max(self.peak_kib, total)
            self.done.wait(self.interval)


def run_scan(checkout: Path, tree: Path, jobs: int, output: Path, extra: tuple[str, ...] | list[str] = (),
             kill_after: float | None = None, sample: bool = True) -> dict:
    """One ``privaudit scan`` in a fresh process group; returns seconds, peak tree RSS (MiB), exit status."""
    cmd = [sys.executable, "-m", "scanner", "scan", str(tree), "--jobs", str(jobs), "--format", "json",
           "--output", str(output), "--quiet", "--fail-on", "none", *extra]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=checkout, env=env, start_new_session=True, stderr=subprocess.PIPE)
    sampler = TreeRss(proc.pid)
    if sample:
        sampler.start()
    try:
        if kill_after is not None:
            try:
                proc.wait(kill_after)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
    finally:
        sampler.done.set()
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, -signal.SIGKILL) and kill_after is None:
        sys.stderr.write(err.decode(errors="replace")[-2000:])
        raise SystemExit(f"scan failed with exit status {proc.returncode}")
    return {"seconds": seconds, "peak_rss_mib": sampler.peak_kib / 1024, "status": proc.returncode,
            "stderr": err.decode(errors="replace")}


def findings_of(output: Path) -> list[str]:
    """The findings of a JSON report, each as canonical JSON, sorted (the order reports use may differ)."""
    data = json.loads(output.read_text(encoding="utf-8"))
    return sorted(json.dumps(f, sort_keys=True, ensure_ascii=False) for f in data.get("findings", []))


def _fingerprints(output: Path) -> list[str]:
    return findings_of(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, nargs="+", default=[50_000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--checkout", type=Path, action="append", default=[],
                        help="another source tree to run on the same files (repeatable); this one always runs")
    parser.add_argument("--state", action="store_true", help="also measure resume and incremental re-scans")
    parser.add_argument("--work", type=Path, default=None, help="where to write the trees (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated trees")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="privaudit-estate-"))
    work.mkdir(parents=True, exist_ok=True)
    checkouts = [ROOT, *args.checkout]
    try:
        for count in args.files:
            tree = work / f"tree-{count}"
            if not tree.is_dir():
                t0 = time.perf_counter()
                planted = generate(tree, count)
                print(f"generated {count:,} files ({planted:,} with an ID) in {time.perf_counter() - t0:.1f} s",
                      flush=True)
            for checkout in checkouts:
                out = work / f"out-{count}-{checkout.name}.json"
                result = run_scan(checkout, tree, args.jobs, out)
                print(f"{checkout}: {count:,} files, --jobs {args.jobs}: {result['seconds']:.1f} s, "
                      f"{count / result['seconds']:,.0f} files/s, peak tree RSS {result['peak_rss_mib']:.0f} MiB, "
                      f"{len(findings_of(out)):,} findings", flush=True)
            if args.state:
                state_runs(tree, count, work, args.jobs)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def state_runs(tree: Path, count: int, work: Path, jobs: int) -> None:
    """Resume and incremental figures on ``tree`` (which is modified: 1 % of it at the end)."""
    state = work / f"state-{count}"
    shutil.rmtree(state, ignore_errors=True)
    full_out, out = work / "full.json", work / "state.json"
    full = run_scan(ROOT, tree, jobs, full_out, sample=False)
    # resume: kill halfway, rerun with the same state
    killed = run_scan(ROOT, tree, jobs, out, ["--state", str(state)], kill_after=full["seconds"] / 2, sample=False)
    resumed = run_scan(ROOT, tree, jobs, out, ["--state", str(state)], sample=False)
    same = _fingerprints(out) == _fingerprints(full_out)
    print(f"resume: killed at {full['seconds'] / 2:.1f} s (status {killed['status']}), rerun "
          f"{resumed['seconds']:.1f} s = {resumed['seconds'] / full['seconds']:.2f} x uninterrupted "
          f"({full['seconds']:.1f} s); findings identical: {same}", flush=True)
    unchanged = run_scan(ROOT, tree, jobs, out, ["--state", str(state)], sample=False)
    same = _fingerprints(out) == _fingerprints(full_out)
    print(f"incremental: unchanged rerun {unchanged['seconds']:.1f} s, "
          f"{full['seconds'] / unchanged['seconds']:.1f} x faster than a full scan; findings identical: {same}",
          flush=True)
    before = len(_fingerprints(out))
    gained = change_one_percent(tree, count)
    changed = run_scan(ROOT, tree, jobs, out, ["--state", str(state)], sample=False)
    fresh = run_scan(ROOT, tree, jobs, full_out, sample=False)
    same = _fingerprints(out) == _fingerprints(full_out)
    print(f"incremental after 1 % changed: {changed['seconds']:.1f} s ({fresh['seconds'] / changed['seconds']:.1f} x "
          f"faster than a full scan); findings {before:,} -> {len(_fingerprints(out)):,} ({gained:,} files gained an "
          f"ID); identical to a full scan: {same}", flush=True)


if __name__ == "__main__":
    main()
