"""A small file estate for review tests: made-up people, checksum-valid identifiers.

Resident IDs carry a real GB 11643 check character and a real birth date, cards pass Luhn; nothing
here is a real person's data.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scanner.connector import ScanOptions
from scanner.demo import resident_id
from scanner.model import ScanReport
from scanner.policy import load_policy
from scanner.scan import run_scan

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)

IDS = [resident_id(p) for p in ("11010519850312001", "44030419900701002", "31010419781120003",
                                 "51010719951231004", "11010819700101005")]
MOBILES = ["13812345678", "13923456789", "15034567890", "18645678901"]


def customers_csv(order: list[int] | None = None) -> str:
    rows = [f"客户{i},{IDS[i]},{MOBILES[i]}" for i in range(4)]
    order = order if order is not None else list(range(4))
    return "\n".join(["姓名,身份证号,手机号", *(rows[i] for i in order)]) + "\n"


def app_log(padding: int = 0) -> str:
    lines = ["2026-06-01 10:00:00 INFO service started"] * padding
    lines += [f"2026-06-01 10:00:0{i} INFO login ok mobile={m}" for i, m in enumerate(MOBILES)]
    return "\n".join(lines) + "\n"


def golden_errors(case: Path, load: Callable[[Path], Any]) -> tuple[list[str], list[str]]:
    """(errors ``load(case)`` raises with the directory stripped, the case's ``.expected`` lines)."""
    from scanner.yamlschema import ConfigError

    try:
        load(case)
    except ConfigError as exc:
        got = [e.replace(f"{case.parent}/", "") for e in exc.errors]
    else:
        got = ["(no error)"]
    return got, case.with_suffix(".expected").read_text("utf-8").splitlines()


def write(root: Path, relative: str, text: str, mode: int = 0o600) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def scan(targets: list, policy: str = "financial-cn") -> ScanReport:
    return run_scan(targets, ScanOptions(jobs=1), load_policy(policy), now=NOW, command_line=["privaudit", "scan"])


def sarif(report: ScanReport) -> dict:
    from reports.sarif import build_sarif

    return json.loads(json.dumps(build_sarif(report)))


def write_sarif(report: ScanReport, path: Path) -> Path:
    from reports.sarif import SarifReporter

    path.write_text(SarifReporter().render(report), encoding="utf-8")
    return path
