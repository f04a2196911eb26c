"""The files connector on a hostile share: special files, decompression bombs, lines without end,
names that are not UTF-8, files that change under the scan, exports without a header row.

Each case was reproduced on the build before (hang, 4 GiB read, 650 MB per worker, lost file,
silent partial result, raw value taken for a column name); each test asserts the behaviour a
security team relies on instead. Anything that could hang runs under a deadline.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import struct
import tarfile
import threading
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import connectors.files as files_module
from connectors.files import FilesConnector, path_of
from scanner.connector import ReadError, ScanOptions
from scanner.demo import resident_id
from scanner.detection.engine import Detector
from scanner.model import Notification, Resource, ResourceScan
from scanner.scan import run_scan

RID = resident_id("11010519850312001")
MOBILE = "13812345678"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


def within(seconds: float, work: Callable[[], Any]) -> Any:
    """``work()``, failing the test instead of hanging it when it blocks."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s"
    if errors:
        raise errors[0]
    return result[0]


def discover(root: Path, **options: Any) -> tuple[list[Resource], list[Notification]]:
    items = list(FilesConnector(str(root), ScanOptions(**options)).discover())
    return [i for i in items if isinstance(i, Resource)], [i for i in items if isinstance(i, Notification)]


def scan_all(root: Path, detector: Detector, **options: Any) -> tuple[list[ResourceScan], list[Notification]]:
    connector = FilesConnector(str(root), ScanOptions(**options))
    resources, notes = discover(root, **options)
    return [connector.scan_resource(r, detector) for r in resources], notes


def entities(scan: ResourceScan) -> dict[str, int]:
    return dict(scan.occurrences)


# -- special files -------------------------------------------------------------------------------


def test_special_files_found_while_walking_are_notified(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.log")
    (tmp_path / "a.log").write_text("x\n")
    resources, notes = within(10, lambda: discover(tmp_path))
    assert [r.display_name for r in resources] == ["a.log"]
    (note,) = notes
    assert note.kind == "special-file" and "pipe.log is a named pipe (FIFO)" in note.message


def test_a_fifo_as_the_target_is_notified_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.log")
    resources, notes = within(10, lambda: discover(tmp_path / "pipe.log"))
    assert not resources and [n.kind for n in notes] == ["special-file"]


@pytest.mark.parametrize("replacement", ["fifo", "device"])
def test_a_file_replaced_by_a_special_file_after_listing_is_refused(
    tmp_path: Path, detector: Detector, replacement: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"id\n{RID}\n")
    (resource,), _ = discover(tmp_path)
    path.unlink()
    if replacement == "fifo":
        os.mkfifo(path)
    else:
        os.symlink("/dev/zero", path)  # a symlink planted where a file was: refused, never followed
    scan = within(10, lambda: FilesConnector(str(tmp_path), ScanOptions()).scan_resource(resource, detector))
    (note,) = scan.notifications
    assert note.kind in ("special-file", "changed") and not scan.matches


def test_a_whole_scan_over_a_fifo_swapped_in_finishes(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "ok.csv").write_text(f"id_card\n{RID}\n")
    report = within(60, lambda: run_scan([str(tmp_path)], ScanOptions(jobs=2)))
    assert {f.entity_type for f in report.findings} == {"CN_RESIDENT_ID"}
    assert [n.kind for n in report.notifications] == ["special-file"]


# -- decompression bombs -------------------------------------------------------------------------

BOMB_TAIL = f"mobile={MOBILE}\n".encode()


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress], ids=["gz", "bz2", "xz"])
def test_a_compressed_bomb_stops_at_the_ratio_cap_and_keeps_what_was_read(
    tmp_path: Path, detector: Detector, compress: Callable[[bytes], bytes]
) -> None:
    body = f"login id_card={RID}\n".encode() + b"\0" * 0 + b"a" * (64 * 1024 * 1024) + b"\n" + BOMB_TAIL
    (tmp_path / "app.log.gz").write_bytes(compress(body))  # the suffix lies for bz2/xz: magic bytes decide
    (scan,), _ = scan_all(tmp_path, detector)
    (note,) = scan.notifications
    assert note.kind == "decompression-bomb" and "--max-expansion-ratio" in note.message
    assert entities(scan) == {"CN_RESIDENT_ID": 1}  # read before the cap
    assert scan.bytes_scanned < 8 * 1024 * 1024  # stopped soon after the first MiB, not at 64 MiB


