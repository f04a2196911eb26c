"""The SMB connector against a real Samba smbd on loopback (tests/servers.py ``samba_server``).

The share holds one file per case, each with the NT ACL Windows would store (inherited ACEs carry
the ``ID`` flag, as Windows materialises inheritance): an export Everyone may read, files inheriting
Authenticated Users from a folder (one and two levels up), one readable by Domain Users, one only by a
named group, one whose Everyone deny beats the allow, a file without personal data. Scans run as the
share's audit account (``admin users``: it reads every file, as a backup-operator audit account does);
access-denied cases run as an ordinary clerk.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connectors.smb import SMBConnector
from scanner.cli import main
from scanner.connector import ScanOptions
from scanner.facts import SmbFileAccess, of_type
from scanner.model import Resource, ScanReport
from scanner.policy import load_policy
from scanner.scan import run_scan
from tests.servers import SMB_AUDITOR, SMB_CLERK, SMB_GROUP, SambaServer

pytestmark = pytest.mark.servers

RESIDENT_ID = "110101199003070011"  # made up, valid GB 11643 check character
MOBILE = "13812345678"
EXPORT = f"name,id_card,mobile\nzhang,{RESIDENT_ID},{MOBILE}\n".encode()
READ = "0x1200a9"
FULL = "0x1f01ff"


@dataclass(frozen=True)
class Case:
    path: str
    content: bytes
    dacl: str  # SDDL DACL part, SIDs as {placeholders}
    exposure: str | None  # what the exposure finding's message must say, None: no exposure finding


CASES = [
    Case("public/customers.csv", EXPORT, f"D:(A;;{READ};;;WD)(A;;{FULL};;;BA)",
         "Everyone through an explicit ACE on the file"),
    Case("hr/payroll.csv", EXPORT, f"D:AI(A;ID;{READ};;;AU)(A;ID;{FULL};;;BA)",
         "Authenticated Users through an ACE inherited from folder hr"),
    Case("hr/2026/bonus.csv", EXPORT, f"D:AI(A;ID;{READ};;;AU)(A;ID;{FULL};;;BA)",
         "Authenticated Users through an ACE inherited from folder hr"),
    Case("domain/list.csv", EXPORT, f"D:P(A;;{READ};;;{{domain_users}})(A;;{FULL};;;BA)",
         "Domain Users (PATEST\\None) through an explicit ACE on the file"),  # what standalone Samba calls RID 513
    Case("analysts/risk.csv", EXPORT, f"D:P(A;;{READ};;;{{group}})(A;;{FULL};;;BA)", None),
    Case("restricted/denied.csv", EXPORT, f"D:P(D;;{READ};;;WD)(A;;{READ};;;AU)(A;;{FULL};;;BA)", None),
    Case("notes/readme.txt", b"nothing personal here\n", f"D:(A;;{READ};;;WD)(A;;{FULL};;;BA)", None),
]
FOLDERS = {
    "hr": f"D:P(A;OICI;{READ};;;AU)(A;OICI;{FULL};;;BA)",
    "hr/2026": f"D:AI(A;OICIID;{READ};;;AU)(A;OICIID;{FULL};;;BA)",
    "vault": f"D:P(A;OICI;{FULL};;;BA)",
}


def sddl(srv: SambaServer, dacl: str) -> str:
    sids = {"domain_users": srv.sid(513), "group": srv.group_sid(SMB_GROUP)}
    return f"O:BAG:{srv.sid(513)}" + dacl.format(**sids)


@pytest.fixture(scope="module")
def share(samba_server: SambaServer) -> SambaServer:
    srv = samba_server
    for folder in ("public", "hr/2026", "domain", "analysts", "restricted", "notes", "vault", "big"):
        (srv.root / folder).mkdir(parents=True, exist_ok=True)
    for folder, dacl in FOLDERS.items():
        srv.set_acl(folder, sddl(srv, dacl))
    for case in CASES:
        (srv.root / case.path).write_bytes(case.content)
        srv.set_acl(case.path, sddl(srv, case.dacl))
    (srv.root / "vault" / "keys.csv").write_bytes(EXPORT)
    srv.set_acl("vault/keys.csv", sddl(srv, f"D:AI(A;ID;{FULL};;;BA)"))
    lines = b"".join(b"%08d,ordinary line without personal data\n" % i for i in range(80_000))
    (srv.root / "big" / "log.txt").write_bytes(lines + f"late,{RESIDENT_ID}\n".encode())
    for path in srv.root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # POSIX lets smbd's user read; the NT ACL decides
    return srv


@pytest.fixture
def password(share: SambaServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PRIVAUDIT_SMB_PASSWORD", share.passwords[SMB_AUDITOR])
    return share.passwords[SMB_AUDITOR]


def scan(srv: SambaServer, path: str = "", *, user: str = SMB_AUDITOR, policy: Any = None,
         **extra: Any) -> ScanReport:
    options = ScanOptions(jobs=1, extra=extra, exclude=("big/*",) if not path else ())
    return run_scan([srv.uri(user, path)], options, policy, command_line=["privaudit", "scan"])


def by_path(report: ScanReport, rule: str) -> dict[str, Any]:
    return {f.resource.relative_path: f for f in report.findings if f.rule_id == rule}


def tree_state(root: Path) -> dict[str, tuple]:
    """Every file's bytes, mtime and stored NT ACL: what "the share is unchanged" means."""
    state = {}
    for path in sorted(root.rglob("*")):
        acl = os.getxattr(path, "security.NTACL") if "security.NTACL" in os.listxattr(path) else b""
        content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        state[str(path.relative_to(root))] = (content, path.stat().st_mtime_ns, hashlib.sha256(acl).hexdigest())
    return state


