"""Bounded reading of untrusted content: regular files only, decompression counted as it happens.

A file share is hostile input. A FIFO or device swapped in for a file between listing and reading
blocks a reader forever; a 12 MB ``.log.gz`` expands to 4 GiB; a ZIP archive states whatever sizes
it likes and can point a hundred entries at one stream. So:

* :func:`open_regular` opens with ``O_NONBLOCK`` (a FIFO without a writer cannot block the open),
  ``fstat`` s the descriptor it got and refuses anything that is not a regular file;
* :class:`CountingReader` counts the compressed bytes a decompressor actually consumed, and
  :class:`CappedStream` stops a decompressed stream once its output passes the expanded-size cap
  or the expansion ratio against those consumed bytes. Both are measured while decompressing,
  never taken from headers (Fifield, "A better zip bomb", WOOT 2019: headers lie, entries overlap).

The module name starts with ``_`` so the connector registry does not import it as a plug-in.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from scanner.connector import ReadError, ScanOptions

# The caps' defaults live in ScanOptions (--max-expanded-size, --max-expansion-ratio), with why.
MAX_EXPANDED_BYTES = ScanOptions.max_expanded_size
MAX_EXPANSION_RATIO = ScanOptions.max_expansion_ratio
# Output below which the ratio is not judged: headers and tiny members compress oddly.
RATIO_GRACE_BYTES = 1024 * 1024

SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


@dataclass(frozen=True)
class DecompressionLimits:
    """The caps of one scan (``--max-expanded-size``, ``--max-expansion-ratio``)."""

    max_expanded: int = MAX_EXPANDED_BYTES
    max_ratio: float = MAX_EXPANSION_RATIO

    @classmethod
    def of(cls, options: ScanOptions) -> DecompressionLimits:
        return cls(options.max_expanded_size, options.max_expansion_ratio)


def special_kind(mode: int) -> str | None:
    """What a non-regular, non-directory file is, in words (``None`` for regular files)."""
    for test, words in SPECIAL_KINDS:
        if test(mode):
            return words
    return None


def open_regular(path: str | bytes | os.PathLike, *, follow_symlinks: bool = False) -> tuple[BinaryIO, os.stat_result]:
    """Open ``path`` for reading only if it is a regular file, without ever blocking on it.

    ``O_NONBLOCK`` makes opening a FIFO return at once; the ``fstat`` of the descriptor (not of the
    path, which may have been swapped since) decides. ``O_NOFOLLOW`` keeps a symlink planted in
    place of a file from redirecting the read when symlinks are not followed. ``O_NOATIME`` is
    asked for where the kernel allows it, so a scan leaves access times as they were.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NOATIME", 0))
    except PermissionError:
        fd = os.open(path, flags)  # O_NOATIME needs ownership of the file
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink where O_NOFOLLOW forbids one
            raise ReadError("was replaced by a symbolic link after it was listed; not followed",
                            kind="changed") from exc
        raise
    try:
        st = os.fstat(fd)
        words = special_kind(st.st_mode)
        if words is not None or not stat.S_ISREG(st.st_mode):
            raise ReadError(f"is {words or 'not a regular file'}; not read", kind="special-file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


class CountingReader(io.RawIOBase):
    """Pass reads through to ``raw`` and count the bytes handed out (the compressed bytes consumed)."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


class CappedStream(io.RawIOBase):
    """A decompressed stream that raises :class:`ReadError` (kind ``decompression-bomb``) once its
    output passes ``limits.max_expanded`` or ``limits.max_ratio`` times ``consumed()``.

    The error surfaces in the middle of reading: what was read before it has been scanned and its
    findings stand; the notification says where reading stopped and which cap to raise.
    """

    def __init__(self, inner: BinaryIO, consumed: Callable[[], int], limits: DecompressionLimits) -> None:
        super().__init__()
        self.inner = inner
        self.consumed = consumed
        self.limits = limits
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.produced += n
        self._check()
        return n

    def _check(self) -> None:
        limits = self.limits
        if self.produced > limits.max_expanded:
            raise ReadError(
                f"expands past the cap of {limits.max_expanded} bytes; the first {limits.max_expanded} bytes were "
                "scanned, the rest was not (possible decompression bomb; raise --max-expanded-size to read more)",
                kind="decompression-bomb",
            )
        if self.produced > RATIO_GRACE_BYTES:
            consumed = max(self.consumed(), 1)
            ratio = self.produced / consumed
            if ratio > limits.max_ratio:
                raise ReadError(
                    f"expands {ratio:.0f}:1, past the cap of {limits.max_ratio:g}:1, after {self.produced} bytes; the "
                    "rest was not scanned (possible decompression bomb; raise --max-expansion-ratio to read more)",
                    kind="decompression-bomb",
                )