def test_the_expanded_size_cap_is_counted_while_decompressing(tmp_path: Path, detector: Detector) -> None:
    lines = b"".join(f"{i:08d} {os.urandom(24).hex()}\n".encode() for i in range(60_000))  # ~3.5 MiB, ~2:1
    (tmp_path / "app.log.xz").write_bytes(lzma.compress(lines + BOMB_TAIL))
    (scan,), _ = scan_all(tmp_path, detector, max_expanded_size=2 * 1024 * 1024)
    (note,) = scan.notifications
    assert note.kind == "decompression-bomb" and "--max-expanded-size" in note.message
    assert not scan.matches and scan.bytes_scanned <= 2 * 1024 * 1024
    (scan,), _ = scan_all(tmp_path, detector)
    assert not scan.notifications and entities(scan) == {"CN_MOBILE_NUMBER": 1}


def zip_with_duplicated_entries(copies: int, payload: bytes) -> bytes:
    """One stored member whose central-directory entry is repeated ``copies`` times (APPNOTE 4.3.12):
    every entry points at the same local header, so one stream would be scanned ``copies`` times."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.txt", payload)
    raw = data.getvalue()
    cd_at = raw.rfind(b"PK\x01\x02")
    eocd_at = raw.rfind(b"PK\x05\x06")
    entry = raw[cd_at:eocd_at]
    central = entry + b"".join(entry.replace(b"data.txt", f"d{i:07d}".encode()) for i in range(1, copies))
    eocd = bytearray(raw[eocd_at:])
    struct.pack_into("<HHII", eocd, 8, copies, copies, len(central), cd_at)
    return raw[:cd_at] + central + bytes(eocd)


def test_duplicated_zip_entries_are_scanned_once(tmp_path: Path, detector: Detector) -> None:
    payload = "".join(f"{i} {RID}\n" for i in range(1000)).encode()
    (tmp_path / "dup.zip").write_bytes(zip_with_duplicated_entries(100, payload))
    resources, notes = within(20, lambda: discover(tmp_path))
    assert len(resources) == 1 and len(notes) == 99
    assert {n.kind for n in notes} == {"zip-bomb"} and all("overlapping" in n.message for n in notes)
    scan = FilesConnector(str(tmp_path), ScanOptions()).scan_resource(resources[0], detector)
    assert entities(scan) == {"CN_RESIDENT_ID": 1000} and not scan.notifications


@pytest.mark.parametrize(("name", "content"), [
    ("inner.zip", b"PK\x03\x04" + b"\0" * 100),
    ("notes.txt", b"PK\x03\x04" + b"\0" * 100),  # a disguised archive: magic bytes decide
    ("backup.tar", b""),
])
def test_archives_inside_archives_are_notified_not_called_binary(
    tmp_path: Path, detector: Detector, name: str, content: bytes
) -> None:
    if name.endswith(".tar"):
        content = make_tar({"customers.csv": f"id_card\n{RID}\n".encode()})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
        archive.writestr("ok.txt", f"{RID}\n")
    (tmp_path / "outer.zip").write_bytes(buffer.getvalue())
    scans, notes = scan_all(tmp_path, detector)
    kinds = [n.kind for n in notes] + [n.kind for s in scans for n in s.notifications]
    assert kinds == ["nested-archive"]
    assert sum(entities(s).get("CN_RESIDENT_ID", 0) for s in scans) == 1
    assert not any(s.skipped == "binary" for s in scans)


def make_tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_compressed_tar_is_notified(tmp_path: Path, detector: Detector) -> None:
    (tmp_path / "backup.tar.gz").write_bytes(gzip.compress(make_tar({"c.csv": f"{RID}\n".encode()})))
    (scan,), _ = scan_all(tmp_path, detector)
    assert [n.kind for n in scan.notifications] == ["nested-archive"] and scan.skipped is None


# -- lines without end ---------------------------------------------------------------------------


def test_a_huge_line_is_scanned_in_bounded_memory_and_its_values_found(tmp_path: Path, detector: Detector) -> None:
    cut = files_module.BLOCK_SIZE
    line = bytearray(b"|" * (40 * 1024 * 1024))
    for at in (cut - 9, 3 * cut - 1, 7 * cut + 5):  # IDs across block cuts, in a line without separators
        line[at : at + 18] = RID.encode()
    (tmp_path / "dump.txt").write_bytes(bytes(line) + b"\n")
    tracemalloc.start()
    try:
        (scan,), _ = scan_all(tmp_path, detector)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert entities(scan) == {"CN_RESIDENT_ID": 3}
    assert sorted(m.start for m in scan.matches) == [cut - 9, 3 * cut - 1, 7 * cut + 5]
    assert scan.bytes_scanned == len(line) + 1
    assert peak < 24 * 1024 * 1024, f"peak {peak / 1048576:.1f} MiB for a 40 MiB line"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    offsets=st.lists(st.integers(0, 3 * 4096 - 18), min_size=1, max_size=6),
    filler=st.sampled_from([b"|", b"7", b" ", b"-", b'"']),
    parts=st.booleans(),
)
def test_a_value_across_any_cut_is_found_exactly_once(
    tmp_path_factory: pytest.TempPathFactory, detector: Detector, offsets: list[int], filler: bytes, parts: bool
) -> None:
    """Blocks of 4 KiB (patched) so that every cut position is reachable; digits as filler make
    false neighbours, which must not create or hide matches either."""
    chosen: list[int] = []
    for at in sorted(offsets):
        if not chosen or at >= chosen[-1] + 19:
            chosen.append(at)
    data = bytearray(filler * (3 * 4096 + 100))
    for at in chosen:
        data[at : at + 18] = RID.encode()
        if filler == b"7":  # keep the ID separate from a run of digits
            data[at - 1 : at] = b"|" if at else data[at - 1 : at]
            data[at + 18 : at + 19] = b"|"
    root = tmp_path_factory.mktemp("cut")
    (root / "one.txt").write_bytes(bytes(data))
    original = files_module.BLOCK_SIZE, files_module.SPLIT_THRESHOLD, files_module.PART_SIZE
    files_module.BLOCK_SIZE = 4096
    if parts:
        files_module.SPLIT_THRESHOLD, files_module.PART_SIZE = 5000, 5000
    try:
        connector = FilesConnector(str(root), ScanOptions())
        (resource,), _ = discover(root)
        from scanner.connector import merge_parts

        scan = merge_parts([connector.scan_resource(resource, detector, p) for p in connector.parts(resource)])
    finally:
        files_module.BLOCK_SIZE, files_module.SPLIT_THRESHOLD, files_module.PART_SIZE = original
    starts = sorted(m.start for m in scan.matches if m.entity_type == "CN_RESIDENT_ID")
    assert starts == chosen


# -- names that are not UTF-8 --------------------------------------------------------------------


def test_a_file_name_with_invalid_utf8_is_read_and_addressed_by_its_bytes(tmp_path: Path, detector: Detector) -> None:
    raw_name = b"\xff\xfe" + "客户".encode("gb18030") + b".csv"
    with open(os.path.join(os.fsencode(tmp_path), raw_name), "wb") as handle:
        handle.write(f"id_card\n{RID}\n".encode())
    (scan,), notes = scan_all(tmp_path, detector)
    assert not notes and entities(scan) == {"CN_RESIDENT_ID": 1}
    assert "%FF%FE" in scan.resource.uri and scan.resource.uri.isascii()
    assert os.fsencode(path_of(scan.resource.uri)).endswith(raw_name)


# -- files that change under the scan ------------------------------------------------------------


def test_a_file_truncated_after_listing_is_notified_not_called_empty(tmp_path: Path, detector: Detector) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"id_card\n{RID}\n")
    (resource,), _ = discover(tmp_path)
    path.write_bytes(b"")
    scan = FilesConnector(str(tmp_path), ScanOptions()).scan_resource(resource, detector)
    (note,) = scan.notifications
    assert note.kind == "changed" and "changed while it was scanned" in note.message and scan.skipped is None


def test_a_file_appended_to_while_read_keeps_its_findings_and_is_notified(tmp_path: Path, detector: Detector) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(f"mobile={MOBILE}\n".encode() + b"x" * (3 * files_module.BLOCK_SIZE) + b"\n")
    (resource,), _ = discover(tmp_path)
    connector = FilesConnector(str(tmp_path), ScanOptions())
    chunks = connector.read(resource)
    first = next(chunks)
    with open(path, "ab") as handle:
        handle.write(b"more\n")
    with pytest.raises(ReadError) as raised:
        list(chunks)
    assert raised.value.kind == "changed" and MOBILE.encode() in first.data


# -- exports without a header row ----------------------------------------------------------------


@pytest.mark.parametrize(("first_row", "header"), [
    (f"{RID},{MOBILE},Zhang San", None),
    ("1,Zhang San,2024-01-02", None),
    ("alice@example.com,x", None),
    ("id_card,mobile,name", ("id_card", "mobile", "name")),
    ("address_line_2,phone,", ("address_line_2", "phone", "")),
])
def test_a_first_row_of_values_is_data_not_a_header(tmp_path: Path, first_row: str, header: tuple | None) -> None:
    content = f"{first_row}\n{RID},{MOBILE},x\n".encode()
    chunk = next(files_module._chunks(io.BytesIO(content), "export.csv"))
    assert chunk.fields == header
