"""The scanner works with no network at all: no spaCy model download, no public-suffix list fetch.

A bare Presidio ``AnalyzerEngine()`` downloads a spaCy model, and tldextract fetches the public-suffix
list on first use (it stalls where DNS hangs). Both would break scans on the isolated hosts banks run
them on, so the whole demo scan runs here in a process where every network call raises.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

NO_NETWORK = """
import socket

def refuse(*args, **kwargs):
    raise OSError("network disabled by the offline test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
"""


def test_demo_scan_runs_with_every_network_call_refused(tmp_path: Path) -> None:
    code = NO_NETWORK + (
        "import sys\n"
        "from scanner.cli import main\n"
        "sys.argv = ['privaudit', 'demo', '--dir', sys.argv[1], '--output', sys.argv[2]]\n"
        "main()\n"
    )
    output = tmp_path / "demo.sarif"
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "estate"), str(output)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    assert "network disabled" not in done.stderr
    (run,) = json.loads(output.read_text(encoding="utf-8"))["runs"]
    found = {r["properties"].get("entityType") for r in run["results"]}
    assert {"EMAIL_ADDRESS", "CN_RESIDENT_ID", "CN_MOBILE_NUMBER", "CN_BANK_CARD"} <= found
    notes = run["invocations"][0].get("toolExecutionNotifications", [])
    assert not [n for n in notes if "network" in n["message"]["text"]]
