"""A real client of our output: sarif-tools (``sarif summary``, ``sarif diff``) reads our SARIF
cleanly, and a diff of two reviews shows what changed and nothing else (stable message prefixes)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from scanner.connector import ScanOptions
from scanner.demo import resident_id
from scanner.output import render_report
from scanner.scan import run_scan

RIDS = [resident_id(f"110105198503{day:02d}001") for day in range(1, 13)]


def sarif_cli() -> list[str]:
    found = shutil.which("sarif", path=str(Path(sys.executable).parent))
    assert found, "sarif-tools is a test dependency"
    return [found]


def write_scan(root: Path, out: Path) -> Path:
    out.write_text(render_report(run_scan([str(root)], ScanOptions(jobs=1)), "sarif"), "utf-8")
    return out


def test_summary_and_diff_of_two_reviews(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "customers.csv").write_text("id_card\n" + "".join(f"{r}\n" for r in RIDS))
    (share / "app.log").write_text(f"login id_card={RIDS[0]}\n")
    first = write_scan(share, tmp_path / "first.sarif")
    (share / "app.log").write_text(f"login id_card={RIDS[0]}\nlogin id_card={RIDS[1]}\n")  # counts change
    second = write_scan(share, tmp_path / "second.sarif")
    (share / "new.csv").write_text("id_card\n" + "".join(f"{r}\n" for r in RIDS))
    third = write_scan(share, tmp_path / "third.sarif")

    summary = subprocess.run([*sarif_cli(), "summary", str(first)], capture_output=True, text=True, timeout=120)
    assert summary.returncode == 0 and "pii_in_file" in summary.stdout and not summary.stderr

    same = subprocess.run([*sarif_cli(), "diff", str(first), str(second)], capture_output=True, text=True,
                          timeout=120)
    assert same.returncode == 0, same.stderr
    assert "New issue" not in same.stdout and "Eliminated" not in same.stdout  # only counts changed

    grown = subprocess.run([*sarif_cli(), "diff", str(second), str(third)], capture_output=True, text=True,
                           timeout=120)
    assert grown.returncode == 0, grown.stderr
    assert "new.csv" in grown.stdout
