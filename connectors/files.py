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

import bisect
import bz2
import codecs
import csv
import grp
import gzip
import hashlib
import io
import lzma
import os
import pwd
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlparse

from connectors._packages import InstalledFiles
from connectors._streams import (
    CappedStream,
    CountingReader,
    DecompressionLimits,
    open_regular,
    special_kind,
)
from scanner.connector import (
    FILE_LIMITS,
    Connector,
    ContentProtected,
    ContentSkipped,
    ReadError,
    ScanOptions,
    WorkPart,
)
from scanner.detection.fields import looks_like_value
from scanner.detection.protected import looks_encrypted_file
from scanner.globs import matches
from scanner.model import ARCHIVE_MEMBER, ARCHIVE_SEPARATOR, CarriedGroup, Chunk, Level, Notification, Resource
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
# What reading a corrupt stream or archive raises (zipfile alone: BadZipFile, NotImplementedError for
# unknown versions and methods, RuntimeError for encryption, IndexError/KeyError/ValueError for
# malformed names and headers; found by tests/connectors/test_fuzz_readers.py)
_STREAM_ERRORS = (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, zlib.error)
ZIP_ERRORS = (*_STREAM_ERRORS, NotImplementedError, RuntimeError, IndexError, KeyError, ValueError)

DELIMITED = {".csv": b",", ".tsv": b"\t", ".psv": b"|"}
COMPRESSED = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
BINARY_MAGIC = (
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"\x7fELF", b"MZ", b"\xca\xfe\xba\xbe", b"SQLite format 3\x00",
    b"\x00asm", b"RIFF", b"OggS", b"fLaC", b"ID3", b"\x1a\x45\xdf\xa3", b"Rar!", b"7z\xbc\xaf",
)


def _glob_match(relative: str, patterns: tuple[str, ...], is_dir: bool = False) -> bool:
    """gitignore semantics (:mod:`scanner.globs`): kept under this name for the remote connectors."""
    return matches(relative, patterns, is_dir=is_dir)


IGNORE_FILE = ".privauditignore"


def _ignore_file_patterns(path: Path) -> tuple[str, ...]:
    """The patterns of a target's ignore file (gitignore syntax; blank lines and ``#`` comments skipped)."""
    try:
        lines = path.read_text("utf-8", "replace").splitlines()
    except OSError:
        return ()
    return tuple(line for line in (raw.rstrip() for raw in lines) if line and not line.startswith("#"))


@lru_cache(maxsize=2048)
def account_name(lookup: Callable[[int], tuple], number: int) -> str:
    """The name of user or group ``number`` (``lookup``: ``pwd.getpwuid`` or ``grp.getgrgid``, whose entries
    start with the name), or the number itself when this host has no such account (a file on a share
    written by another host's user)."""
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def _group_signature(entries: list[os.DirEntry], settings: bytes) -> str | None:
    """What says a directory's listing is as it was: every entry's name and kind, and every file's
    device, inode, size, mode, mtime_ns and ctime_ns (ctime: a file changed back within the same second
    is still seen), plus the walk's settings. None for a directory holding a symlink (what it points
    to can change without any of this changing)."""
    digest = hashlib.blake2b(settings, digest_size=20)
    for entry in entries:
        if entry.is_symlink():
            return None
        name = os.fsencode(entry.name)
        if entry.is_dir(follow_symlinks=False):
            digest.update(b"d\0%b\n" % name)
            continue
        st = entry.stat(follow_symlinks=False)
        digest.update(b"f\0%b\0%d:%d:%d:%d:%d:%d\n" % (name, st.st_dev, st.st_ino, st.st_size, st.st_mode,
                                                        st.st_mtime_ns, st.st_ctime_ns))
    return digest.hexdigest()


def file_uri(path: Path | str) -> str:
    """``Path.as_uri()`` of an absolute POSIX path without pathlib's parsing (called once per file walked):
    ``file://`` and the name's bytes percent-encoded, ``/`` kept."""
    return "file://" + quote_from_bytes(os.fsencode(path), safe="/")


def path_of(target: str) -> Path:
    """The path a ``file://`` URI (or a bare path) names. URIs percent-encode the name's bytes
    (POSIX names are bytes, not always UTF-8), so they are decoded back to those exact bytes."""
    return Path(local_name(target))


