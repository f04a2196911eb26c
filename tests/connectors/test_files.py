"""The file-share connector on real temporary trees.

Walking (globs, symlink loops, size cap, depth), what is recorded about each file (mode bits, owner,
age), reading (encodings, rotated logs, ZIP members and bombs, binaries, encrypted files), field
hints from CSV headers and JSON keys, parallel parts that agree with a whole-file read, and
streaming in bounded memory. Tests may run as root, so unreadable items are made with vanished files
and corrupt archives rather than with permission bits alone.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import pwd
import shutil
import stat
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

import connectors.files as files_module
import scanner.scan as scan_module
from connectors.files import FilesConnector
from scanner.connector import ScanOptions, merge_parts
from scanner.demo import card_from, resident_id
from scanner.detection.engine import Detector
from scanner.model import Level, Notification, Resource, ResourceScan
from scanner.scan import run_scan

RID = resident_id("11010519850312001")  # 110105198503120012
RID2 = resident_id("44030419900701002")
MOBILE = "13812345678"
MOBILE2 = "13923456789"
CARD = card_from("622202100011223344")


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


def write(root: Path, relative: str, content: str | bytes, mode: int | None = None) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    if mode is not None:
        os.chmod(path, mode)
    return path


def discover(root: Path | str, **options: object) -> tuple[list[Resource], list[Notification]]:
    items = list(FilesConnector(str(root), ScanOptions(**options)).discover())  # type: ignore[arg-type]
    return [i for i in items if isinstance(i, Resource)], [i for i in items if isinstance(i, Notification)]


def names(root: Path | str, **options: object) -> set[str]:
    return {r.display_name for r in discover(root, **options)[0]}


def scan_file(path: Path, detector: Detector, **options: object) -> ResourceScan:
    connector = FilesConnector(str(path.parent), ScanOptions(**options))  # type: ignore[arg-type]
    resources, _ = discover(path.parent, **options)
    (resource,) = [r for r in resources if r.display_name == path.name]
    return connector.scan_resource(resource, detector)


def found(scan: ResourceScan) -> dict[str, list[int]]:
    """entity type -> sorted lines of the kept matches."""
    out: dict[str, list[int]] = {}
    for m in scan.matches:
        out.setdefault(m.entity_type, []).append(m.line)
    return {k: sorted(v) for k, v in out.items()}


# -- walking ------------------------------------------------------------------------------------

@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for relative in ("exports/a.csv", "exports/b.txt", "exports/tmp/c.csv", "logs/app.log", "logs/old/app.log.1",
                     "secret/deep/d.csv", "top.json"):
        write(tmp_path, relative, "nothing personal\n")
    return tmp_path


GLOB_CASES = [
    # (include, exclude, expected relative paths)
    ((), (), {"exports/a.csv", "exports/b.txt", "exports/tmp/c.csv", "logs/app.log", "logs/old/app.log.1",
              "secret/deep/d.csv", "top.json"}),
    (("*.csv",), (), {"exports/a.csv", "exports/tmp/c.csv", "secret/deep/d.csv"}),
    (("*.csv",), ("exports/tmp/*",), {"exports/a.csv", "secret/deep/d.csv"}),
    ((), ("**/secret/**",), {"exports/a.csv", "exports/b.txt", "exports/tmp/c.csv", "logs/app.log",
                             "logs/old/app.log.1", "top.json"}),
    ((), ("secret", "tmp"), {"exports/a.csv", "exports/b.txt", "logs/app.log", "logs/old/app.log.1", "top.json"}),
    (("logs/*",), (), {"logs/app.log", "logs/old/app.log.1"}),
    (("**/*.log*",), ("old",), {"logs/app.log"}),
    (("*.json", "*.txt"), (), {"exports/b.txt", "top.json"}),
    ((), ("exports/tmp/", "logs/"), {"exports/a.csv", "exports/b.txt", "secret/deep/d.csv", "top.json"}),
    ((), ("old/",), {"exports/a.csv", "exports/b.txt", "exports/tmp/c.csv", "logs/app.log", "secret/deep/d.csv",
                     "top.json"}),
]


@pytest.mark.parametrize(("include", "exclude", "expected"), GLOB_CASES)
def test_include_exclude_globs(tree: Path, include: tuple, exclude: tuple, expected: set[str]) -> None:
    assert names(tree, include=include, exclude=exclude) == expected


@pytest.mark.parametrize(("name", "content", "field"), [
    ("export.csv", f"name;mobile;id_card\nZhang;{MOBILE};{RID}\n", "id_card"),
    ("export.csv", f"name\tmobile\tid_card\nZhang\t{MOBILE}\t{RID}\n", "id_card"),
    ("export.tsv", f"name,mobile,id_card\nZhang,{MOBILE},{RID}\n", "id_card"),
    ("export.csv", f"name|mobile|id_card\nZhang|{MOBILE}|{RID}\n", "id_card"),
])
def test_the_delimiter_is_sniffed_not_taken_from_the_extension(tmp_path: Path, detector: Detector, name: str,
                                                              content: str, field: str) -> None:
    scan = scan_file(write(tmp_path, name, content), detector)
    assert {m.field for m in scan.matches if m.entity_type == "CN_RESIDENT_ID"} == {field}


GITIGNORE_CASES = [
    # gitignore semantics (scanner.globs): anchored patterns, ** across directories, negation
    (("logs/*.log",), (), {"logs/x.log"}),
    (("a/**/c.csv",), (), {"a/c.csv", "a/b/c.csv"}),
    (("*.log",), ("logs/2026/",), {"logs/x.log"}),
    ((), ("*.csv", "!a/c.csv"), {"logs/x.log", "logs/2026/a.log", "a/c.csv"}),
]


@pytest.mark.parametrize(("include", "exclude", "expected"), GITIGNORE_CASES)
def test_globs_mean_what_they_mean_in_gitignore(tmp_path: Path, include: tuple, exclude: tuple,
                                                 expected: set[str]) -> None:
    for relative in ("logs/x.log", "logs/2026/a.log", "a/c.csv", "a/b/c.csv"):
        write(tmp_path, relative, "x\n")
    assert names(tmp_path, include=include, exclude=exclude) == expected


def test_an_ignore_file_at_the_target_root_excludes_like_a_gitignore(tree: Path) -> None:
    write(tree, ".privauditignore", "# vendored and temporary\nexports/tmp/\nsecret/\n*.json\n")
    assert names(tree) == {"exports/a.csv", "exports/b.txt", "logs/app.log", "logs/old/app.log.1", ".privauditignore"}


def test_single_file_target_and_file_uri(tree: Path) -> None:
    resources, notes = discover(tree / "exports" / "a.csv")
    assert [r.display_name for r in resources] == ["a.csv"] and not notes
    assert resources[0].root_uri == (tree / "exports").as_uri() + "/"
    assert names(tree.as_uri()) == names(tree)


def test_missing_target_is_a_notification(tmp_path: Path) -> None:
    resources, notes = discover(tmp_path / "nope")
    assert not resources
    assert [n.kind for n in notes] == ["missing"] and notes[0].message.endswith(".")


def test_symlinks_not_followed_by_default_and_loops_are_safe(tmp_path: Path) -> None:
    write(tmp_path, "real/a.txt", "x\n")
    (tmp_path / "real" / "loop").symlink_to(tmp_path)  # a cycle back to the root
    (tmp_path / "real" / "self").symlink_to(".")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real" / "a.txt")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    assert names(tmp_path) == {"real/a.txt"}
    started = time.monotonic()
    resources, notes = discover(tmp_path, follow_symlinks=True)
    assert time.monotonic() - started < 5
    assert {r.display_name for r in resources} == {"real/a.txt", "link.txt"}
    loops = [n for n in notes if n.kind == "symlink-loop"]
    assert len(loops) == 2 and all(n.level is Level.NOTE for n in loops)


def test_fifo_and_sockets_are_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.log")  # opening a FIFO for reading would block forever
    write(tmp_path, "a.log", "x\n")
    resources, notes = discover(tmp_path)
    assert [r.display_name for r in resources] == ["a.log"] and [n.kind for n in notes] == ["special-file"]


def test_size_cap_is_a_note_not_a_silent_skip(tmp_path: Path) -> None:
    write(tmp_path, "small.txt", "x" * 10)
    write(tmp_path, "big.txt", "x" * 2000)
    resources, notes = discover(tmp_path, max_file_size=1000)
    assert [r.display_name for r in resources] == ["small.txt"]
    (note,) = notes
    assert note.kind == "too-large" and note.level is Level.NOTE
    assert "big.txt" in note.message and "2000 bytes" in note.message and "--max-file-size" in note.message


def test_max_depth(tmp_path: Path) -> None:
    for relative in ("0.txt", "a/1.txt", "a/b/2.txt", "a/b/c/3.txt"):
        write(tmp_path, relative, "x\n")
    assert names(tmp_path, max_depth=0) == {"0.txt"}
    assert names(tmp_path, max_depth=2) == {"0.txt", "a/1.txt", "a/b/2.txt"}
    _, notes = discover(tmp_path, max_depth=1)
    (note,) = notes
    assert note.kind == "limit" and "a/b" in note.message and note.message.endswith(".")


# -- what is recorded about a file ----------------------------------------------------------

@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o604])
def test_mode_owner_group_and_age_are_recorded(tmp_path: Path, mode: int) -> None:
    path = write(tmp_path, "f.csv", "x\n", mode=mode)
    old = time.time() - 400 * 86400
    os.utime(path, (old, old))
    (resource,), _ = discover(tmp_path)
    assert resource.mode == mode
    assert resource.owner == pwd.getpwuid(os.getuid()).pw_name
    assert resource.group is not None and resource.metadata["uid"] == os.getuid()
    assert resource.mtime == pytest.approx(old, abs=1)
    assert resource.size == 2 and resource.kind == "file" and resource.uri == path.as_uri()


# -- unreadable items -------------------------------------------------------------------------

def test_vanished_file_becomes_a_notification(tmp_path: Path, detector: Detector) -> None:
    path = write(tmp_path, "gone.csv", f"id\n{RID}\n")
    connector = FilesConnector(str(tmp_path), ScanOptions())
    (resource,), _ = discover(tmp_path)
    path.unlink()
    scan = connector.scan_resource(resource, detector)
    (note,) = scan.notifications
    assert note.kind == "unreadable" and note.exception == "FileNotFoundError"
    assert note.message.startswith("gone.csv: ") and note.message.endswith(".")
    assert not scan.matches


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("cut.log.gz", gzip.compress(f"mobile={MOBILE}\n".encode() * 500)[:60]),
        ("garbage.log.gz", b"\x1f\x8b" + b"not really gzip" * 20),
        ("cut.log.xz", lzma.compress(f"mobile={MOBILE}\n".encode() * 500)[:80]),
        ("cut.log.bz2", bz2.compress(f"mobile={MOBILE}\n".encode() * 500)[:60]),
        ("broken.zip", b"PK\x03\x04" + b"\x00" * 40),
    ],
    ids=["cut-gz", "garbage-gz", "cut-xz", "cut-bz2", "broken-zip"],
)
def test_corrupt_archives_become_notifications_and_the_scan_goes_on(tmp_path: Path, name: str,
                                                                     content: bytes) -> None:
    write(tmp_path, name, content)
    write(tmp_path, "good.log", f"mobile={MOBILE}\n")
    report = run_scan([str(tmp_path)], ScanOptions(jobs=1))
    notes = [n for n in report.notifications if name in n.message]
    assert len(notes) == 1 and notes[0].kind == "corrupt", report.notifications
    assert notes[0].message.endswith(".")
    assert {f.resource.display_name for f in report.findings if f.rule_id == "pii_in_log"} >= {"good.log"}
    assert report.execution_successful


def _scan_kinds_as_unprivileged_user(root: Path) -> list[str]:
    """Scan ``root`` in a forked child that has dropped root (uid/gid 65534, "nobody"), so mode bits
    apply as they do for a scanning service account; returns the notification kinds it saw."""
    # import every plugin and load stdnum's region table before dropping root: they live under /root
    run_scan([str(root / "closed")], ScanOptions(jobs=1))
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.close(reader)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            report = run_scan([str(root)], ScanOptions(jobs=1))
            os.write(writer, json.dumps(sorted(n.kind for n in report.notifications)).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        output = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the unprivileged scan failed"
    return json.loads(output)


def test_permission_denied_file_and_directory() -> None:
    root = Path(tempfile.mkdtemp(prefix="privaudit-perm-"))  # not under pytest's 0700 tmp dir
    try:
        root.chmod(0o755)
        write(root, "readable.csv", f"id\n{RID}\n", mode=0o644)
        write(root, "locked.csv", f"id\n{RID}\n", mode=0o000)
        write(root, "closed/x.csv", f"id\n{RID}\n")
        if os.geteuid() == 0:
            os.chmod(root / "closed", 0o700)  # root owns it: nobody may not enter
            kinds = _scan_kinds_as_unprivileged_user(root)
        else:
            os.chmod(root / "closed", 0o000)
            kinds = sorted(n.kind for n in run_scan([str(root)], ScanOptions(jobs=1)).notifications)
    finally:
        os.chmod(root / "closed", 0o755)
        shutil.rmtree(root)
    assert kinds == ["permission", "permission"]


def test_detection_failure_is_not_blamed_on_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A validator whose own data file cannot be read (stdnum's region table under a 0700 home) is
    the scanner's fault: an internal error, not "Permission denied" on the customer's file."""
    write(tmp_path, "export.csv", f"id\n{RID}\n")

    def unreadable_region_table(value: str) -> bool:
        raise PermissionError(13, "Permission denied", "/opt/venv/stdnum/cn/loc.dat")

    from scanner.registry import RECOGNIZERS

    monkeypatch.setattr(RECOGNIZERS.get("cn_resident_id"), "validate", staticmethod(unreadable_region_table))
    monkeypatch.setattr(scan_module, "_worker_detector", None)  # no validation results cached from other tests
    report = run_scan([str(tmp_path)], ScanOptions(jobs=1))
    (note,) = report.notifications
    assert note.kind == "internal-error" and "detection failed" in note.message, note
    assert not report.execution_successful


