"""Streaming helpers shared by the remote connectors (S3, SFTP).

Remote content goes through exactly the same decoding path as local files (``connectors.files``:
gzip/bzip2/xz, encodings, binary and encryption sniffing, CSV headers); this module only adds
what remote reads need on top of it:

* :class:`TruncatedTolerant` — a byte-range GET of a large compressed object ends mid-stream by
  design; the decompressor's "ended before the end-of-stream marker" is then the expected end of
  the sample, not corruption;
* :func:`zip_chunks` — ZIP archives need random access (the central directory is at the end), so a
  remote archive is read into memory (bounded by the caller) and its members streamed one by one
  with the same zip-bomb limits as local archives;
* :func:`stream_chunks` — the one entry point both connectors call.

The module name starts with ``_`` so the connector registry does not import it as a plug-in.
"""

from __future__ import annotations

import io
import lzma
import zipfile
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from connectors._streams import CappedStream, CountingReader, DecompressionLimits
from connectors.files import ZIP_ERRORS, ZIP_MAX_MEMBERS, _chunks, _decompressing, zip_member_problems
from scanner.connector import ContentProtected, ContentSkipped, ReadError
from scanner.model import Chunk

URI_SAFE = "/!$&'()*+,;=:@-._~"


def quote_path(path: str) -> str:
    """Percent-encode a key or remote path for use in a resource URI (``#``/``?``/spaces escaped).

    URIs are fingerprint identities and SARIF parses them with ``urlsplit``; a raw ``#`` in an
    object key would otherwise be taken for a fragment and silently truncate the identity.
    """
    return quote(path, safe=URI_SAFE)


class TruncatedTolerant(io.RawIOBase):
    """Wrap a decompressing stream whose input was deliberately cut short (a sampled prefix).

    ``gzip``/``bz2``/``lzma`` raise ``EOFError`` when the compressed input ends before the
    end-of-stream marker; for a byte-range sample that is simply the end of what we chose to
    read, so it is turned into a normal end of file.
    """

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self._inner = inner
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._eof:
            return 0
        try:
            data = self._inner.read(len(buffer))
        except (EOFError, lzma.LZMAError):
            self._eof = True
            return 0
        n = len(data)
        buffer[:n] = data
        return n


def zip_chunks(data: BinaryIO, name: str) -> Iterator[Chunk]:
    """Chunks of every text member of an in-memory ZIP archive, line numbers running on.

    Binary, empty and encrypted members are skipped (a ZIP of images is not an error); members
    that exceed the zip-bomb limits of the file connector are skipped too.
    """
    counted = CountingReader(data)
    try:
        archive = zipfile.ZipFile(counted)
    except ZIP_ERRORS as exc:
        raise ReadError(f"not a readable ZIP archive: {exc}", kind="corrupt") from exc
    lines = 0
    offset = 0
    produced = False
    protected = False
    with archive:
        infos = [i for i in archive.infolist() if not i.filename.endswith("/")][:ZIP_MAX_MEMBERS]
        for info in (info for info, problem in zip_member_problems(infos) if problem is None):
            if info.flag_bits & 0x1:
                protected = True
                continue
            for chunk in _member_chunks(archive, info, counted):
                produced = True
                chunk.line_offset += lines
                chunk.byte_offset += offset
                yield chunk
                lines += chunk.data.count(b"\n")
                offset += len(chunk.data) - chunk.repeated
    if not produced:
        raise ContentProtected("zip-encrypted") if protected else ContentSkipped("binary")


def _member_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, counted: CountingReader) -> Iterator[Chunk]:
    """The chunks of one archive member, decompressed within the zip-bomb limits (``counted`` counts the
    archive's bytes it consumes); none when it is not text to scan (binary, empty, encrypted content, an
    archive in the archive). A member that cannot be read makes the archive unreadable."""
    try:
        with archive.open(info) as member:
            counted.count = 0
            consumed = lambda: counted.count  # noqa: E731
            content = CappedStream(member, consumed, DecompressionLimits())  # type: ignore[arg-type]
            stream, inner = _decompressing(content, info.filename, consumed=consumed)  # type: ignore[arg-type]
            yield from _chunks(stream, inner, nested=True)
    except (ContentSkipped, ContentProtected):
        return
    except ReadError as exc:
        if exc.kind != "nested-archive":
            raise
    except ZIP_ERRORS as exc:
        raise ReadError(f"archive member {info.filename} could not be read: {exc}", kind="corrupt") from exc


def stream_chunks(raw: BinaryIO, name: str, *, truncated: bool = False) -> Iterator[Chunk]:
    """Decode ``raw`` (a remote object's bytes) exactly as the file connector decodes a file."""
    stream, inner = _decompressing(raw, name)
    if truncated and stream is not raw:
        stream = io.BufferedReader(TruncatedTolerant(stream))  # type: ignore[assignment]
    yield from _chunks(stream, inner)