# -- who can read what ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audit(share: SambaServer) -> Iterator[tuple[ScanReport, dict, dict]]:
    os.environ["PRIVAUDIT_SMB_PASSWORD"] = share.passwords[SMB_AUDITOR]
    try:
        before = tree_state(share.root)
        report = scan(share)
        yield report, before, tree_state(share.root)
    finally:
        os.environ.pop("PRIVAUDIT_SMB_PASSWORD", None)


@pytest.mark.parametrize("case", CASES, ids=[c.path for c in CASES])
def test_broad_readers_of_graded_files_are_exposures(audit: tuple, case: Case) -> None:
    report, _, _ = audit
    findings = by_path(report, "smb_file_broad_access_with_pii")
    if case.exposure is None:
        assert case.path not in findings
        return
    finding = findings[case.path]
    assert case.exposure in finding.message
    assert finding.category.value == "exposure" and finding.level.value == "error"
    assert finding.resource.uri.startswith(f"smb://{audit[0].targets[0].target.split('@')[1].split('/')[0]}/")
    assert RESIDENT_ID not in finding.message and RESIDENT_ID not in str(finding.properties)
    assert finding.properties["principals"][0]["ace"].startswith("(A;")


def test_findings_name_the_deny_and_the_owner(audit: tuple) -> None:
    report, _, _ = audit
    assert not [f for f in report.findings if f.resource.relative_path == "restricted/denied.csv"
                and f.rule_id.startswith("smb_")]
    public = by_path(report, "smb_file_broad_access_with_pii")["public/customers.csv"]
    assert public.properties["owner"] == "BUILTIN\\Administrators"
    assert public.properties["dacl"].startswith("O:S-1-5-32-544")


def test_the_share_is_unchanged_by_the_scan(audit: tuple) -> None:
    _, before, after = audit
    assert before == after


def test_transport_is_said(audit: tuple) -> None:
    report, _, _ = audit
    notes = [n.message for n in report.notifications if n.kind == "transport"]
    assert notes and "SMB 3.1.1" in notes[0] and ("encrypted" in notes[0] or "signed" in notes[0])


