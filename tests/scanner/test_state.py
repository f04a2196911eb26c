"""``--state DIR``: resume after a kill, incremental re-scans (changed, vanished, renamed, changed back within
the same second), a state from another policy, and a state directory others can read (refused, exit 2)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner import state as state_module
from scanner.connector import ScanOptions
from scanner.output import render_report
from scanner.policy import load_policy
from scanner.scan import run_scan

RID = "110101199003070011"
RID2 = "11010519491231002X"
MOBILE = "13812345678"


def tree(root: Path, files: int = 12) -> Path:
    share = root / "share"
    share.mkdir(exist_ok=True)
    for i in range(files):
        body = f"id_card\n{RID}\n" if i % 3 == 0 else f"order {i} shipped\n"
        (share / f"f{i:02d}.csv").write_text(body, encoding="utf-8")
    (share / "app.log").write_text(f"login mobile={MOBILE}\n", encoding="utf-8")
    (share / f"kyc_{RID2}.txt").write_text(f"身份证 {RID2}\n", encoding="utf-8")
    return share


def rendered(report: Any) -> dict:
    """The JSON report without what differs between runs (times, the state's own notes)."""
    data = json.loads(render_report(report, "json"))
    data.pop("started"), data.pop("finished")
    data["notifications"] = [n for n in data["notifications"] if not n["kind"].startswith("state-")]
    return data


def reused(report: Any) -> int:
    return sum(n.count for n in report.notifications if n.kind == "state-reused")


def scan(share: Path, state: Path | None, **kwargs: Any) -> Any:
    return run_scan([str(share)], ScanOptions(jobs=1), state=state, **kwargs)


def test_an_unchanged_rerun_reads_nothing_again_and_reports_the_same(tmp_path: Path) -> None:
    share, state = tree(tmp_path), tmp_path / "state"
    first = scan(share, state)
    assert (state.stat().st_mode & 0o777) == 0o700 and ((state / "state.sqlite").stat().st_mode & 0o777) == 0o600
    assert reused(first) == 0 and first.findings
    again = scan(share, state)
    assert reused(again) == first.targets[0].resources == 14
    assert rendered(again) == rendered(first)
    full = scan(share, state, full=True)
    assert reused(full) == 0 and rendered(full) == rendered(first)


def _same_second_change(path: Path, text: str) -> None:
    """Rewrite ``path`` keeping its mtime: only ctime (and perhaps the size) tell it changed."""
    before = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


CHANGES = [
    # (what happens between the runs, files read again)
    ("content changes", lambda s: (s / "f01.csv").write_text(f"id_card\n{RID}\n"), 1),
    ("a file vanishes", lambda s: (s / "f00.csv").unlink(), 0),
    ("a file is renamed", lambda s: (s / "f00.csv").rename(s / "g00.csv"), 1),
    ("changed within the same second, same size",
     lambda s: _same_second_change(s / "f00.csv", f"id_card\n{RID2}\n"), 1),
    ("changed back within the same second",
     lambda s: (_same_second_change(s / "f00.csv", "nothing\n"),
                _same_second_change(s / "f00.csv", f"id_card\n{RID}\n")), 1),
    ("mode changes", lambda s: (s / "f00.csv").chmod(0o600), 1),
]


@pytest.mark.parametrize(("case", "change", "read_again"), CHANGES, ids=[c[0] for c in CHANGES])
def test_incremental_results_equal_a_full_scan_after_a_change(tmp_path: Path, case: str, change: Any,
                                                              read_again: int) -> None:
    share, state = tree(tmp_path), tmp_path / "state"
    scan(share, state)
    change(share)
    incremental = scan(share, state)
    fresh = scan(share, None)
    assert rendered(incremental) == rendered(fresh), case
    assert reused(incremental) == fresh.targets[0].resources - read_again, case
    # the vanished or renamed file is forgotten: the next run carries exactly what is there
    assert reused(scan(share, state)) == fresh.targets[0].resources


@pytest.mark.parametrize("mode", [0o755, 0o750, 0o707])
def test_a_state_directory_others_can_read_is_refused_with_exit_2(tmp_path: Path, mode: int) -> None:
    from scanner.cli import main

    share, state = tree(tmp_path), tmp_path / "state"
    state.mkdir(mode=0o700)
    state.chmod(mode)
    result = CliRunner().invoke(main, ["scan", str(share), "--state", str(state), "-j", "1", "-q"])
    assert result.exit_code == 2, result.output
    assert f"chmod 700 {state}" in result.output and f"mode {mode:04o}" in result.output


def test_a_state_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    from scanner.cli import main

    share, state = tree(tmp_path), tmp_path / "state"
    state.write_text("")
    result = CliRunner().invoke(main, ["scan", str(share), "--state", str(state), "-j", "1"])
    assert result.exit_code == 2 and "Invalid value for '--state'" in result.output and "is a file" in result.output


def test_full_without_state_is_a_usage_error(tmp_path: Path) -> None:
    from scanner.cli import main

    result = CliRunner().invoke(main, ["scan", str(tree(tmp_path)), "--full"])
    assert result.exit_code == 2 and "--full only applies with --state" in result.output


@pytest.mark.parametrize(("other", "said"), [("gdpr", "another policy, detector or scanner version"),
                                             ("format", "has another format (0, this scanner writes"),
                                             ("detector", "another policy, detector or scanner version")])
def test_a_state_from_another_policy_or_version_is_not_reused(tmp_path: Path, other: str, said: str) -> None:
    share, state = tree(tmp_path), tmp_path / "state"
    if other == "gdpr":
        run_scan([str(share)], ScanOptions(jobs=1), load_policy("gdpr"), state=state)
    else:
        scan(share, state)
        with sqlite3.connect(state / "state.sqlite") as db:
            db.execute("UPDATE meta SET value = ? WHERE name = ?", ("0" if other == "format" else "x", other
                       if other == "format" else "detection"))
    report = scan(share, state)
    assert reused(report) == 0
    (note,) = [n for n in report.notifications if n.kind == "state-not-reused"]
    assert said in note.message
    assert reused(scan(share, state)) == report.targets[0].resources  # replaced: the next run uses it


def test_the_state_holds_no_raw_value_or_name(tmp_path: Path) -> None:
    share, state = tree(tmp_path), tmp_path / "state"
    scan(share, state)
    with sqlite3.connect(state / "state.sqlite") as db:
        dump = "\n".join(db.iterdump())
    for raw in (RID, RID2, MOBILE, "kyc_", "f00.csv", str(share)):
        assert raw not in dump


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (the state's last transaction is rolled back)."""


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kill_at=st.integers(min_value=1, max_value=14))
def test_a_run_killed_at_any_point_resumes_to_the_same_result(tmp_path_factory: pytest.TempPathFactory,
                                                               monkeypatch: pytest.MonkeyPatch, kill_at: int) -> None:
    root = tmp_path_factory.mktemp("resume")
    share, state = tree(root), root / "state"
    expected = rendered(scan(share, None))
    monkeypatch.setattr(state_module, "COMMIT_EVERY", 0.0)  # every finished resource is committed at once

    def close_without_commit(self: state_module.State) -> None:
        self.db.rollback() if self.db.in_transaction else None
        self.db.close()

    def kill(done: int, found: int) -> None:
        if done == kill_at:
            raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(state_module.State, "close", close_without_commit)
        with pytest.raises(Killed):
            scan(share, state, progress=kill)
    resumed = scan(share, state)
    assert rendered(resumed) == expected
    assert 0 < reused(resumed) <= kill_at
    assert "an interrupted run resumed" in next(n.message for n in resumed.notifications if n.kind == "state-reused")


def test_the_summary_line_says_how_many_resources_were_carried(tmp_path: Path) -> None:
    from scanner.cli import main

    share, state, out = tree(tmp_path), tmp_path / "state", tmp_path / "out.json"
    args = ["scan", str(share), "--state", str(state), "-j", "1", "-o", str(out), "--fail-on", "none"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0 and "carried" not in first.stderr
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert "in 1 target, 14 unchanged resources carried from the state; written to" in again.stderr


# -- unchanged directories are carried whole ----------------------------------------------------------


def nested(tmp_path: Path) -> Path:
    share = tree(tmp_path)
    sub = share / "orders" / "2026"
    sub.mkdir(parents=True)
    for i in range(30):
        (sub / f"o{i:03d}.txt").write_text(f"order {i} packed\n", encoding="utf-8")
    (sub / "kyc.csv").write_text(f"id_card\n{RID}\n", encoding="utf-8")
    return share


@pytest.fixture
def files_listed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file the files connector turned into a resource (stat, owner lookup, URI) in this test."""
    from connectors.files import FilesConnector

    listed: list[str] = []
    original = FilesConnector._file_resources

    def counting(self: Any, path: Any, relative: str, position: int | None = None) -> Any:
        listed.append(relative)
        return original(self, path, relative, position)

    monkeypatch.setattr(FilesConnector, "_file_resources", counting)
    return listed


def test_an_unchanged_directory_lists_only_its_files_with_something_in_them(tmp_path: Path,
                                                                            files_listed: list[str]) -> None:
    share, state = nested(tmp_path), tmp_path / "state"
    first = scan(share, state)
    files_listed.clear()
    again = scan(share, state)
    assert rendered(again) == rendered(first)
    assert reused(again) == first.targets[0].resources == 45
    # the six in share/ with a value or a personal name, the one in orders/2026; never the 38 clean files
    assert sorted(files_listed) == sorted(["f00.csv", "f03.csv", "f06.csv", "f09.csv", "app.log", f"kyc_{RID2}.txt",
                                           "orders/2026/kyc.csv"])


GROUP_CHANGES = [
    # (what changes between the runs, options of the second run)
    ("a file appears in a carried directory",
     lambda s: (s / "orders" / "2026" / "new.csv").write_text(f"id_card\n{RID}\n"), {}),
    ("a clean file before a file with a value vanishes (positions shift)",
     lambda s: (s / "orders" / "2026" / "o000.txt").unlink(), {}),
    ("an exclude pattern is added", lambda s: None, {"exclude": ("*.txt",)}),
    ("an include pattern is added", lambda s: None, {"include": ("orders/**",)}),
    ("a symlink joins a directory", lambda s: (s / "orders" / "2026" / "link.csv").symlink_to(s / "f00.csv"), {}),
    ("an ignore file is added", lambda s: (s / ".privauditignore").write_text("orders/\n"), {}),
]


@pytest.mark.parametrize(("case", "change", "second"), GROUP_CHANGES, ids=[c[0] for c in GROUP_CHANGES])
def test_carried_directories_give_what_a_fresh_scan_gives(tmp_path: Path, case: str, change: Any,
                                                          second: dict[str, Any]) -> None:
    share, state = nested(tmp_path), tmp_path / "state"
    scan(share, state)
    change(share)

    def again(target_state: Path | None) -> Any:
        return run_scan([str(share)], ScanOptions(jobs=1, **second), state=target_state)

    incremental = again(state)
    assert rendered(incremental) == rendered(again(None)), case
    assert rendered(again(state)) == rendered(incremental), case  # and the run after it, from the updated state