# -- encodings --------------------------------------------------------------------------------

ENCODING_CASES = [
    # (file name, bytes, entity -> lines)
    ("utf8.txt", f"客户 张伟\n身份证号：{RID}\n手机 {MOBILE}\n".encode(),
     {"CN_RESIDENT_ID": [2], "CN_MOBILE_NUMBER": [3]}),
    ("utf8-bom.txt", b"\xef\xbb\xbf" + f"身份证号 {RID}\n".encode(), {"CN_RESIDENT_ID": [1]}),
    ("utf16le.txt", f"手机 {MOBILE}\n身份证号：{RID}\n".encode("utf-16"), {"CN_RESIDENT_ID": [2],
                                                                          "CN_MOBILE_NUMBER": [1]}),
    ("utf16be.txt", b"\xfe\xff" + f"说明\n\n身份证号：{RID}\n".encode("utf-16-be"), {"CN_RESIDENT_ID": [3]}),
    ("utf16le-no-bom.csv", f"姓名,身份证号\r\n张伟,{RID}\r\n".encode("utf-16-le"), {"CN_RESIDENT_ID": [2]}),
    ("utf16be-no-bom.txt", f"mobile {MOBILE}\n".encode("utf-16-be"), {"CN_MOBILE_NUMBER": [1]}),
    ("gb18030.txt", f"回访记录：客户王芳，身份证号{RID}，地址变更。\n联系电话{MOBILE2}\n".encode("gb18030"),
     {"CN_RESIDENT_ID": [1], "CN_MOBILE_NUMBER": [2]}),
    ("gbk.csv", f"姓名,身份证号\n王芳,{RID2}\n".encode("gbk"), {"CN_RESIDENT_ID": [2]}),
]


