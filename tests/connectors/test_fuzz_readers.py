"""Property-based tests of the readers of untrusted content: delimited, JSON and JSONL field
attribution, the archive and compressed-stream readers on generated malformed input, and encoding
detection.

Each property: scanning returns (no exception escapes ``scan_resource``: problems are
notifications), transcoded chunks are valid UTF-8, and no planted raw value appears in what is returned (field
names, evidence, messages).
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import json
import lzma
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import connectors.files as files_module
from connectors._remote import zip_chunks
from connectors.files import FilesConnector
from scanner.connector import ContentProtected, ContentSkipped, ReadError, ScanOptions
from scanner.demo import card_from, resident_id
from scanner.detection.engine import Detector
from scanner.model import Resource, ResourceScan

VALUES = [resident_id("11010519850312001"), "13812345678", card_from("622202100011223344"), "zhang.wei@example.com"]
# FUZZ_EXAMPLES=5000 for a longer campaign than the suite's
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                             HealthCheck.too_slow])


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


def scan_bytes(root: Path, name: str, content: bytes, detector: Detector) -> ResourceScan:
    for old in root.iterdir():
        old.unlink()
    (root / name).write_bytes(content)
    connector = FilesConnector(str(root), ScanOptions())
    resources = [r for r in connector.discover() if isinstance(r, Resource)]
    scans = [connector.scan_resource(r, detector) for r in resources]
    merged = ResourceScan(resource=Resource(uri="file:///x", kind="file", display_name="x", connector="files"))
    for scan in scans:
        merged.matches.extend(scan.matches)
        merged.notifications.extend(scan.notifications)
    return merged


def no_raw_values(scan: ResourceScan) -> None:
    for match in scan.matches:
        for value in VALUES:
            assert value not in (match.field or ""), f"field name {match.field!r} is a raw value"
            assert value not in match.evidence


value = st.sampled_from(VALUES)
word = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
cell = st.one_of(value, word, st.integers().map(str))


@st.composite
def delimited(draw: st.DrawFn) -> bytes:
    sep = draw(st.sampled_from([",", "\t", "|", ";"]))
    rows = draw(st.lists(st.lists(cell, min_size=1, max_size=5), min_size=1, max_size=8))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return newline.join(sep.join(row) for row in rows).encode(draw(st.sampled_from(["utf-8", "gb18030", "utf-16"])),
                                                              "replace")


json_value = st.recursive(st.one_of(value, word, st.integers(), st.none(), st.booleans()),
                          lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                  st.dictionaries(st.one_of(value, word), inner, max_size=4)),
                          max_leaves=12)


@SETTINGS
@given(content=delimited(), suffix=st.sampled_from([".csv", ".tsv", ".psv"]))
def test_delimited_field_attribution(tmp_path_factory: pytest.TempPathFactory, detector: Detector, content: bytes,
                                     suffix: str) -> None:
    no_raw_values(scan_bytes(tmp_path_factory.mktemp("d"), f"export{suffix}", content, detector))


@SETTINGS
@given(documents=st.lists(json_value, min_size=1, max_size=5), lines=st.booleans())
def test_json_and_jsonl_field_attribution(tmp_path_factory: pytest.TempPathFactory, detector: Detector,
                                          documents: list, lines: bool) -> None:
    text = "\n".join(json.dumps(d, ensure_ascii=False) for d in documents) if lines else json.dumps(documents)
    no_raw_values(scan_bytes(tmp_path_factory.mktemp("j"), "events.jsonl" if lines else "dump.json",
                             text.encode(), detector))


def _archive(kind: str, payload: bytes) -> bytes:
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("a/customers.csv", payload)
            archive.writestr("b.log.gz", gzip.compress(payload))
        return buffer.getvalue()
    return {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[kind](payload)


@SETTINGS
@given(
    kind=st.sampled_from(["zip", "gz", "bz2", "xz"]),
    payload=delimited(),
    mutations=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_malformed_archives_never_escape(tmp_path_factory: pytest.TempPathFactory, detector: Detector, kind: str,
                                         payload: bytes, mutations: list, cut: float | None) -> None:
    data = bytearray(_archive(kind, payload))
    for where, byte in mutations:
        data[int(where * len(data))] = byte
    if cut is not None:
        data = data[: int(cut * len(data))]
    scan = scan_bytes(tmp_path_factory.mktemp("a"), f"batch.{kind}", bytes(data), detector)
    no_raw_values(scan)
    for note in scan.notifications:
        assert not any(v in note.message for v in VALUES)


@SETTINGS
@given(kind=st.sampled_from(["zip", "gz"]), payload=delimited(),
       mutations=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8))
def test_remote_archive_reader_raises_only_documented_errors(kind: str, payload: bytes, mutations: list) -> None:
    data = bytearray(_archive(kind, payload))
    for where, byte in mutations:
        data[int(where * len(data))] = byte
    from connectors._remote import stream_chunks

    reader = zip_chunks(io.BytesIO(bytes(data)), "x.zip") if kind == "zip" else stream_chunks(
        io.BytesIO(bytes(data)), "x.log.gz", truncated=True)
    try:
        for _ in reader:
            pass
    except (ReadError, ContentSkipped, ContentProtected):
        pass


@settings(max_examples=EXAMPLES * 2, deadline=None)
@given(head=st.binary(max_size=4096))
def test_encoding_detection_always_names_a_codec_and_reading_raises_only_documented_errors(head: bytes) -> None:
    """Transcoded content is UTF-8; content taken for UTF-8 keeps stray invalid bytes (detection works
    on bytes, and dropping them would shift every offset after them)."""
    encoding = files_module._sniff_encoding(head)
    codecs.lookup(encoding)
    try:
        chunks = list(files_module._chunks(io.BytesIO(head), "blob.txt"))
    except (ContentSkipped, ContentProtected, ReadError):
        return
    if encoding != "utf-8":
        for chunk in chunks:
            chunk.data.decode("utf-8")
