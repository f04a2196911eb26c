"""The SFTP connector against a real OpenSSH sshd on loopback (throwaway host and user keys)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from stdnum.cn import ric

from connectors.sftp import SFTPConnector
from reports.sarif import build_sarif
from scanner.connector import ScanOptions
from scanner.model import Resource, ScanReport
from scanner.scan import run_scan

if TYPE_CHECKING:
    from tests.servers import SSHServer

pytest_plugins = ["tests.servers"]
pytestmark = pytest.mark.servers

P17 = "11010519491231002"
RESIDENT_ID = P17 + ric.calc_check_digit(P17 + "0")
CUSTOMERS = f"name,id_no,mobile\n张三,{RESIDENT_ID},13812345678\n".encode()


@pytest.fixture
def share(sshd_server: SSHServer) -> Path:
    """A fresh directory under the server's root for one test."""
    path = sshd_server.root / f"share-{uuid.uuid4().hex[:8]}"
    path.mkdir(mode=0o755)
    return path


def target(srv: SSHServer, path: Path) -> str:
    return f"sftp://{srv.username}@{srv.host}:{srv.port}{path}"


def options(srv: SSHServer, known_hosts: Path | None = None, **kwargs: Any) -> ScanOptions:
    extra = {"known_hosts": str(known_hosts or srv.known_hosts_path), "ssh_key": str(srv.private_key_path),
             "ssh_agent": False}
    extra.update(kwargs.pop("extra", {}))
    return ScanOptions(jobs=kwargs.pop("jobs", 1), extra=extra, **kwargs)


def write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, mode)


def scan(srv: SSHServer, path: Path, **kwargs: Any) -> ScanReport:
    return run_scan([target(srv, path)], options(srv, **kwargs), command_line=["privscan", "scan"])


def test_world_readable_remote_file_is_an_exposure(sshd_server: SSHServer, share: Path) -> None:
    write(share / "exports" / "customers.csv", CUSTOMERS, 0o644)
    write(share / "private" / "customers.csv", CUSTOMERS, 0o600)
    write(share / "logs" / "app.log", b"login ok mobile=13912345678\n", 0o640)
    write(share / "notes.txt", b"nothing personal\n", 0o644)

    report = scan(sshd_server, share, jobs=2)  # worker processes open their own SSH sessions

    by_rule: dict[str, set[str]] = {}
    for finding in report.findings:
        by_rule.setdefault(finding.rule_id, set()).add(finding.resource.relative_path or "")
    assert by_rule["file_world_readable_with_pii"] == {"exports/customers.csv"}
    assert by_rule["pii_in_file"] == {"exports/customers.csv", "private/customers.csv"}
    assert by_rule["pii_in_log"] == {"logs/app.log"}
    exposure = next(f for f in report.findings if f.rule_id == "file_world_readable_with_pii")
    assert exposure.category.value == "exposure" and exposure.message.endswith(".")
    assert "-rw-r--r--" in exposure.message and RESIDENT_ID not in exposure.message
    assert not [n for n in report.notifications if n.level.value == "error"]


def test_mode_owner_mtime_recorded(sshd_server: SSHServer, share: Path) -> None:
    write(share / "a.csv", CUSTOMERS, 0o640)
    os.utime(share / "a.csv", (1_600_000_000, 1_600_000_000))
    connector = SFTPConnector(target(sshd_server, share), options(sshd_server))
    try:
        [resource] = [r for r in connector.discover() if isinstance(r, Resource)]
    finally:
        connector.close()
    st = (share / "a.csv").stat()
    assert resource.mode == 0o640
    assert resource.mtime == 1_600_000_000
    assert resource.metadata["uid"] == st.st_uid and resource.metadata["gid"] == st.st_gid
    assert resource.owner  # the name from the server's long listing, else the uid
    assert resource.uri == f"sftp://{sshd_server.username}@127.0.0.1:{sshd_server.port}{share}/a.csv"


def test_unknown_host_key_is_refused(sshd_server: SSHServer, share: Path, tmp_path: Path) -> None:
    write(share / "customers.csv", CUSTOMERS, 0o644)
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    report = scan(sshd_server, share, known_hosts=empty)
    assert report.targets[0].failed and not report.findings
    [note] = [n for n in report.notifications if n.kind == "target-failed"]
    assert note.level.value == "error"
    assert "not in known_hosts" in note.message and "SHA256:" in note.message
    assert empty.read_text() == ""  # never auto-accepted, never written


def test_changed_host_key_is_refused(sshd_server: SSHServer, share: Path, tmp_path: Path) -> None:
    write(share / "customers.csv", CUSTOMERS, 0o644)
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    wrong = tmp_path / "known_hosts"
    public = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    wrong.write_text(f"[{sshd_server.host}]:{sshd_server.port} {public}\n")
    report = scan(sshd_server, share, known_hosts=wrong)
    assert report.targets[0].failed and not report.findings
    [note] = [n for n in report.notifications if n.kind == "target-failed"]
    assert "CHANGED" in note.message and "man-in-the-middle" in note.message