@pytest.mark.parametrize(("name", "content", "expected"), ENCODING_CASES, ids=[c[0] for c in ENCODING_CASES])
def test_encodings(tmp_path: Path, detector: Detector, name: str, content: bytes,
                   expected: dict[str, list[int]]) -> None:
    scan = scan_file(write(tmp_path, name, content), detector)
    assert found(scan) == expected
    assert not scan.notifications and scan.skipped is None


def test_gb18030_id_next_to_its_label_gets_the_field_hint(tmp_path: Path, detector: Detector) -> None:
    scan = scan_file(write(tmp_path, "gb.txt", f"客户身份证号：{RID}\n".encode("gb18030")), detector)
    (match,) = scan.matches
    assert match.field and "身份证号" in match.field
    assert match.evidence == "110105********0012"


# -- rotated logs and archives ------------------------------------------------------------------

LOG = f"2024-11-24T15:30:00Z INFO start\n2024-11-24T15:30:01Z INFO login mobile={MOBILE}\nid={RID}\n".encode()


@pytest.mark.parametrize(
    ("name", "compress"),
    [("app.log.1.gz", gzip.compress), ("app.log.2.bz2", bz2.compress), ("app.log.3.xz", lzma.compress),
     ("misnamed.log", gzip.compress)],  # chosen by magic bytes, not by name
)
def test_rotated_logs_are_decompressed(tmp_path: Path, detector: Detector, name: str,
                                       compress: Callable[[bytes], bytes]) -> None:
    scan = scan_file(write(tmp_path, name, compress(LOG)), detector)
    assert found(scan) == {"CN_MOBILE_NUMBER": [2], "CN_RESIDENT_ID": [3]}
    assert scan.bytes_scanned == len(LOG)


