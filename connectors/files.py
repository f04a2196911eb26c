"""Local paths and mounted shares (NFS, SMB/CIFS mounts are local paths to us).

Walks a directory tree without following symlinks unless asked (and then loop-safe by device and
inode), honours include/exclude globs, records each file's mode bits, owner and age (requirements
3, 7 and 8: who can read it and how old it is), and streams content in bounded memory: rotated
logs (.gz/.bz2/.xz) are decompressed on the fly, ZIP archives are opened member by member with
limits against zip bombs, UTF-16 and GB18030/GBK text is transcoded to UTF-8, binaries are skipped
and counted, encrypted files (PGP, age) are recorded as protected.

Large uncompressed files are split into line-aligned parts that worker processes scan in
parallel; a 5 GB log needs no more memory than a few read blocks.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import fnmatch
import grp
import gzip
import io
import lzma
import os
import pwd
import stat
import zipfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from scanner.connector import (
    Connector,
    ContentProtected,
    ContentSkipped,
    ReadError,
    ScanOptions,
    WorkPart,
)
from scanner.detection.protected import looks_encrypted_file
from scanner.model import ARCHIVE_MEMBER, ARCHIVE_SEPARATOR, Chunk, Notification, Resource
from scanner.registry import CONNECTORS

BLOCK_SIZE = 1 * 1024 * 1024
# Large files are cut into about-equal parts of at most PART_SIZE that workers scan in parallel:
# small enough that the last part to finish leaves no core idle for long, large enough that the
# per-part cost (open, seek, sniff, result pickling) stays negligible.
PART_SIZE = 4 * 1024 * 1024
SPLIT_THRESHOLD = 6 * 1024 * 1024
# Delimited exports cost 2-40x more per byte than logs (bench: 25 MiB/s for a transactions export,
# ~1 MiB/s for a customer export where every row holds an e-mail, phone, SSN and IBAN, each validated
# and attributed to its column), and which one a file is shows only while scanning it. Their parts
# are 1/8 the size (512 KiB), so no part of a dense export is left running on one core at the end.
DELIMITED_COST = 8
ZIP_MAX_MEMBERS = 10_000
ZIP_MAX_MEMBER_SIZE = 1024 * 1024 * 1024
ZIP_MAX_RATIO = 200
SNIFF_SIZE = 64 * 1024

DELIMITED = {".csv": b",", ".tsv": b"\t", ".psv": b"|"}
COMPRESSED = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
BINARY_MAGIC = (
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"\x7fELF", b"MZ", b"\xca\xfe\xba\xbe", b"SQLite format 3\x00",
    b"\x00asm", b"RIFF", b"OggS", b"fLaC", b"ID3", b"\x1a\x45\xdf\xa3", b"Rar!", b"7z\xbc\xaf",
)


def _glob_match(relative: str, patterns: tuple[str, ...]) -> bool:
    """A pattern with ``/`` matches the relative path, one without matches the file name."""
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        pattern = pattern.rstrip("/") or pattern  # ``tmp/`` names a directory: the same as ``tmp``
        target = relative if "/" in pattern else name
        if fnmatch.fnmatchcase(target, pattern) or (
            pattern.startswith("**/") and fnmatch.fnmatchcase(relative, pattern[3:])
        ):
            return True
    return False


@lru_cache(maxsize=1024)
def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


@lru_cache(maxsize=1024)
def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def path_of(target: str) -> Path:
    if target.startswith("file://"):
        return Path(unquote(urlparse(target).path))
    return Path(target)


@CONNECTORS.register
class FilesConnector(Connector):
    """Scans local and mounted directory trees and single files."""

    name = "files"
    schemes = ("file", "")
    permissions = (
        "read (r) on every file to scan",
        "read and search (r-x) on every directory to walk",
    )
    description = "Local paths and mounted NFS/SMB shares."

    def __init__(self, target: str, options: ScanOptions) -> None:
        super().__init__(target, options)
        self.root = path_of(target).absolute()

    @property
    def root_uri(self) -> str:
        base = self.root if self.root.is_dir() else self.root.parent
        return base.as_uri().rstrip("/") + "/"

    # -- discovery ------------------------------------------------------------------------------

    def discover(self) -> Iterator[Resource | Notification]:
        if not self.root.exists():
            yield Notification(
                message=f"Target {self.root} does not exist.", resource_uri=self.root.as_uri(),
                kind="missing",
            )
            return
        if self.root.is_file():
            yield from self._file_resources(self.root, self.root.name)
            return
        seen_dirs: set[tuple[int, int]] = set()
        stack: list[tuple[Path, int]] = [(self.root, 0)]
        while stack:
            directory, depth = stack.pop()
            try:
                dir_stat = directory.stat()
                key = (dir_stat.st_dev, dir_stat.st_ino)
                if key in seen_dirs:
                    yield Notification(
                        message=f"Directory {directory} was already visited (symlink loop); skipped.",
                        resource_uri=directory.as_uri(), kind="symlink-loop", level=_note(),
                    )
                    continue
                seen_dirs.add(key)
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError as exc:
                yield Notification(
                    message=f"Directory {directory} could not be listed: {exc.strerror or exc}.",
                    resource_uri=directory.as_uri(),
                    kind="permission" if isinstance(exc, PermissionError) else "unreadable",
                    exception=type(exc).__name__,
                )
                continue
            subdirs = []
            for entry in entries:
                path = Path(entry.path)
                relative = path.relative_to(self.root).as_posix()
                try:
                    is_link = entry.is_symlink()
                    if is_link and not self.options.follow_symlinks:
                        continue
                    if entry.is_dir(follow_symlinks=self.options.follow_symlinks):
                        if self.options.exclude and _glob_match(relative, self.options.exclude):
                            continue
                        if depth + 1 <= self.options.max_depth:
                            subdirs.append((path, depth + 1))
                        else:
                            yield Notification(
                                message=(
                                    f"Directory {relative} is deeper than the maximum depth of "
                                    f"{self.options.max_depth}; not scanned."
                                ),
                                resource_uri=path.as_uri(), kind="limit", level=_note(),
                            )
                        continue
                    if not entry.is_file(follow_symlinks=self.options.follow_symlinks):
                        continue
                except OSError as exc:
                    yield Notification(
                        message=f"{relative} could not be examined: {exc.strerror or exc}.",
                        resource_uri=path.as_uri(), kind="unreadable", exception=type(exc).__name__,
                    )
                    continue
                if self.options.include and not _glob_match(relative, self.options.include):
                    continue
                if self.options.exclude and _glob_match(relative, self.options.exclude):
                    continue
                yield from self._file_resources(path, relative)
            stack.extend(reversed(subdirs))

    def _file_resources(self, path: Path, relative: str) -> Iterator[Resource | Notification]:
        try:
            st = path.stat()
        except OSError as exc:
            yield Notification(
                message=f"{relative} could not be examined: {exc.strerror or exc}.",
                resource_uri=path.as_uri(), kind="unreadable", exception=type(exc).__name__,
            )
            return
        resource = Resource(
            uri=path.as_uri(),
            kind="file",
            display_name=relative,
            connector=self.name,
            root_uri=self.root_uri,
            relative_path=relative,
            size=st.st_size,
            mtime=st.st_mtime,
            mode=stat.S_IMODE(st.st_mode),
            owner=_user(st.st_uid),
            group=_group(st.st_gid),
            metadata={"uid": st.st_uid, "gid": st.st_gid},
        )
        if st.st_size > self.options.max_file_size:
            yield Notification(
                message=(
                    f"{relative} is {st.st_size} bytes, over the size cap of {self.options.max_file_size} bytes; "
                    "not scanned (raise --max-file-size to include it)."
                ),
                resource_uri=resource.uri, kind="too-large", level=_note(),
            )
            return
        if path.suffix.lower() == ".zip":
            yield from self._zip_members(path, resource)
            return
        yield resource

    def _zip_members(self, path: Path, archive: Resource) -> Iterator[Resource | Notification]:
        try:
            with zipfile.ZipFile(path) as zf:
                infos = [i for i in zf.infolist() if not i.is_dir()]
        except (OSError, zipfile.BadZipFile) as exc:
            yield Notification(
                message=f"{archive.display_name} is not a readable ZIP archive: {exc}.",
                resource_uri=archive.uri, kind="corrupt", exception=type(exc).__name__,
            )
            return
        if len(infos) > ZIP_MAX_MEMBERS:
            yield Notification(
                message=(
                    f"{archive.display_name} has {len(infos)} members; "
                    f"only the first {ZIP_MAX_MEMBERS} are scanned."
                ),
                resource_uri=archive.uri, kind="limit",
            )
            infos = infos[:ZIP_MAX_MEMBERS]
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            member_uri = f"{archive.uri}{ARCHIVE_SEPARATOR}{info.filename}"
            if info.file_size > ZIP_MAX_MEMBER_SIZE or ratio > ZIP_MAX_RATIO:
                yield Notification(
                    message=(
                        f"{archive.display_name}{ARCHIVE_SEPARATOR}{info.filename} expands to {info.file_size} bytes "
                        f"(ratio {ratio:.0f}:1); skipped as a possible zip bomb."
                    ),
                    resource_uri=member_uri, kind="zip-bomb",
                )
                continue
            yield Resource(
                uri=member_uri,
                kind=ARCHIVE_MEMBER,
                display_name=f"{archive.display_name}{ARCHIVE_SEPARATOR}{info.filename}",
                connector=self.name,
                root_uri=archive.root_uri,
                relative_path=archive.relative_path,
                logical_name=f"{archive.relative_path}{ARCHIVE_SEPARATOR}{info.filename}",
                logical_kind="member",
                size=info.file_size,
                mtime=archive.mtime,
                mode=archive.mode,
                owner=archive.owner,
                group=archive.group,
                metadata={**archive.metadata, "member": info.filename, "encrypted": bool(info.flag_bits & 0x1)},
            )

    # -- reading --------------------------------------------------------------------------------

    def parts(self, resource: Resource) -> list[WorkPart | None]:
        cost = DELIMITED_COST if Path(resource.uri).suffix.lower() in DELIMITED else 1
        part_size, threshold = PART_SIZE // cost, SPLIT_THRESHOLD // cost
        if resource.kind != "file" or (resource.size or 0) <= threshold:
            return [None]
        name = resource.uri.lower()
        if any(name.endswith(ext) for ext in COMPRESSED) or name.endswith(".zip"):
            return [None]
        try:
            with open(path_of(resource.uri), "rb") as handle:
                head = handle.read(SNIFF_SIZE)
        except OSError:
            return [None]
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _sniff_encoding(head) != "utf-8":
            return [None]
        size = resource.size or 0
        count = -(-size // part_size)
        bounds = [size * i // count for i in range(count + 1)]
        return [WorkPart(i, bounds[i], bounds[i + 1]) for i in range(count)]

    def read(self, resource: Resource, part: WorkPart | None = None) -> Iterator[Chunk]:
        inner_name = resource.metadata.get("member") or resource.relative_path or resource.uri
        if resource.kind == ARCHIVE_MEMBER:
            if resource.metadata.get("encrypted"):
                raise ContentProtected("zip-encrypted")
            yield from self._read_member(resource, inner_name)
            return
        path = path_of(resource.uri)
        with open(path, "rb") as raw:
            if part is not None and part.index > 0:
                yield from self._read_part(raw, resource, part)
                return
            stream, inner_name = _decompressing(raw, inner_name)
            limit = part.end if part is not None else None
            yield from _chunks(stream, inner_name, limit=limit)

    def _read_member(self, resource: Resource, inner_name: str) -> Iterator[Chunk]:
        archive_path = path_of(resource.archive_uri or resource.uri)
        try:
            with zipfile.ZipFile(archive_path) as zf, zf.open(resource.metadata["member"]) as member:
                stream, inner_name = _decompressing(member, inner_name)
                yield from _chunks(stream, inner_name)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
            raise ReadError(f"archive member could not be read: {exc}", kind="corrupt") from exc

    def _read_part(self, raw: BinaryIO, resource: Resource, part: WorkPart) -> Iterator[Chunk]:
        """Lines whose first byte lies in [start, end): skip the line that began before ``start``."""
        header = None
        if Path(resource.uri).suffix.lower() in DELIMITED:
            raw.seek(0)
            header = raw.readline()
        raw.seek(part.start - 1)
        if raw.read(1) != b"\n":
            raw.readline()
        start = raw.tell()
        if start >= part.end:
            return  # a line longer than the part began before it: every byte here belongs to that line
        yield from _chunks(raw, resource.uri, limit=part.end, header=header, first_offset=start)


def _note():  # type: ignore[no-untyped-def]
    from scanner.model import Level

    return Level.NOTE


def _decompressing(raw: BinaryIO, name: str) -> tuple[BinaryIO, str]:
    """Wrap ``raw`` in a streaming decompressor chosen by magic bytes; return the inner name."""
    head = raw.peek(6)[:6] if hasattr(raw, "peek") else b""
    if not head:
        head = raw.read(6)
        raw.seek(0)
    lower = name.lower()
    for ext in COMPRESSED:
        if lower.endswith(ext):
            lower = lower[: -len(ext)]
    try:
        if head.startswith(b"\x1f\x8b"):
            return gzip.GzipFile(fileobj=raw), lower  # type: ignore[return-value]
        if head.startswith(b"BZh"):
            return bz2.BZ2File(raw), lower  # type: ignore[return-value]
        if head.startswith(b"\xfd7zXZ\x00"):
            return lzma.LZMAFile(raw), lower  # type: ignore[return-value]
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise ReadError(f"compressed stream is corrupt: {exc}", kind="corrupt") from exc
    return raw, name.lower()


def _sniff_encoding(head: bytes) -> str:
    """UTF-8 when the head decodes as UTF-8 (allowing a cut final character), else GB18030 if it fits."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    bomless = _bomless_utf16(head)
    if bomless:
        return bomless
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:
            return "utf-8"
    try:
        head.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    return best.encoding if best is not None else "utf-8"