def local_name(target: str) -> str:
    """:func:`path_of` as a string (read once per file: no URL or path parsing for our own URIs)."""
    if target.startswith("file:///") and "?" not in target and "#" not in target:
        return os.fsdecode(unquote_to_bytes(target[7:]))  # what file_uri wrote
    if target.startswith("file://"):
        return os.fsdecode(unquote_to_bytes(urlparse(target).path))
    return target


@CONNECTORS.register
class FilesConnector(Connector):
    """Scans local and mounted directory trees and single files."""

    name = "files"

    store = "file-share"

    report_key = "file"
    labels = {"en": "Files", "zh": "文件"}
    config_key = "path"
    target_options = FILE_LIMITS
    schemes = ("file", "")
    permissions = (
        "read (r) on every file to scan",
        "read and search (r-x) on every directory to walk",
    )
    description = "Local paths and mounted NFS/SMB shares."

    def __init__(self, target: str, options: ScanOptions) -> None:
        super().__init__(target, options)
        self.root = path_of(target).absolute()
        self._ignored: tuple[str, ...] = ()  # the root's .privauditignore patterns
        self._installed = InstalledFiles(self.root)

    @cached_property
    def root_uri(self) -> str:
        base = self.root if self.root.is_dir() else self.root.parent
        return base.as_uri().rstrip("/") + "/"

    # -- discovery ------------------------------------------------------------------------------

    def discover(self) -> Iterator[Resource | Notification | CarriedGroup]:
        if not self.root.exists():
            yield Notification(
                message=f"Target {self.root} does not exist.", resource_uri=self.root.as_uri(),
                kind="missing",
            )
            return
        if not self.root.is_dir():
            yield from self._file_resources(self.root, self.root.name)
            return
        self._ignored = _ignore_file_patterns(self.root / IGNORE_FILE)
        seen_dirs: set[tuple[int, int]] = set()
        stack: list[tuple[Path, int]] = [(self.root, 0)]
        self._third_party_skipped = self._packaged_skipped = 0
        yield from self._walk(stack, seen_dirs)
        skipped = (
            (self._third_party_skipped, "third-party or documentation files and directories (the policy's "
             "locations.third_party: package docs, site-packages, node_modules, .git, licences, changelogs) were "
             "not scanned"),
            (self._packaged_skipped, "files installed by the system's package manager (dpkg), configuration files "
             "excepted, were not scanned as third-party software"),
        )
        yield from (Notification(message=f"{count} {what}; --include-third-party scans them.",
                                 resource_uri=self.root.as_uri(), kind="third-party", level=Level.NOTE, count=count)
                    for count, what in skipped if count)

    def _walk(
        self, stack: list[tuple[Path, int]], seen_dirs: set[tuple[int, int]]
    ) -> Iterator[Resource | Notification | CarriedGroup]:
        settings = self._walk_settings()
        while stack:
            directory, depth = stack.pop()
            entries = yield from self._list(directory, seen_dirs)
            subdirs: list[tuple[Path, int]] = []
            signature = _group_signature(entries, settings) if self.groups is not None else None
            group_uri = file_uri(directory)
            carried = self.groups.unchanged(group_uri, signature) if self.groups and signature else None
            if carried is not None:
                yield carried.summary
                yield from self._carried_entries(entries, depth, subdirs, carried)
            else:
                plain = yield from self._entries(entries, depth, subdirs, group_uri)
                if signature is not None and plain is not None and self.groups is not None:
                    self.groups.walked(group_uri, signature, plain)
            stack.extend(reversed(subdirs))

    def _walk_settings(self) -> bytes:
        """What decides which of a directory's files are resources, besides the files themselves."""
        options = self.options
        return repr((options.include, options.exclude, self._ignored, options.third_party, options.max_file_size,
                     options.follow_symlinks, str(self.root))).encode("utf-8", "surrogateescape")

    def _entries(self, entries: list[os.DirEntry], depth: int, subdirs: list[tuple[Path, int]],
                 group_uri: str) -> Generator[Resource | Notification, None, int | None]:
        """List a directory's entries; return how many plain files became resources, or None when
        anything else came of its files (a note, an archive, a file left out as third-party) — such a
        directory is listed in full every time."""
        plain: int | None = 0
        prefix = len(str(self.root).rstrip("/")) + 1
        for position, entry in enumerate(entries):
            skipped = self._third_party_skipped + self._packaged_skipped
            is_file = not entry.is_dir()
            for found in self._guarded_entry(entry, prefix, depth, subdirs, position):
                if is_file and plain is not None and (isinstance(found, Notification) or found.kind != "file"
                                                      or found.uri.rpartition("/")[0] != group_uri):
                    plain = None
                elif is_file and plain is not None:
                    plain += 1
                yield found
            if is_file and skipped != self._third_party_skipped + self._packaged_skipped:
                plain = None
        return plain

    def _carried_entries(self, entries: list[os.DirEntry], depth: int, subdirs: list[tuple[Path, int]],
                         carried: Any) -> Iterator[Resource | Notification]:
        """An unchanged directory: its subdirectories, and only the files that had something in them
        (by their position in the listing, which the unchanged signature guarantees)."""
        prefix = len(str(self.root).rstrip("/")) + 1
        for position, entry in enumerate(entries):
            if position in carried.positions or entry.is_dir():
                yield from self._guarded_entry(entry, prefix, depth, subdirs, position)

    def _guarded_entry(self, entry: os.DirEntry, prefix: int, depth: int, subdirs: list[tuple[Path, int]],
                       position: int) -> Iterator[Resource | Notification]:
        path = entry.path
        relative = path[prefix:]
        try:
            yield from self._entry(entry, path, relative, depth, subdirs, position)
        except OSError as exc:
            yield Notification(
                message=f"{relative} could not be examined: {exc.strerror or exc}.",
                resource_uri=file_uri(path), kind="unreadable", exception=type(exc).__name__,
            )
        except Exception as exc:  # one odd entry never costs the rest of the target
            yield Notification(
                message=f"{relative} could not be listed: {type(exc).__name__}: {exc}.",
                resource_uri=file_uri(path), level=Level.ERROR, kind="internal-error",
                exception=type(exc).__name__,
            )

    def _entry(self, entry: os.DirEntry, path: str, relative: str, depth: int,
               subdirs: list[tuple[Path, int]], position: int) -> Iterator[Resource | Notification]:
        """One directory entry: a subdirectory to walk, a file's resources, or why neither."""
        kind = self._entry_kind(entry)
        if self._is_third_party(path, kind == "dir"):
            self._third_party_skipped += 1
            return
        if kind == "dir":
            if _glob_match(relative, self.options.exclude + self._ignored, is_dir=True):
                return
            if depth + 1 <= self.options.max_depth:
                subdirs.append((Path(path), depth + 1))
            else:
                yield Notification(
                    message=f"Directory {relative} is deeper than the maximum depth of {self.options.max_depth}; "
                            "not scanned.",
                    resource_uri=file_uri(path), kind="limit", level=_note(),
                )
            return
        if kind == "skip" or not self._selected(relative):
            return
        if kind != "file":
            yield Notification(message=f"{relative} is {kind}; not read.", resource_uri=file_uri(path),
                               kind="special-file", level=_note())
            return
        if self.options.third_party and path in self._installed:
            self._packaged_skipped += 1
            return
        yield from self._file_resources(path, relative, position)

    def _list(
        self, directory: Path, seen_dirs: set[tuple[int, int]]
    ) -> Generator[Notification, None, list[os.DirEntry]]:
        """The entries of ``directory`` by name, or none (with a notification) if it cannot be
        listed or was already visited through a symlink."""
        try:
            dir_stat = directory.stat()
            key = (dir_stat.st_dev, dir_stat.st_ino)
            if key in seen_dirs:
                yield Notification(
                    message=f"Directory {directory} was already visited (symlink loop); skipped.",
                    resource_uri=directory.as_uri(), kind="symlink-loop", level=_note(),
                )
                return []
            seen_dirs.add(key)
            return sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            yield Notification(
                message=f"Directory {directory} could not be listed: {exc.strerror or exc}.",
                resource_uri=directory.as_uri(),
                kind="permission" if isinstance(exc, PermissionError) else "unreadable",
                exception=type(exc).__name__,
            )
            return []

    def _entry_kind(self, entry: os.DirEntry) -> str:
        """``dir``, ``file``, ``skip`` (a symlink not followed) or, in words, a special file's kind."""
        follow = self.options.follow_symlinks
        if entry.is_symlink() and not follow:
            return "skip"
        if entry.is_dir(follow_symlinks=follow):
            return "dir"
        if entry.is_file(follow_symlinks=follow):
            return "file"
        return special_kind(entry.stat(follow_symlinks=follow).st_mode) or "not a regular file"

    def _is_third_party(self, path: Path | str, is_dir: bool) -> bool:
        """Whether ``path`` is in a third-party tree: globs match the full path (``**/share/doc/**`` must
        match whether the target is ``/usr`` or ``/usr/share``); a directory matches as the files in it."""
        if not self.options.third_party:
            return False
        return _glob_match(str(path), self.options.third_party, is_dir=is_dir)

    def _selected(self, relative: str) -> bool:
        if self.options.include and not _glob_match(relative, self.options.include):
            return False
        return not _glob_match(relative, self.options.exclude + self._ignored)

    def _file_resources(self, path: Path | str, relative: str,
                        position: int | None = None) -> Iterator[Resource | Notification]:
        try:
            st = os.stat(path)
        except OSError as exc:
            yield Notification(
                message=f"{relative} could not be examined: {exc.strerror or exc}.",
                resource_uri=file_uri(path), kind="unreadable", exception=type(exc).__name__,
            )
            return
        words = special_kind(st.st_mode)
        if words is not None:
            yield Notification(
                message=f"{relative} is {words}; not read.", resource_uri=file_uri(path), kind="special-file",
                level=_note(),
            )
            return
        resource = Resource(
            uri=file_uri(path),
            kind="file",
            display_name=relative,
            connector=self.name,
            root_uri=self.root_uri,
            relative_path=relative,
            size=st.st_size,
            mtime=st.st_mtime,
            mode=stat.S_IMODE(st.st_mode),
            owner=account_name(pwd.getpwuid, st.st_uid),
            group=account_name(grp.getgrgid, st.st_gid),
            # what --state compares to tell an unchanged file (scanner.state.change_key)
            metadata={"uid": st.st_uid, "gid": st.st_gid, "position": position,
                      "change": (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)},
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
        if os.path.basename(path).lower().endswith(ZIP_FORMATS):
            yield from self._zip_members(Path(path), resource)
            return
        yield resource

    def _zip_members(self, path: Path, archive: Resource) -> Iterator[Resource | Notification]:
        try:
            raw, _ = open_regular(path, follow_symlinks=self.options.follow_symlinks)
            with raw, zipfile.ZipFile(raw) as zf:
                infos = [i for i in zf.infolist() if not i.filename.endswith("/")]
        except ReadError as exc:
            yield Notification(message=f"{archive.display_name} {exc}.", resource_uri=archive.uri, kind=exc.kind)
            return
        except ZIP_ERRORS as exc:
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
        for info, problem in zip_member_problems(infos):
            member_uri = f"{archive.uri}{ARCHIVE_SEPARATOR}{info.filename}"
            if problem is not None:
                kind, words = problem
                yield Notification(
                    message=f"{archive.display_name}{ARCHIVE_SEPARATOR}{info.filename} {words}.",
                    resource_uri=member_uri, kind=kind, level=_note() if kind == "nested-archive" else Level.WARNING,
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
                metadata={**archive.metadata, "member": info.filename, "member_offset": info.header_offset,
                          "encrypted": bool(info.flag_bits & 0x1)},
            )

    # -- reading --------------------------------------------------------------------------------

    def parts(self, resource: Resource) -> list[WorkPart | None]:
        if resource.kind != "file" or (resource.size or 0) <= SPLIT_THRESHOLD // DELIMITED_COST:
            return [None]  # (the smallest threshold, delimited exports': most files stop here, cheaply)
        cost = DELIMITED_COST if Path(resource.uri).suffix.lower() in DELIMITED else 1
        part_size, threshold = PART_SIZE // cost, SPLIT_THRESHOLD // cost
        if (resource.size or 0) <= threshold:
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

    @property
    def limits(self) -> DecompressionLimits:
        return DecompressionLimits.of(self.options)

    def read(self, resource: Resource, part: WorkPart | None = None) -> Iterator[Chunk]:
        inner_name = resource.metadata.get("member") or resource.relative_path or resource.uri
        if resource.kind == ARCHIVE_MEMBER:
            if resource.metadata.get("encrypted"):
                raise ContentProtected("zip-encrypted")
            yield from self._read_member(resource, inner_name)
            return
        raw, opened = open_regular(local_name(resource.uri), follow_symlinks=self.options.follow_symlinks)
        with raw:
            changed = _changed_since_listed(resource, opened)
            try:
                if part is not None and part.index > 0:
                    yield from self._read_part(raw, resource, part)
                else:
                    stream, inner_name = _decompressing(raw, inner_name, self.limits)
                    yield from _chunks(stream, inner_name, limit=part.end if part is not None else None,
                                       nested=stream is not raw)
            except ContentSkipped:
                if changed is None:
                    raise
            changed = changed or _changed_while_read(opened, os.fstat(raw.fileno()))
        if changed is not None:
            raise ReadError(f"changed while it was scanned ({changed}); findings are from what could be read",
                            kind="changed")

    def _read_member(self, resource: Resource, inner_name: str) -> Iterator[Chunk]:
        archive_path = path_of(resource.archive_uri or resource.uri)
        raw, _ = open_regular(archive_path, follow_symlinks=self.options.follow_symlinks)
        counted = CountingReader(raw)
        try:
            with raw, zipfile.ZipFile(counted) as zf:
                info = _member_info(zf, resource)
                with zf.open(info) as member:
                    counted.count = 0
                    consumed = lambda: counted.count  # noqa: E731
                    content: BinaryIO = member
                    if info.compress_type != zipfile.ZIP_STORED:
                        content = CappedStream(member, consumed, self.limits)  # type: ignore[assignment]
                    stream, inner_name = _decompressing(content, inner_name, self.limits, consumed=consumed)
                    yield from _chunks(stream, inner_name, nested=True)
        except ZIP_ERRORS as exc:
            raise ReadError(f"archive member could not be read: {exc}", kind="corrupt") from exc

    def _read_part(self, raw: BinaryIO, resource: Resource, part: WorkPart) -> Iterator[Chunk]:
        """Lines whose first byte lies in [start, end): skip the line that began before ``start``."""
        header = None
        if Path(resource.uri).suffix.lower() in DELIMITED:
            raw.seek(0)
            header = raw.readline(SNIFF_SIZE)
        raw.seek(part.start - 1)
        if raw.read(1) != b"\n" and not _skip_line(raw, part.end):
            return  # a line longer than the part began before it: every byte here belongs to that line
        start = raw.tell()
        if start >= part.end:
            return
        yield from _chunks(raw, resource.uri, limit=part.end, header=header, first_offset=start)


def _member_info(zf: zipfile.ZipFile, resource: Resource) -> zipfile.ZipInfo:
    """The entry a member resource stands for: by its local header offset when known (names can repeat)."""
    offset = resource.metadata.get("member_offset")
    for info in zf.infolist():
        if info.filename == resource.metadata["member"] and offset in (None, info.header_offset):
            return info
    raise KeyError(f"no member {resource.metadata['member']!r} at offset {offset}")


def _skip_line(raw: BinaryIO, stop: int) -> bool:
    """Move past the next newline without holding the line in memory; ``False`` if none comes before ``stop``."""
    while raw.tell() < stop:
        block = raw.read(min(BLOCK_SIZE, stop - raw.tell()))
        if not block:
            return False
        newline = block.find(b"\n")
        if newline != -1:
            raw.seek(newline + 1 - len(block), os.SEEK_CUR)
            return True
    return False


def _changed_since_listed(resource: Resource, opened: os.stat_result) -> str | None:
    """Why the file opened is not the one listed (its parts were planned from the listed size)."""
    if resource.size is not None and opened.st_size != resource.size:
        return f"{resource.size} bytes when listed, {opened.st_size} when opened"
    if resource.mtime is not None and opened.st_mtime != resource.mtime:
        return "modified between listing and reading"
    return None


def _changed_while_read(before: os.stat_result, after: os.stat_result) -> str | None:
    if after.st_size != before.st_size:
        return f"{before.st_size} bytes when opened, {after.st_size} after reading"
    if after.st_mtime_ns != before.st_mtime_ns:
        return "modified while it was read"
    return None


def _note() -> Level:
    return Level.NOTE


# Formats that are ZIP archives by another name (Java, Python wheels, Office Open XML, OpenDocument):
# their members are scanned like a .zip's (an .xlsx export's sharedStrings.xml holds its cells)
ZIP_FORMATS = (".zip", ".jar", ".war", ".ear", ".whl", ".apk", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp",
               ".epub")
NESTED_ARCHIVE_SUFFIXES = (*ZIP_FORMATS, ".7z", ".rar", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz")
# Magic bytes of archives that content may turn out to be (a zip inside a gz, a tar)
NESTED_ARCHIVE_MAGIC = ((b"PK\x03\x04", "ZIP"), (b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"),
                        (b"7z\xbc\xaf", "7z"), (b"Rar!", "RAR"))
TAR_MAGIC_OFFSET = 257


def zip_member_problems(infos: list[zipfile.ZipInfo]) -> Iterator[tuple[zipfile.ZipInfo, tuple[str, str] | None]]:
    """Each member with why it is not scanned, or ``None``.

    Entries whose local headers coincide or whose data overlaps an earlier entry's are refused:
    they make one compressed stream count many times (the overlapping-entry bomb). Archives inside
    the archive are not opened (archives are read one level deep) and say so. The stated sizes are
    only a first filter: expansion is counted while decompressing (``connectors._streams``).
    """
    spans: list[tuple[int, int]] = []  # (header offset, end of its data) of accepted entries, sorted
    for info in infos:
        start = info.header_offset
        end = start + 30 + len(info.orig_filename.encode("utf-8", "surrogateescape")) + info.compress_size
        ratio = info.file_size / max(info.compress_size, 1)
        at = bisect.bisect_left(spans, (start, end))
        if (at > 0 and spans[at - 1][1] > start) or (at < len(spans) and spans[at][0] < end):
            yield info, ("zip-bomb", "shares its data with another entry of the archive (overlapping entries); "
                         "skipped as a possible zip bomb")
        elif info.file_size > ZIP_MAX_MEMBER_SIZE or ratio > ZIP_MAX_RATIO:
            yield info, ("zip-bomb", f"states it expands to {info.file_size} bytes (ratio {ratio:.0f}:1); "
                         "skipped as a possible zip bomb")
        elif info.filename.lower().endswith(NESTED_ARCHIVE_SUFFIXES):
            yield info, ("nested-archive", "is an archive inside an archive; not opened (archives are read one "
                         "level deep: extract it to scan its content)")
        else:
            spans.insert(at, (start, end))
            yield info, None


def _decompressing(
    raw: BinaryIO,
    name: str,
    limits: DecompressionLimits | None = None,
    *,
    consumed: Callable[[], int] | None = None,
) -> tuple[BinaryIO, str]:
    """Wrap ``raw`` in a streaming decompressor chosen by magic bytes; return the inner name.

    The decompressed stream is capped (``connectors._streams.CappedStream``) against the compressed
    bytes actually consumed: ``consumed`` counts them at the outermost layer (a ZIP archive's file)
    when ``raw`` is itself decompressed content, else ``raw`` is counted here.
    """
    if not hasattr(raw, "peek"):
        raw = io.BufferedReader(raw)  # type: ignore[arg-type]
    try:
        head = raw.peek(6)[:6]  # type: ignore[attr-defined]
    except _STREAM_ERRORS as exc:
        raise ReadError(f"content could not be read: {exc}", kind="corrupt") from exc
    lower = name.lower()
    for ext in COMPRESSED:
        if lower.endswith(ext):
            lower = lower[: -len(ext)]
    opener = _DECOMPRESSORS.get(next((m for m in _DECOMPRESSORS if head.startswith(m)), b""))
    if opener is None:
        return raw, name.lower()
    source: BinaryIO = raw
    if consumed is None:
        counted = CountingReader(raw)
        source, consumed = counted, lambda: counted.count  # type: ignore[assignment]
    try:
        inner = opener(source)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise ReadError(f"compressed stream is corrupt: {exc}", kind="corrupt") from exc
    return CappedStream(inner, consumed, limits or DecompressionLimits()), lower  # type: ignore[return-value]


_DECOMPRESSORS: dict[bytes, Callable[[BinaryIO], BinaryIO]] = {
    b"\x1f\x8b": lambda raw: gzip.GzipFile(fileobj=raw),  # type: ignore[dict-item]
    b"BZh": lambda raw: bz2.BZ2File(raw),  # type: ignore[dict-item]
    b"\xfd7zXZ\x00": lambda raw: lzma.LZMAFile(raw),  # type: ignore[dict-item]  # noqa: SIM115
}


def _archive_format(head: bytes) -> str | None:
    """The archive format ``head`` starts, by magic bytes (``None`` for anything else)."""
    for magic, name in NESTED_ARCHIVE_MAGIC:
        if head.startswith(magic):
            return name
    return "tar" if head[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 5] == b"ustar" else None


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


# Bytes that do not occur in text (NUL and C0 controls other than tab, newlines, form feed, backspace, ESC)
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\f\v\b\x1b")
_NUL_FILLER = re.compile(rb"\x00{64,}")
BINARY_SHARE = 0.10
TEXT_SUFFIXES = (".log", ".txt", ".csv", ".tsv", ".psv", ".json", ".jsonl", ".ndjson", ".xml", ".yaml", ".yml",
                 ".sql", ".md", ".out", ".err", ".html", ".htm")


def _binary_share(head: bytes, encoding: str) -> float:
    """The share of bytes text never holds in the first 8 KiB, 1.0 for known binary formats.

    Runs of NULs are filler, not binary: ``logrotate``'s ``copytruncate`` leaves the writer's old
    offset as a sparse run of NULs before the new lines, and one NUL must not hide a log."""
    if head.startswith(BINARY_MAGIC):
        return 1.0
    if encoding.startswith("utf-16"):
        return 0.0
    sample = _NUL_FILLER.sub(b"", head[:8192])
    if not sample:
        return 0.0
    controls = (len(sample) - len(sample.translate(None, _CONTROL))) / len(sample)
    # NULs outside filler runs weigh ten times: text has none, structs and numbers have many
    return min(1.0, controls + 9 * sample.count(0) / len(sample))


# A line longer than a block is cut inside; the next chunk repeats the cut's last CUT_OVERLAP bytes
# (values up to that long are found whole, by the chunk they start in) and CUT_GUARD more before
# them, so the recognizers' boundary and context checks see what precedes a value.
CUT_OVERLAP = 256
CUT_GUARD = 64


def _chunks(
    stream: BinaryIO,
    name: str,
    *,
    limit: int | None = None,
    header: bytes | None = None,
    first_offset: int = 0,
    nested: bool = False,
) -> Iterator[Chunk]:
    """Stream ``stream`` as line-aligned UTF-8 chunks of at most about ``BLOCK_SIZE`` bytes.

    Memory stays bounded whatever the line length: a line longer than a block is cut inside, with
    an overlap (``Chunk.repeated``, ``own_start``/``own_end``) so that a value across the cut is
    found exactly once. ``nested``: the stream is decompressed content (an archive member, a .gz).
    """
    head = _read(stream, SNIFF_SIZE)
    if first_offset == 0:
        _refuse_unreadable_start(head, nested)
    encoding = _sniff_encoding(head)
    if first_offset == 0:
        _refuse_binary(head, name, encoding)
    decoder = None if encoding == "utf-8" else codecs.getincrementaldecoder(encoding)(errors="replace")
    layout = _layout(name, head, header, encoding)
    line_offset, byte_offset, carry = 0, first_offset, b""
    relative_limit = None if limit is None else limit - first_offset
    pieces = _line_blocks(stream, head, relative_limit)
    for piece, mid_line in _with_final(pieces, decoder):
        text = piece if decoder is None else decoder.decode(piece, final=mid_line is None).encode("utf-8")
        if not text:
            continue
        data = carry + text
        yield _chunk(data, len(carry), line_offset, byte_offset, layout, cut=bool(mid_line))
        line_offset += text.count(b"\n")
        byte_offset += len(text)
        carry = data[-(CUT_OVERLAP + CUT_GUARD) :] if mid_line else b""
    if carry:  # the stream ended right after a cut: the values in the overlap are reported here
        yield _chunk(carry, len(carry), line_offset, byte_offset, layout, cut=False)


def _refuse_unreadable_start(head: bytes, nested: bool) -> None:
    """Raise when a stream's first bytes say it is not text to scan: empty, encrypted, or an archive."""
    if not head:
        raise ContentSkipped("empty")
    label = looks_encrypted_file(head)
    if label:
        raise ContentProtected(label)
    archive = _archive_format(head)
    if archive:
        where = "inside an archive or compressed file" if nested else "under a name that does not say so"
        raise ReadError(f"is a {archive} archive ({where}); not opened: extract it to scan its content",
                        kind="nested-archive", level=Level.NOTE)


def _refuse_binary(head: bytes, name: str, encoding: str) -> None:
    """Raise when a stream's first bytes are binary: skipped, or an error when its name says text."""
    share = _binary_share(head, encoding)
    if share > BINARY_SHARE:
        if name.endswith(TEXT_SUFFIXES) and share < 1.0:
            raise ReadError(f"looks binary ({share:.0%} control bytes in its first 8 KiB) although its name "
                            "says text; not scanned", kind="binary-text")
        raise ContentSkipped("binary")


def _layout(name: str, head: bytes, header: bytes | None, encoding: str) -> dict[str, Any]:
    """The :class:`Chunk` fields that say how a stream's text is laid out: plain text, or delimited (by its
    suffix, the delimiter sniffed) with the column names of its header line."""
    delimiter = DELIMITED.get(Path(name).suffix.lower())
    if delimiter is None:
        return {"layout": "text", "fields": None, "delimiter": b","}
    delimiter = _sniffed_delimiter((header or b"") + head[:8192], encoding, delimiter)
    return {"layout": "delimited", "fields": _header_fields(head, header, delimiter, encoding),
            "delimiter": delimiter or b","}


def _chunk(data: bytes, carried: int, line_offset: int, byte_offset: int, layout: dict[str, Any], *,
           cut: bool) -> Chunk:
    """A chunk of ``data`` (``byte_offset``: where the new bytes after the first ``carried`` start), which
    repeats the last ``carried`` bytes of a line cut before it: it owns the values starting in the last
    ``CUT_OVERLAP`` of those, and, when ``cut`` inside a line itself, not those in its own last ``CUT_OVERLAP``."""
    return Chunk(data=data, line_offset=line_offset, byte_offset=byte_offset - carried, repeated=carried,
                 own_start=max(0, carried - CUT_OVERLAP), own_end=len(data) - CUT_OVERLAP if cut else None, **layout)


def _with_final(
    pieces: Iterator[tuple[bytes, bool]], decoder: codecs.IncrementalDecoder | None
) -> Iterator[tuple[bytes, bool | None]]:
    """The pieces, then (for a transcoding decoder) an empty final piece (``None``) to flush it."""
    yield from pieces
    if decoder is not None:
        yield b"", None


def _read(stream: BinaryIO, size: int) -> bytes:
    try:
        return stream.read(size)
    except _STREAM_ERRORS as exc:
        raise ReadError(f"content could not be read: {exc}", kind="corrupt") from exc


def _line_blocks(stream: BinaryIO, pending: bytes, limit: int | None) -> Iterator[tuple[bytes, bool]]:
    """``(piece, cut_inside_a_line)`` of at most ``BLOCK_SIZE`` bytes, ending at newlines where there
    are any; with ``limit`` (bytes from where reading began) reading ends with the line holding byte
    ``limit - 1`` (the lines after it belong to the next part), however long that line is."""
    position = 0  # bytes handed out before ``pending``
    finishing = False  # past the limit: only the rest of the limit's line is read
    search_from = 0
    while True:
        if limit is not None and not finishing and position + len(pending) >= limit:
            finishing, search_from = True, max(limit - position - 1, 0)
        if finishing:
            newline = pending.find(b"\n", search_from)
            if newline != -1:
                yield pending[: newline + 1], False
                return
            search_from = len(pending)
        if len(pending) < BLOCK_SIZE:
            room = BLOCK_SIZE - len(pending)
            want = room if limit is None or finishing else min(room, limit - position - len(pending))
            block = _read(stream, want)
            if block:
                pending += block
                continue
            if pending:
                yield pending, False
            return
        cut = pending.rfind(b"\n")
        mid_line = cut == -1
        if mid_line:
            cut = _soft_cut(pending)
        piece, pending = pending[: cut + 1], pending[cut + 1 :]
        position += len(piece)
        search_from = max(0, search_from - len(piece))
        yield piece, mid_line


def _sniffed_delimiter(sample: bytes, encoding: str, default: bytes) -> bytes:
    """The delimiter the data uses (``csv.Sniffer`` over its first lines): a ``.csv`` exported with ``;``
    (European locales) or tabs is common; the extension's delimiter when the sniffer cannot tell."""
    text = sample.decode(encoding if encoding != "utf-8-sig" else "utf-8", "replace").lstrip("\ufeff")
    lines = text.splitlines()[:20]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample cut the last line
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter.encode()
    except csv.Error:
        return default


def _header_fields(head: bytes, header: bytes | None, delimiter: bytes, encoding: str) -> tuple[str, ...] | None:
    """The column names of a delimited file, or ``None`` when its first row holds values (exports
    without a header row): a value taken for a column name would be reported as one."""
    if header is not None:
        line = header
    elif encoding == "utf-8":
        line = head.split(b"\n", 1)[0]
    else:
        line = head.decode(encoding, "replace").split("\n", 1)[0].encode("utf-8")
    cells = _parse_header(line, delimiter)
    return None if any(looks_like_value(cell) for cell in cells) else cells


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
