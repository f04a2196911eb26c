"""A hostile share, case by case: time, peak memory, exit status and what the scan said.

Each case builds its input in a temporary directory and runs ``python -m scanner scan`` on it in a
child process with a deadline, so a build that hangs or explodes is measured, not waited for.
``--code DIR`` runs another checkout's code (e.g. a ``git worktree`` of the commit before a fix) for
before/after figures on the same machine in the same session.

Usage: ``python bench/bench_hostile.py [--code DIR] [--deadline SECONDS] [CASE ...]``
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RID = "110105198503120012"
MiB = 1024 * 1024


def gz_bomb(root: Path) -> list[str]:
    """12 MiB of gzip expanding to 4 GiB of log lines (the issue's rotated-log bomb)."""
    line = b"2024-11-24T15:30:00Z INFO heartbeat ok\n"
    block = gzip.compress(line * (64 * MiB // len(line)), compresslevel=9)
    with open(root / "app.log.gz", "wb") as handle:
        handle.write(gzip.compress(f"id_card={RID}\n".encode()))
        for _ in range(64):
            handle.write(block)
    return [str(root)]


def zip_overlap(root: Path) -> list[str]:
    """100 central-directory entries pointing at one 128 MiB DEFLATE stream of hex lines (2:1, so the
    stated sizes pass any ratio check): the archive states 12.5 GiB of content in 64 MiB."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("z.txt", "w", force_zip64=True) as m:
        for _ in range(2048):
            m.write(b"\n".join(os.urandom(32 * 1024).hex().encode()[i:i + 127] for i in range(0, 65536, 128)))
    raw = data.getvalue()
    cd_at, eocd_at = raw.rfind(b"PK\x01\x02"), raw.rfind(b"PK\x05\x06")
    entry = raw[cd_at:eocd_at]
    central = entry * 100  # one name, one local header, a hundred times
    eocd = bytearray(raw[eocd_at:])
    struct.pack_into("<HHII", eocd, 8, 100, 100, len(central), cd_at)
    (root / "dup.zip").write_bytes(raw[:cd_at] + central + bytes(eocd))
    return [str(root)]


def long_line(root: Path) -> list[str]:
    """A 300 MiB line without a newline, an ID across the first block cut."""
    with open(root / "dump.txt", "wb") as handle:
        handle.write(b"|" * (MiB - 9) + RID.encode())
        chunk = b"|" * MiB
        for _ in range(299):
            handle.write(chunk)
    return [str(root), "--max-file-size", str(400 * MiB)]


def fifo(root: Path) -> list[str]:
    os.mkfifo(root / "pipe.csv")
    (root / "ok.csv").write_text(f"id_card\n{RID}\n")
    return [str(root)]


def bad_name(root: Path) -> list[str]:
    with open(os.path.join(os.fsencode(root), b"\xff\xfe.csv"), "wb") as handle:
        handle.write(f"id_card\n{RID}\n".encode())
    return [str(root), "--format", "sarif"]


def headerless(root: Path) -> list[str]:
    (root / "export.csv").write_text(f"{RID},13812345678\n{RID},13812345678\n")
    return [str(root), "--format", "sarif"]


CASES: dict[str, Callable[[Path], list[str]]] = {
    "gz-bomb": gz_bomb, "zip-overlap": zip_overlap, "long-line": long_line, "fifo": fifo,
    "bad-name": bad_name, "headerless": headerless,
}


def run(case: str, code: Path, deadline: float) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        share = Path(tmp) / "share"
        share.mkdir()
        args = CASES[case](share)
        env = {**os.environ, "PYTHONPATH": str(code), "PRIVAUDIT_FINGERPRINT_KEY": "bench-hostile-key-0123"}
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-m", "scanner", "scan", *args, "-j", "1"], env=env,
                                  capture_output=True, timeout=deadline, cwd=tmp)
        except subprocess.TimeoutExpired:
            return f"{case:12} still running after {deadline:.0f} s (killed)"
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        stderr = done.stderr.decode("utf-8", "replace").strip().splitlines()
        said = stderr[-1][:150] if stderr else ""
        raw = RID.encode() in done.stdout
        try:
            done.stdout.decode("utf-8")
            utf8 = "utf-8"
        except UnicodeDecodeError:
            utf8 = "NOT utf-8"
        memory = f"peak RSS {peak / 1024:.0f} MiB" if peak > before else "peak RSS not above earlier cases"
        return (f"{case:12} rc={done.returncode} {seconds:6.1f} s {memory}; stdout {len(done.stdout)} B {utf8}"
                f"{', RAW VALUE' if raw else ''}; stderr: {said}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=REPO)
    parser.add_argument("--deadline", type=float, default=120)
    parser.add_argument("cases", nargs="*", default=list(CASES))
    args = parser.parse_args()
    for case in args.cases:
        print(run(case, args.code, args.deadline), flush=True)


if __name__ == "__main__":
    main()