def _bomless_utf16(head: bytes) -> str | None:
    """UTF-16 without a byte-order mark (some Windows exports): ASCII characters (digits, separators,
    newlines) leave a NUL in every other byte, always on the same side; binaries have NULs anywhere."""
    sample = head[:4096]
    pairs = len(sample) // 2
    if pairs < 8:
        return None
    even, odd = sample[0 : pairs * 2 : 2].count(0), sample[1 : pairs * 2 : 2].count(0)
    if odd >= pairs // 4 and even == 0:
        encoding = "utf-16-le"
    elif even >= pairs // 4 and odd == 0:
        encoding = "utf-16-be"
    else:
        return None
    text = sample[: pairs * 2].decode(encoding, "replace")
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
    return encoding if printable >= 0.9 * len(text) else None  # arrays of 16-bit numbers are not text


def _looks_binary(head: bytes, encoding: str) -> bool:
    if head.startswith(BINARY_MAGIC):
        return True
    if encoding.startswith("utf-16"):
        return False
    return b"\x00" in head[:8192]


def _chunks(
    stream: BinaryIO,
    name: str,
    *,
    limit: int | None = None,
    header: bytes | None = None,
    first_offset: int = 0,
) -> Iterator[Chunk]:
    """Stream ``stream`` as line-aligned UTF-8 chunks of about ``BLOCK_SIZE`` bytes."""
    try:
        head = stream.read(SNIFF_SIZE)
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise ReadError(f"content could not be read: {exc}", kind="corrupt") from exc
    if first_offset == 0:
        if not head:
            raise ContentSkipped("empty")
        label = looks_encrypted_file(head)
        if label:
            raise ContentProtected(label)
    encoding = _sniff_encoding(head)
    if first_offset == 0 and _looks_binary(head, encoding):
        raise ContentSkipped("binary")
    decoder = None if encoding == "utf-8" else codecs.getincrementaldecoder(encoding)(errors="replace")
    suffix = Path(name).suffix.lower()
    delimiter = DELIMITED.get(suffix)
    fields: tuple[str, ...] | None = None
    layout = "text"
    if delimiter is not None:
        layout = "delimited"
        header_line = header if header is not None else head.split(b"\n", 1)[0]
        if decoder is not None and header is None:
            header_line = head.decode(encoding, "replace").split("\n", 1)[0].encode("utf-8")
        fields = _parse_header(header_line, delimiter)
    position = first_offset
    line_offset = 0
    byte_offset = first_offset  # bytes of the resource before ``data`` (a part starts mid-file)
    pending = head
    done = False
    while True:
        if limit is not None and position + len(pending) >= limit:
            # the part ends inside ``pending``: keep through the end of the line holding byte ``limit - 1``
            cut = pending.find(b"\n", max(limit - position - 1, 0))
            if cut == -1:
                more = stream.readline()
                pending += more
                cut = len(pending) - 1
            pending = pending[: cut + 1]
            done = True
        if not done:
            # never read past a part's end: the lines after it belong to the next part
            want = BLOCK_SIZE if limit is None else min(BLOCK_SIZE, limit - position - len(pending))
            try:
                block = stream.read(want)
            except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as exc:
                raise ReadError(f"content could not be read: {exc}", kind="corrupt") from exc
            if not block:
                done = True
            else:
                pending += block
                if limit is not None and position + len(pending) >= limit:
                    continue  # cut at the end of the line holding the part's last byte
                if len(pending) < BLOCK_SIZE and limit is None:
                    continue
        if done:
            data, pending = pending, b""
        else:
            cut = pending.rfind(b"\n")
            if cut == -1:
                cut = _soft_cut(pending)
            data, pending = pending[: cut + 1], pending[cut + 1 :]
        position += len(data)
        text = data if decoder is None else decoder.decode(data, final=done).encode("utf-8")
        if text:
            yield Chunk(
                data=text, line_offset=line_offset, byte_offset=byte_offset, layout=layout, fields=fields,
                delimiter=delimiter or b",",
            )
            line_offset += text.count(b"\n")
            byte_offset += len(text)
        if done:
            return


def _soft_cut(data: bytes) -> int:
    """Where to cut a block with no newline: at the last space or punctuation, else anywhere."""
    for sep in (b" ", b"\t", b",", b";"):
        cut = data.rfind(sep, max(0, len(data) - 4096))
        if cut != -1:
            return cut
    return len(data) - 1


def _parse_header(line: bytes, delimiter: bytes) -> tuple[str, ...]:
    text = line.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r\n")
    try:
        row = next(csv.reader(io.StringIO(text), delimiter=delimiter.decode()))
    except (csv.Error, StopIteration):
        return ()
    return tuple(cell.strip() for cell in row)
