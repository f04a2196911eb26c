"""The scan driver's parallel path: forked workers see the parent's heap frozen for the GC, the
parent gets it back afterwards, and results do not depend on the number of jobs."""

from __future__ import annotations

import gc
from pathlib import Path

from stdnum.cn import ric

from scanner import scan as scan_module
from scanner.connector import ScanOptions
from scanner.scan import run_scan

RID = "11010519491231002X"


def test_frozen_heap_freezes_only_around_forked_workers() -> None:
    assert gc.get_freeze_count() == 0
    with scan_module._frozen_heap(forking=False):
        assert gc.get_freeze_count() == 0
    with scan_module._frozen_heap(forking=True):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_two_jobs_find_what_one_job_finds_and_unfreeze_the_parent(tmp_path: Path) -> None:
    assert ric.is_valid(RID)
    for index in range(6):
        (tmp_path / f"app-{index}.log").write_text(
            "".join(f"2026-11-02 INFO user={n} 身份证号 {RID} ok\n" for n in range(200 * (index + 1))),
            encoding="utf-8")

    def summary(jobs: int) -> list[tuple]:
        report = run_scan([str(tmp_path)], ScanOptions(jobs=jobs))
        return [(f.rule_id, f.resource.uri, f.entity_type, f.occurrences) for f in report.findings]

    one = summary(1)
    assert one and summary(2) == one
    assert gc.get_freeze_count() == 0