def test_a_named_group_is_judged_by_the_access_policy(share: SambaServer, password: str, tmp_path: Path) -> None:
    strict = tmp_path / "strict.yaml"
    strict.write_text(_policy_with_access("roles: []"))
    report = scan(share, "analysts", policy=load_policy(str(strict)))
    access = by_path(report, "smb_file_access_not_allowed")
    assert list(access) == ["risk.csv"]
    assert f"Unix Group\\{SMB_GROUP}" in access["risk.csv"].message
    assert access["risk.csv"].category.value == "access"
    allowed = tmp_path / "allowed.yaml"
    allowed.write_text(_policy_with_access(f"roles: [{{name: '*\\{SMB_GROUP}', grades: [C2], "
                                           f"objects: ['exports/analysts/*']}}]"))
    assert not by_path(scan(share, "analysts", policy=load_policy(str(allowed))), "smb_file_access_not_allowed")


def _policy_with_access(roles: str) -> str:
    from importlib import resources

    text = resources.files("policies").joinpath("financial-cn.yaml").read_text("utf-8")
    head, _, tail = text.partition("\naccess:\n")
    rest = tail.split("\n", 6)[6] if tail else ""
    body = ("\naccess:\n  public_grades: []\n  wildcard_host_grades: []\n  other_role_grades: []\n"
            f"  row_security_grades: []\n  exempt_roles: []\n  {roles}\n")
    return head.replace("name: financial-cn", "name: smb-strict", 1) + body + rest


# -- failures -------------------------------------------------------------------------------------


def test_password_in_uri_exits_2(share: SambaServer) -> None:
    uri = share.uri().replace(f"{SMB_AUDITOR}@", f"{SMB_AUDITOR}:hunter2@")
    result = CliRunner().invoke(main, ["scan", uri], prog_name="privaudit", catch_exceptions=False)
    assert result.exit_code == 2 and "PRIVAUDIT_SMB_PASSWORD" in result.output and "hunter2" not in result.output


@pytest.mark.parametrize(("change", "words"), [
    ("password", "authentication"),
    ("share", "does not exist"),
    ("port", "could not connect"),
])
def test_unusable_targets_are_incomplete(share: SambaServer, monkeypatch: pytest.MonkeyPatch, change: str,
                                         words: str) -> None:
    monkeypatch.setenv("PRIVAUDIT_SMB_PASSWORD", "wrong" if change == "password" else share.passwords[SMB_AUDITOR])
    uri = share.uri()
    if change == "share":
        uri = uri.replace(f"/{share.share}", "/no-such-share")
    if change == "port":
        from tests.servers import free_port

        uri = uri.replace(f":{share.port}/", f":{free_port()}/")
    report = run_scan([uri], ScanOptions(jobs=1, extra={"smb_timeout": 3}), command_line=["privaudit"])
    assert report.targets[0].failed
    assert any(words in n.message for n in report.notifications), [n.message for n in report.notifications]
    result = CliRunner().invoke(main, ["scan", uri, "-q", "--jobs", "1"], prog_name="privaudit",
                                catch_exceptions=False)
    assert result.exit_code == 3