def test_missing_path_is_a_failed_target(sshd_server: SSHServer, share: Path) -> None:
    report = scan(sshd_server, share / "nope")
    assert report.targets[0].failed
    assert any(n.kind == "missing" and "does not exist" in n.message for n in report.notifications)


def test_password_in_uri_is_refused(sshd_server: SSHServer, share: Path) -> None:
    uri = f"sftp://{sshd_server.username}:secret@{sshd_server.host}:{sshd_server.port}{share}"
    report = run_scan([uri], options(sshd_server), command_line=["privscan"])
    assert report.targets[0].failed
    assert "secret" not in report.targets[0].target
    assert any("PRIVSCAN_SFTP_PASSWORD" in n.message for n in report.notifications)


def test_dropped_connection_mid_walk_reconnects(sshd_server: SSHServer, share: Path) -> None:
    for d in range(4):
        write(share / f"d{d}" / "customers.csv", CUSTOMERS, 0o600)
    connector = SFTPConnector(target(sshd_server, share), options(sshd_server))
    try:
        walk = connector.discover()
        first = next(walk)
        transport = connector._client.get_transport()
        transport.sock.shutdown(socket.SHUT_RDWR)  # the network goes away under the walk
        rest = list(walk)
        found = [first, *rest]
        assert sorted(r.relative_path for r in found if isinstance(r, Resource)) == [
            f"d{d}/customers.csv" for d in range(4)]
        assert connector.reconnects >= 1

        # and a read after another drop resumes on a fresh connection
        connector._client.get_transport().sock.shutdown(socket.SHUT_RDWR)
        data = b"".join(c.data for c in connector.read(found[-1]))
        assert RESIDENT_ID.encode() in data
        assert connector.reconnects >= 2
    finally:
        connector.close()


def test_symlink_loops_depth_and_globs(sshd_server: SSHServer, share: Path) -> None:
    write(share / "a" / "b" / "c" / "deep.csv", CUSTOMERS, 0o600)
    write(share / "a" / "top.csv", CUSTOMERS, 0o600)
    write(share / "a" / "skip.tmp", CUSTOMERS, 0o600)
    (share / "a" / "loop").symlink_to(share / "a")
    (share / "a" / "b" / "up").symlink_to(share)

    opts = options(sshd_server, follow_symlinks=True, exclude=("*.tmp",))
    connector = SFTPConnector(target(sshd_server, share), opts)
    try:
        items = list(connector.discover())
    finally:
        connector.close()
    files = sorted(r.relative_path or "" for r in items if isinstance(r, Resource))
    assert files == ["a/b/c/deep.csv", "a/top.csv"]
    assert {n.kind for n in items if not isinstance(n, Resource)} == {"symlink-loop"}

    shallow = SFTPConnector(target(sshd_server, share), options(sshd_server, max_depth=1))
    try:
        names = sorted(r.relative_path or "" for r in shallow.discover() if isinstance(r, Resource))
    finally:
        shallow.close()
    assert names == ["a/skip.tmp", "a/top.csv"]


def test_sarif_logical_location_is_the_sftp_uri(sshd_server: SSHServer, share: Path, tmp_path: Path) -> None:
    write(share / "customers.csv", CUSTOMERS, 0o644)
    report = scan(sshd_server, share)
    sarif = build_sarif(report)
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "file_world_readable_with_pii"]
    [result] = results
    logical = result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
    assert logical == f"sftp://{sshd_server.username}@127.0.0.1:{sshd_server.port}{share}/customers.csv"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith(".privscan/sftp/")
    assert "13812345678" not in str(sarif)
    from tests.sarif_multitool import validate_sarif

    path = tmp_path / "sftp.sarif"
    path.write_text(json.dumps(sarif, ensure_ascii=False), "utf-8")
    assert validate_sarif(path) == []


def test_read_resumes_at_the_same_offset_after_a_drop(sshd_server: SSHServer, share: Path) -> None:
    line = b"row ok nothing personal here 0123456789\n"
    body = line * (6 * 1024 * 1024 // len(line)) + f"last {RESIDENT_ID}\n".encode()
    write(share / "big.txt", body, 0o600)
    connector = SFTPConnector(target(sshd_server, share), options(sshd_server))
    try:
        [resource] = [r for r in connector.discover() if isinstance(r, Resource)]
        chunks = connector.read(resource)
        first = next(chunks)
        connector._client.get_transport().sock.shutdown(socket.SHUT_RDWR)
        rest = b"".join(c.data for c in chunks)
    finally:
        connector.close()
    assert first.data + rest == body  # nothing lost, nothing read twice
    assert connector.reconnects >= 1
