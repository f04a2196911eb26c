"""--state with --cluster: the client's state is the scan's journal, so a scan on a cluster resumes and
carries unchanged resources exactly as a local one does (issues 14 and 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scanner.connector import ScanOptions
from scanner.scan import run_scan

RID = "110101199003070011"


def _reused(report: Any) -> int:
    return sum(n.count for n in report.notifications if n.kind == "state-reused")


def _findings(report: Any) -> list[tuple[str, str, str]]:
    return sorted((f.rule_id, f.resource.uri, f.fingerprint) for f in report.findings)


def test_a_cluster_scan_with_state_carries_what_the_local_pool_carries(dask_cluster: Any, tmp_path: Path) -> None:
    share = tmp_path / "share"
    (share / "exports").mkdir(parents=True)
    for i in range(20):
        (share / "exports" / f"part-{i:02d}.csv").write_text(f"id,id_card\n{i},{RID if i % 4 == 0 else i}\n")
    (share / "app.log").write_text("login mobile=13812345678\n")
    cluster = ScanOptions(jobs=2, extra={"cluster": dask_cluster.address, "cluster_insecure": True})
    state = tmp_path / "state"

    first = run_scan([str(share)], cluster, state=state)
    (share / "exports" / "part-01.csv").write_text(f"id,id_card\n1,{RID}\n")  # one file changes
    again = run_scan([str(share)], cluster, state=state)
    local = run_scan([str(share)], ScanOptions(jobs=2))

    assert first.findings and _reused(first) == 0
    assert _findings(again) == _findings(local)
    assert _reused(again) == local.targets[0].resources - 1