def test_multi_member_gzip_is_read_to_the_end(tmp_path: Path, detector: Detector) -> None:
    scan = scan_file(write(tmp_path, "m.log.gz", gzip.compress(b"x\n" * 10) + gzip.compress(LOG)), detector)
    assert found(scan) == {"CN_MOBILE_NUMBER": [12], "CN_RESIDENT_ID": [13]}


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def encrypt_flag(data: bytes, member: str) -> bytes:
    """Set the 'encrypted' general-purpose bit (APPNOTE 4.4.4 bit 0) in both headers of ``member``."""
    out = bytearray(data)
    encoded = member.encode()
    for signature, flag_at, length_at, name_at in ((b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)):
        index = out.find(signature)
        while index != -1:
            name_len = int.from_bytes(out[index + length_at : index + length_at + 2], "little")
            if bytes(out[index + name_at : index + name_at + name_len]) == encoded:
                out[index + flag_at] |= 0x01
            index = out.find(signature, index + 4)
    return bytes(out)


def test_zip_members_are_resources_with_their_own_uri(tmp_path: Path) -> None:
    write(tmp_path, "exports/batch.zip", make_zip({
        "customers.csv": f"id_card,mobile\n{RID},{MOBILE}\n".encode(),
        "logs/app.log.gz": gzip.compress(LOG),
        "empty/": b"",
    }))
    report = run_scan([str(tmp_path)], ScanOptions(jobs=1))
    by_rule = {(f.rule_id, f.resource.display_name, f.entity_type) for f in report.findings}
    assert ("pii_in_file", "exports/batch.zip!/customers.csv", "CN_RESIDENT_ID") in by_rule
    assert ("pii_in_log", "exports/batch.zip!/logs/app.log.gz", "CN_MOBILE_NUMBER") in by_rule
    member = next(f.resource for f in report.findings if f.resource.display_name.endswith("customers.csv"))
    assert member.uri == (tmp_path / "exports" / "batch.zip").as_uri() + "!/customers.csv"
    assert member.relative_path == "exports/batch.zip" and member.kind == "archive-member"