def test_a_folder_the_account_may_not_list_is_a_notification(share: SambaServer,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVAUDIT_SMB_PASSWORD", share.passwords[SMB_CLERK])
    report = scan(share, user=SMB_CLERK)
    denied = [n for n in report.notifications if n.kind == "permission"]
    assert any("vault" in n.message and "access denied" in n.message for n in denied), denied
    assert not report.targets[0].failed
    assert "public/customers.csv" in by_path(report, "smb_file_broad_access_with_pii")


def test_a_locked_file_is_a_notification_and_the_rest_is_read(share: SambaServer, password: str) -> None:
    from smbprotocol.connection import Connection
    from smbprotocol.open import CreateDisposition, ImpersonationLevel, Open
    from smbprotocol.session import Session
    from smbprotocol.tree import TreeConnect

    connection = Connection(uuid.uuid4(), share.host, share.port)
    connection.connect(timeout=5)
    try:
        session = Session(connection, SMB_CLERK, share.passwords[SMB_CLERK], require_encryption=False)
        session.connect()
        tree = TreeConnect(session, rf"\\{share.host}\{share.share}")
        tree.connect()
        lock = Open(tree, "public\\customers.csv")
        lock.create(ImpersonationLevel.Impersonation, 0x1 | 0x80, 0, 0, CreateDisposition.FILE_OPEN, 0x40)  # deny all
        report = scan(share, "public")
        lock.close()
    finally:
        connection.disconnect(True)
    locked = [n for n in report.notifications if n.kind == "locked"]
    assert locked and "locked by another user" in locked[0].message
    assert RESIDENT_ID not in locked[0].message


def test_dropped_connection_mid_walk_and_mid_read_resumes(share: SambaServer, password: str) -> None:
    connector = SMBConnector(share.uri(), ScanOptions())
    listed: list[Resource] = []
    for found in connector.discover():
        if isinstance(found, Resource):
            listed.append(found)
            if len(listed) == 1:
                assert share.drop_connections() >= 1
    assert connector.reconnects >= 1
    expected = {c.path for c in CASES} | {"vault/keys.csv", "big/log.txt"}
    assert expected <= {r.relative_path for r in listed}
    big = next(r for r in listed if r.relative_path == "big/log.txt")
    chunks = connector.read(big)
    first = next(chunks)
    share.drop_connections()
    data = first.data + b"".join(c.data[c.repeated:] for c in chunks)
    assert data == (share.root / "big" / "log.txt").read_bytes()
    assert connector.reconnects >= 2
    connector.close()


@pytest.mark.parametrize(("share_acl", "principal", "via"), [
    ("S-1-1-0:ALLOWED/0/FULL", "Everyone", "Everyone"),
    ("S-1-5-11:ALLOWED/0/FULL,S-1-5-32-544:ALLOWED/0/FULL", "NT AUTHORITY\\Authenticated Users", "Everyone"),
    ("S-1-5-32-544:ALLOWED/0/FULL", None, None),
])
def test_share_permissions_narrow_who_is_exposed(share: SambaServer, monkeypatch: pytest.MonkeyPatch,
                                                 share_acl: str, principal: str | None, via: str | None) -> None:
    """Share and NTFS permissions both apply: an Everyone ACE exposes the file to whoever the share lets
    in (Authenticated Users), and to nobody broad when only Administrators get in."""
    monkeypatch.setenv("PRIVAUDIT_SMB_PASSWORD", share.passwords["root"])
    share.set_share_acl(share_acl)
    try:
        report = scan(share, "public", user="root")
    finally:
        share.set_share_acl("S-1-1-0:ALLOWED/0/FULL")
    assert not [n for n in report.notifications if n.kind == "share-permissions"]
    findings = by_path(report, "smb_file_broad_access_with_pii")
    if principal is None:
        assert not findings
        return
    found = findings["customers.csv"].properties["principals"]
    assert [(p["name"], p["via"], p["shareAllows"]) for p in found] == [(principal, via, True)]


def test_share_permissions_unreadable_is_a_note(audit: tuple) -> None:
    report, _, _ = audit
    notes = [n for n in report.notifications if n.kind == "share-permissions"]
    assert len(notes) == 1 and "NetShareGetInfo" in notes[0].message
    finding = by_path(report, "smb_file_broad_access_with_pii")["public/customers.csv"]
    assert "the share's own permissions could not be read" in finding.message


def test_encryption_off_still_signs(share: SambaServer, password: str) -> None:
    connector = SMBConnector(share.uri(), ScanOptions(extra={"smb_encryption": "off"}))
    note = next(n for n in connector.discover() if not isinstance(n, Resource))
    assert "signed, not encrypted" in note.message
    assert connector.link().session.signing_required
    connector.close()


def test_facts_are_recorded_for_files_with_findings_only(share: SambaServer, password: str) -> None:
    report = scan(share, "notes")
    assert not report.findings
    connector = SMBConnector(share.uri(), ScanOptions())
    resource = next(r for r in connector.discover() if isinstance(r, Resource)
                    and r.relative_path == "hr/2026/bonus.csv")
    access = connector.access_of(resource)
    assert isinstance(access, SmbFileAccess) and of_type([access], SmbFileAccess)
    assert [(r.name.rsplit("\\", 1)[-1], r.how, r.source) for r in access.readers if r.broad] == [
        ("Authenticated Users", "inherited", "hr")]
    assert connector.acl_reads == 3  # the file, hr/2026, hr (folders cached for the next file)
    connector.access_of(resource)
    assert connector.acl_reads == 4
    connector.close()


def test_reads_go_through_the_file_decoders(share: SambaServer, password: str) -> None:
    import gzip
    import zipfile

    (share.root / "formats").mkdir(exist_ok=True)
    (share.root / "formats" / "rotated.log.gz").write_bytes(gzip.compress(f"login mobile {MOBILE}\n".encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner/export.csv", EXPORT)
    (share.root / "formats" / "bundle.zip").write_bytes(buffer.getvalue())
    (share.root / "formats" / "utf16.csv").write_bytes(EXPORT.decode().encode("utf-16"))
    for path in (share.root / "formats").iterdir():
        path.chmod(0o644)
    report = scan(share, "formats")
    found = {f.resource.relative_path for f in report.findings}
    assert {"rotated.log.gz", "bundle.zip", "utf16.csv"} <= found, [f.message for f in report.findings]


def test_workers_read_in_parallel(share: SambaServer, password: str) -> None:
    options = ScanOptions(jobs=2, exclude=("big/*", "formats/*", "kyc/*"))
    report = run_scan([share.uri()], options, command_line=["privaudit"])
    assert set(by_path(report, "smb_file_broad_access_with_pii")) == {c.path for c in CASES if c.exposure}


# -- evidence and configuration -------------------------------------------------------------------


def test_sarif_uris_are_smb_and_names_are_masked(share: SambaServer, password: str, tmp_path: Path) -> None:
    """A KYC upload named after the customer: the name is evidence, masked in every URI and message."""
    (share.root / "kyc").mkdir(exist_ok=True)
    upload = share.root / "kyc" / f"{RESIDENT_ID}.csv"
    upload.write_bytes(EXPORT)
    upload.chmod(0o644)
    share.set_acl(f"kyc/{RESIDENT_ID}.csv", sddl(share, f"D:(A;;{READ};;;WD)(A;;{FULL};;;BA)"))
    out = tmp_path / "smb.sarif"
    result = CliRunner().invoke(main, ["scan", share.uri(path="kyc"), "-o", str(out), "--jobs", "1"],
                                prog_name="privaudit", catch_exceptions=False)
    assert result.exit_code == 1, result.output
    text = out.read_text("utf-8")
    assert RESIDENT_ID not in text and MOBILE not in text and RESIDENT_ID not in result.output
    import json

    results = json.loads(text)["runs"][0]["results"]
    exposure = next(r for r in results if r["ruleId"] == "smb_file_broad_access_with_pii")
    logical = exposure["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
    assert logical.startswith(f"smb://{share.host}:{share.port}/{share.share}/kyc/110101********0011.csv;k=")
    physical = exposure["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert physical.startswith(f".privaudit/smb/{share.host}_{share.port}/{share.share}/kyc/110101********0011")
    from tests.sarif_multitool import validate_sarif

    assert validate_sarif(out) == []


def test_scan_config_smb_target(share: SambaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.review.config import load_config
    from scanner.yamlschema import ConfigError

    monkeypatch.setenv("PRIVAUDIT_FILES_SMB", share.passwords[SMB_AUDITOR])
    config = tmp_path / "privaudit.yaml"
    config.write_text(f"version: 1\ntargets:\n  - smb: {share.uri(path='public')}\n    include: ['*.csv']\n"
                      "    require_signing: true\n    encryption: auto\n    credentials:\n"
                      "      password_env: PRIVAUDIT_FILES_SMB\n")
    loaded = load_config(config)
    target = loaded.targets[0]
    assert target.kind == "smb" and target.extra["password_env"] == "PRIVAUDIT_FILES_SMB"
    report = run_scan([(target.target, target.options(jobs=1))], ScanOptions(jobs=1), command_line=["privaudit"])
    assert "customers.csv" in by_path(report, "smb_file_broad_access_with_pii")
    config.write_text(f"version: 1\ntargets:\n  - smb: {share.uri(path='public').replace('@', ':pw@', 1)}\n")
    with pytest.raises(ConfigError, match="password"):
        load_config(config)