def test_office_documents_are_read_member_by_member(tmp_path: Path) -> None:
    """An .xlsx is a ZIP archive; its cells are in xl/sharedStrings.xml (ECMA-376 part 1, 18.4)."""
    cells = "".join(f"<si><t>{value}</t></si>" for value in (RID, MOBILE, "张三"))
    write(tmp_path, "exports/customers.xlsx", make_zip({
        "[Content_Types].xml": b"<Types/>",
        "xl/sharedStrings.xml": f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{cells}</sst>'
                                .encode(),
    }))
    report = run_scan([str(tmp_path)], ScanOptions(jobs=1))
    found_in = {(f.resource.display_name, f.entity_type) for f in report.findings if f.rule_id == "pii_in_file"}
    assert found_in == {("exports/customers.xlsx!/xl/sharedStrings.xml", "CN_RESIDENT_ID"),
                        ("exports/customers.xlsx!/xl/sharedStrings.xml", "CN_MOBILE_NUMBER")}


def test_an_archive_under_another_name_is_a_note(tmp_path: Path) -> None:
    write(tmp_path, "backup.bin", make_zip({"c.csv": f"id\n{RID}\n".encode()}))
    report = run_scan([str(tmp_path)], ScanOptions(jobs=1))
    (note,) = report.notifications
    assert note.kind == "nested-archive" and note.level is Level.NOTE and "is a ZIP archive" in note.message


def test_zip_bomb_members_are_skipped_with_a_notification(tmp_path: Path) -> None:
    write(tmp_path, "bomb.zip", make_zip({"zeros.txt": b"0" * (20 * 1024 * 1024), "ok.txt": f"{RID}\n".encode()}))
    resources, notes = discover(tmp_path)
    assert [r.display_name for r in resources] == ["bomb.zip!/ok.txt"]
    (note,) = notes
    assert note.kind == "zip-bomb" and "zeros.txt" in note.message and "ratio" in note.message


def test_zip_member_size_and_count_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "many.zip", make_zip({f"m{i}.txt": os.urandom(64).hex().encode() for i in range(5)},
                                         zipfile.ZIP_STORED))
    monkeypatch.setattr(files_module, "ZIP_MAX_MEMBERS", 3)
    monkeypatch.setattr(files_module, "ZIP_MAX_MEMBER_SIZE", 100)
    resources, notes = discover(tmp_path)
    assert not resources  # 128-byte members are over the 100-byte member cap
    assert sorted(n.kind for n in notes) == ["limit", "zip-bomb", "zip-bomb", "zip-bomb"]


def test_encrypted_zip_member_is_protected(tmp_path: Path, detector: Detector) -> None:
    data = encrypt_flag(make_zip({"secret.csv": b"\x8a\x13" * 50, "plain.txt": b"x\n"}), "secret.csv")
    write(tmp_path, "sealed.zip", data)
    report = run_scan([str(tmp_path)], ScanOptions(jobs=1))
    assert report.targets[0].protected == {"zip-encrypted": 1}
    assert not report.findings and not report.notifications


# -- binaries, encrypted files, masked values -----------------------------------------------------

PROTECTED_CASES = [
    ("export.csv.asc", f"-----BEGIN PGP MESSAGE-----\n\nhQEMA{RID}\n-----END PGP MESSAGE-----\n".encode(), "pgp-armor"),
    ("export.csv.age", b"age-encryption.org/v1\n-> X25519 Zm9vYmFy\n--- bWFj\n" + bytes(range(256)), "age"),
    ("export.age.txt", b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24=\n", "age"),
    ("export.gpg", bytes([0x85, 0x01, 0x0C, 0x03]) + bytes(range(128, 256)) * 8, "pgp-binary"),
]


@pytest.mark.parametrize(("name", "content", "label"), PROTECTED_CASES, ids=[c[0] for c in PROTECTED_CASES])
def test_encrypted_files_are_recorded_protected(tmp_path: Path, detector: Detector, name: str, content: bytes,
                                                label: str) -> None:
    scan = scan_file(write(tmp_path, name, content), detector)
    assert scan.protected == label and not scan.matches and not scan.notifications


BINARY_CASES = [
    ("photo.png", b"\x89PNG\r\n\x1a\n" + f"{RID}".encode() + bytes(200)),
    ("report.pdf", b"%PDF-1.7\n" + f"{RID}\n".encode()),
    ("tool", b"\x7fELF" + bytes(300)),
    ("blob.bin", b"abc\x00def" + f" {MOBILE} ".encode()),
    ("crm.sqlite", b"SQLite format 3\x00" + bytes(100)),
    ("samples.raw", bytes(b for i in range(2000) for b in (i % 30 + 1, 0))),  # 16-bit numbers, not UTF-16
    ("sound.wav", b"RIFF\x24\x08\x00\x00WAVEfmt " + bytes(b for i in range(500) for b in (65 + i % 26, 0))),
]


@pytest.mark.parametrize(("name", "content"), BINARY_CASES, ids=[c[0] for c in BINARY_CASES])
def test_binaries_are_skipped_and_counted(tmp_path: Path, name: str, content: bytes) -> None:
    write(tmp_path, name, content)
    write(tmp_path, "empty.txt", b"")
    report = run_scan([str(tmp_path)], ScanOptions(jobs=1))
    assert not report.findings and not report.notifications
    assert report.targets[0].skipped == {"binary": 1, "empty": 1}


def test_a_copytruncated_log_is_text_despite_its_leading_nuls(tmp_path: Path, detector: Detector) -> None:
    """logrotate's copytruncate leaves the writer's old offset as NULs before the new lines."""
    path = write(tmp_path, "app.log", bytes(200_000) + f"login mobile={MOBILE}\n".encode() + bytes(100) + b"ok\n")
    scan = scan_file(path, detector)
    assert scan.skipped is None and found(scan) == {"CN_MOBILE_NUMBER": [1]}


def test_binary_content_under_a_text_name_is_said(tmp_path: Path) -> None:
    write(tmp_path, "export.csv", bytes(b for i in range(3000) for b in (i % 7 + 1, 65 + i % 26)))
    report = run_scan([str(tmp_path)], ScanOptions(jobs=1))
    (note,) = report.notifications
    assert note.kind == "binary-text" and "control bytes" in note.message and "export.csv" in note.message


def test_masked_values_are_counted_not_found(tmp_path: Path, detector: Detector) -> None:
    text = f"card={CARD[:6]}******{CARD[-4:]} mobile=138****5678 id=110101********123X mail=j***@example.com\n"
    scan = scan_file(write(tmp_path, "gateway.log", text), detector)
    assert not scan.matches
    assert scan.masked.get("CN_MOBILE_NUMBER") == 1 and scan.masked.get("CN_RESIDENT_ID") == 1


# -- field hints ----------------------------------------------------------------------------------

FIELD_CASES = [
    # (file name, content, expected (entity, field) pairs)
    ("hint.csv", f"order_no,mobile,note\n{MOBILE},{MOBILE2},x\n", {("CN_MOBILE_NUMBER", "mobile")}),
    ("hint.tsv", f"身份证号\t流水号\n{RID}\t{MOBILE}\n", {("CN_RESIDENT_ID", "身份证号")}),
    ("quoted.csv", f'"shouji","备注"\n"{MOBILE}","订单"\n', {("CN_MOBILE_NUMBER", "shouji")}),
    ("quoted-comma.csv", f'name,mobile,order_no\n"Zhang, Wei",{MOBILE},20241124\n"Li, ""Na""",{MOBILE2},1\n',
     {("CN_MOBILE_NUMBER", "mobile")}),
    ("hint.json", json.dumps({"orderNo": MOBILE, "shouji": MOBILE2}) + "\n", {("CN_MOBILE_NUMBER", "shouji")}),
    ("hint.jsonl", json.dumps({"traceId": MOBILE}) + "\n" + json.dumps({"sfzh": RID}, ensure_ascii=False) + "\n",
     {("CN_RESIDENT_ID", "sfzh")}),
    ("hint.yaml", f"customer:\n  手机号: {MOBILE}\n  requestId: {MOBILE2}\n", {("CN_MOBILE_NUMBER", "手机号")}),
]


@pytest.mark.parametrize(("name", "content", "expected"), FIELD_CASES, ids=[c[0] for c in FIELD_CASES])
def test_csv_headers_and_json_keys_hint_fields(tmp_path: Path, detector: Detector, name: str, content: str,
                                               expected: set[tuple[str, str]]) -> None:
    scan = scan_file(write(tmp_path, name, content), detector)
    assert {(m.entity_type, m.field) for m in scan.matches} == expected


# -- parallel parts -------------------------------------------------------------------------------

def big_log(lines: int) -> bytes:
    """A log with identifiers at known lines, a few long lines, CRLF and a last line without newline."""
    out = []
    for i in range(lines):
        if i % 97 == 5:
            out.append(f"{i} INFO login mobile={MOBILE}")
        elif i % 131 == 7:
            out.append(f"{i} DEBUG idCard={RID} " + "pad " * (i % 400))
        elif i % 501 == 0:
            out.append(f"{i} TRACE " + "z" * 5000)  # longer than a part: a part may start and end inside it
        else:
            out.append(f"{i} INFO request ok latency_ms={i % 50}")
    return ("\r\n".join(out[: lines // 2]) + "\r\n" + "\n".join(out[lines // 2 :])).encode()


@pytest.mark.parametrize(("suffix", "part_size"), [(".log", 1000), (".log", 4096), (".csv", 3000 * 8)])
def test_split_parts_give_the_same_matches_and_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     detector: Detector, suffix: str, part_size: int) -> None:
    content = big_log(3000)
    if suffix == ".csv":
        content = b"line,mobile\n" + content
    path = write(tmp_path, "big" + suffix, content)
    connector = FilesConnector(str(tmp_path), ScanOptions())
    (resource,), _ = discover(tmp_path)
    whole = connector.scan_resource(resource, detector)
    monkeypatch.setattr(files_module, "PART_SIZE", part_size)
    monkeypatch.setattr(files_module, "SPLIT_THRESHOLD", part_size)
    parts = connector.parts(resource)
    cost = files_module.DELIMITED_COST if suffix == ".csv" else 1
    assert len(parts) == -(-path.stat().st_size // (part_size // cost)) > 20
    scans = [connector.scan_resource(resource, detector, part) for part in parts]
    merged = merge_parts(scans)
    assert merged.occurrences == whole.occurrences
    assert merged.lines_scanned == whole.lines_scanned == content.count(b"\n")
    assert merged.bytes_scanned == whole.bytes_scanned == len(content)
    assert [(m.entity_type, m.line, m.field) for m in merged.matches] == [
        (m.entity_type, m.line, m.field) for m in whole.matches
    ]


def test_delimited_exports_are_cut_finer_than_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A customer export costs far more per byte than a log: its parts are smaller, so the last part
    of a dense export does not keep one core busy while the other idles."""
    monkeypatch.setattr(files_module, "PART_SIZE", 64 * 1024)
    monkeypatch.setattr(files_module, "SPLIT_THRESHOLD", 64 * 1024)
    content = big_log(12000)
    write(tmp_path, "app.log", content)
    write(tmp_path, "export.csv", b"line,mobile\n" + content)
    connector = FilesConnector(str(tmp_path), ScanOptions())
    counts = {r.display_name: len(connector.parts(r)) for r in discover(tmp_path)[0]}
    assert counts["export.csv"] >= 6 * counts["app.log"] >= 6 * 4


def test_run_scan_merges_parts_in_file_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "big.log", big_log(2000))
    whole = run_scan([str(tmp_path)], ScanOptions(jobs=1))
    monkeypatch.setattr(files_module, "PART_SIZE", 2048)
    monkeypatch.setattr(files_module, "SPLIT_THRESHOLD", 2048)
    split = run_scan([str(tmp_path)], ScanOptions(jobs=2))

    def summary(report) -> list:  # type: ignore[no-untyped-def]
        return [(f.rule_id, f.entity_type, f.occurrences, [loc.line for loc in f.locations], f.fingerprint)
                for f in report.findings]

    assert summary(split) == summary(whole) and whole.findings


def test_non_utf8_and_compressed_files_are_not_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files_module, "PART_SIZE", 100)
    monkeypatch.setattr(files_module, "SPLIT_THRESHOLD", 100)
    write(tmp_path, "gb.txt", ("身份证号很长的说明文字" * 50).encode("gb18030"))
    write(tmp_path, "u16.txt", ("mobile " * 100).encode("utf-16"))
    write(tmp_path, "a.log.gz", gzip.compress(b"x" * 1000, compresslevel=0))
    write(tmp_path, "plain.txt", "x\n" * 200)
    connector = FilesConnector(str(tmp_path), ScanOptions())
    counts = {r.display_name: len(connector.parts(r)) for r in discover(tmp_path)[0]}
    assert counts == {"gb.txt": 1, "u16.txt": 1, "a.log.gz": 1, "plain.txt": 4}


# -- bounded memory -----------------------------------------------------------------------------

STREAM_LINE = b"2024-11-24T15:30:00.123Z INFO  order service handled request ok latency_ms=12 path=/api/v1/pay\n"


def test_a_large_rotated_log_streams_in_constant_memory(tmp_path: Path, detector: Detector) -> None:
    """200 MiB of log (as a gzip of repeated members, so the test writes 0.2 MiB) scanned with a
    tracemalloc peak of a few read blocks, independent of the file size."""
    block = STREAM_LINE * (1024 * 1024 // len(STREAM_LINE))
    member = gzip.compress(block, compresslevel=9)
    tail = gzip.compress(f"login mobile={MOBILE}\n".encode())
    with open(tmp_path / "huge.log.gz", "wb") as handle:
        for _ in range(200):
            handle.write(member)
        handle.write(tail)
    (resource,), _ = discover(tmp_path)
    # identical 1 MiB blocks compress ~1000:1, past the default expansion-ratio cap: raised here
    connector = FilesConnector(str(tmp_path), ScanOptions(max_expansion_ratio=2000))
    tracemalloc.start()
    try:
        scan = connector.scan_resource(resource, detector)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not scan.notifications
    assert scan.bytes_scanned == 200 * len(block) + len(f"login mobile={MOBILE}\n")
    assert found(scan) == {"CN_MOBILE_NUMBER": [200 * block.count(b"\n") + 1]}
    assert peak < 12 * 1024 * 1024, f"peak {peak / 1048576:.1f} MiB"


def test_a_large_plain_file_streams_in_constant_memory(tmp_path: Path, detector: Detector) -> None:
    path = tmp_path / "big.log"
    block = STREAM_LINE * (1024 * 1024 // len(STREAM_LINE))
    with open(path, "wb") as handle:
        for _ in range(48):
            handle.write(block)
    (resource,), _ = discover(tmp_path, max_file_size=1 << 40)
    connector = FilesConnector(str(tmp_path), ScanOptions())
    tracemalloc.start()
    try:
        scans = [connector.scan_resource(resource, detector, part) for part in connector.parts(resource)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(scans) == -(-48 * 1024 * 1024 // files_module.PART_SIZE)  # > SPLIT_THRESHOLD: cut in parts
    assert merge_parts(scans).lines_scanned == 48 * block.count(b"\n")
    assert peak < 12 * 1024 * 1024, f"peak {peak / 1048576:.1f} MiB"


def test_scanner_never_writes_to_what_it_scans(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", f"id\n{RID}\n", mode=0o640)
    write(tmp_path, "b.log.gz", gzip.compress(LOG))
    write(tmp_path, "c.zip", make_zip({"x.csv": f"id\n{RID}\n".encode()}))
    before = {p: (p.stat().st_mtime_ns, p.stat().st_mode, p.read_bytes()) for p in tmp_path.rglob("*")}
    run_scan([str(tmp_path)], ScanOptions(jobs=1))
    after = {p: (p.stat().st_mtime_ns, p.stat().st_mode, p.read_bytes()) for p in tmp_path.rglob("*")}
    assert after == before
    assert stat.S_IMODE((tmp_path / "a.csv").stat().st_mode) == 0o640


def test_globs_match_names_that_are_not_utf8(tmp_path: Path) -> None:
    with open(os.path.join(os.fsencode(tmp_path), b"\xff\xfe.csv"), "wb") as handle:
        handle.write(b"x\n")
    write(tmp_path, "b.log", "x\n")
    resources, notes = discover(tmp_path, exclude=("*.log",))
    assert len(resources) == 1 and not notes
