"""Remote file shares over SFTP (paramiko): ``sftp://user@host[:port]/path``.

Security first, because this connector logs into production file servers:

* **Host keys are verified, never learned.** Keys come from ``extra["known_hosts"]``, the
  ``PRIVAUDIT_KNOWN_HOSTS`` environment variable, or the user's ``~/.ssh/known_hosts`` (plus
  ``/etc/ssh/ssh_known_hosts``). An unknown host key or one that differs from the recorded key is a
  target error naming both fingerprints; nothing is ever written to a known_hosts file (paramiko's
  ``AutoAddPolicy`` is exactly the trust-on-first-use hole an auditor would flag).
* **No secrets in URIs.** A password in the URI is refused; passwords come from
  ``PRIVAUDIT_SFTP_PASSWORD``, keys from ``extra["ssh_key"]`` / ``PRIVAUDIT_SSH_KEY`` (passphrase in
  ``PRIVAUDIT_SSH_KEY_PASSPHRASE``), or the SSH agent.
* **Read-only.** Only ``stat``/``lstat``/``listdir``/``realpath``/``open(..., "r")`` are used.

The walk honours include/exclude globs and ``max_depth``, records each file's permission bits,
numeric owner/group (names when the server's ``ls -l`` style long name gives them) and mtime, so
the file rules apply unchanged: a world-readable remote file with graded data is an ``exposure``
finding (``file_world_readable_with_pii``), old graded files hit retention. Symlinks are not
followed unless asked; when they are, directories are identified by their ``realpath`` so loops
end. Content is streamed through the file connector's decoders with read-ahead (paramiko
prefetch); a connection that drops mid-walk or mid-read is re-established and the walk or read
resumes where it stopped (a read resumes at the same byte offset).
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import hashlib
import io
import os
import socket
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from connectors._remote import quote_path, stream_chunks, zip_chunks
from connectors.files import _glob_match
from scanner.connector import (
    ENV_NAME,
    FILE_LIMITS,
    FILE_PATH,
    Connector,
    ContentSkipped,
    ReadError,
    ScanOptions,
    TargetOption,
    WorkPart,
)
from scanner.model import Chunk, Level, Notification, Resource
from scanner.registry import CONNECTORS

ENV_KNOWN_HOSTS = "PRIVAUDIT_KNOWN_HOSTS"
ENV_KEY = "PRIVAUDIT_SSH_KEY"
ENV_KEY_PASSPHRASE = "PRIVAUDIT_SSH_KEY_PASSPHRASE"
ENV_PASSWORD = "PRIVAUDIT_SFTP_PASSWORD"
READ_BLOCK = 1024 * 1024
MAX_ZIP_BYTES = 64 * 1024 * 1024
RECONNECT_ATTEMPTS = 3

T = TypeVar("T")


class HostKeyError(ReadError):
    """The server's host key is unknown or differs from known_hosts: the connection is refused."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="host-key")


def key_fingerprint(key: Any) -> str:
    """OpenSSH-style ``SHA256:...`` fingerprint, as ``ssh-keygen -lf`` prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def _host_label(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


@CONNECTORS.register
class SFTPConnector(Connector):
    """Walks a directory tree on an SFTP server and reads its files."""

    name = "sftp"

    store = "file-share"

    labels = {"en": "SFTP file shares", "zh": "SFTP 文件共享"}
    schemes = ("sftp",)
    config_key = "sftp"
    config_example = "sftp://user@host[:port]/path"
    target_options = {
        **{key: FILE_LIMITS[key] for key in ("max_file_size", "max_expanded_size", "max_expansion_ratio")},
        "timeout": TargetOption({"type": "number", "exclusiveMinimum": 0}, extra="sftp_timeout"),
        "password_env": TargetOption(ENV_NAME, extra="password_env", credential="env"),
        "ssh_key": TargetOption(FILE_PATH, extra="ssh_key", credential="file", path=True),
        "passphrase_env": TargetOption(ENV_NAME, extra="passphrase_env", credential="env"),
        "known_hosts": TargetOption(FILE_PATH, extra="known_hosts", credential="file", path=True),
        "ssh_agent": TargetOption({"type": "boolean"}, extra="ssh_agent", credential="flag"),
    }

    @classmethod
    def accepts_config_uri(cls, scheme: str, netloc: str) -> bool:
        return scheme in cls.schemes and "@" in netloc  # the account is part of the target
    extra = "sftp"
    requires = ("paramiko",)
    permissions = (
        "SSH login as the URI's user (key, agent or password), SFTP subsystem enabled",
        "the server's host key recorded in the known_hosts file used",
        "read (r) on every file to scan",
        "read and search (r-x) on every directory to walk",
    )
    description = "Remote file shares over SFTP, host keys verified against known_hosts."

    def __init__(self, target: str, options: ScanOptions) -> None:
        super().__init__(target, options)
        parts = urlsplit(target)
        if parts.scheme != "sftp" or not parts.hostname:
            raise ValueError(f"not an sftp://user@host/path target: {target}")
        self.host = parts.hostname
        self.port = parts.port or 22
        self.username = unquote(parts.username) if parts.username else getpass.getuser()
        self._uri_has_password = parts.password is not None
        self.path = unquote(parts.path) or "."
        extra = options.extra
        self.key_file: str | None = extra.get("ssh_key") or os.environ.get(ENV_KEY) or None
        self.allow_agent = bool(extra.get("ssh_agent", True))
        self.timeout = float(extra.get("sftp_timeout", 15))
        self.reconnects = 0
        self._client: Any = None
        self._sftp: Any = None
        self._root: str | None = None

    @property
    def display_target(self) -> str:
        port = "" if self.port == 22 else f":{self.port}"
        return f"sftp://{self.username}@{self.host}{port}{self.path if self.path.startswith('/') else '/' + self.path}"

    # -- connection ---------------------------------------------------------------------------

    def known_hosts_files(self) -> list[Path]:
        explicit = self.options.extra.get("known_hosts") or os.environ.get(ENV_KNOWN_HOSTS)
        if explicit:
            return [Path(explicit).expanduser()]
        return [p for p in (Path("~/.ssh/known_hosts").expanduser(), Path("/etc/ssh/ssh_known_hosts")) if p.is_file()]

    def _connect(self) -> None:
        import paramiko

        if self._uri_has_password:
            raise ReadError(f"passwords in sftp:// URIs are refused; set {ENV_PASSWORD} instead", kind="config")
        client = paramiko.SSHClient()
        files = self.known_hosts_files()
        for path in files:
            try:
                client.load_system_host_keys(str(path))  # read-only: never saved back
            except (OSError, paramiko.SSHException) as exc:
                raise HostKeyError(f"known_hosts file {path} could not be read: {exc}") from None
        client.set_missing_host_key_policy(_RejectUnknown(files))
        password = os.environ.get(self.options.extra.get("password_env") or ENV_PASSWORD) or None
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.username,
                key_filename=self.key_file,
                passphrase=os.environ.get(self.options.extra.get("passphrase_env") or ENV_KEY_PASSPHRASE) or None,
                password=password,
                allow_agent=self.allow_agent,
                look_for_keys=self.key_file is None and password is None,
                timeout=self.timeout,
                banner_timeout=self.timeout,
                auth_timeout=self.timeout,
            )
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyError(
                f"host key of {_host_label(self.host, self.port)} has CHANGED: the server offered "
                f"{exc.key.get_name()} {key_fingerprint(exc.key)} but known_hosts records "
                f"{key_fingerprint(exc.expected_key)}; refusing to connect (possible man-in-the-middle). If the "
                "server was really re-keyed, verify the new fingerprint out of band and update known_hosts"
            ) from None
        except HostKeyError:
            client.close()
            raise
        except paramiko.AuthenticationException as exc:
            client.close()
            methods = ", ".join(m for m, used in (("key file", self.key_file), ("agent", self.allow_agent),
                                                 ("password", password)) if used) or "default keys"
            raise ReadError(f"authentication as {self.username} failed ({methods}): {exc}", kind="auth") from None
        except (OSError, paramiko.SSHException) as exc:
            client.close()
            raise ReadError(f"could not connect to {_host_label(self.host, self.port)}: {exc}",
                            kind="unreachable") from None
        transport = client.get_transport()
        if transport is not None:
            transport.set_keepalive(30)
        self._client = client
        self._sftp = client.open_sftp()

    def sftp(self) -> Any:
        if self._sftp is None:
            self._connect()
        return self._sftp

    def _dropped(self, exc: BaseException) -> bool:
        """Whether ``exc`` means the connection is gone (as opposed to an SFTP status error)."""
        import paramiko

        transport = self._client.get_transport() if self._client is not None else None
        if transport is None or not transport.is_active():
            return True
        if isinstance(exc, EOFError | paramiko.SSHException | socket.timeout | ConnectionError):
            return True
        return isinstance(exc, OSError) and exc.errno is None and "closed" in str(exc).lower()

    def _reset(self) -> None:
        for closable in (self._sftp, self._client):
            if closable is not None:
                with contextlib.suppress(Exception):
                    closable.close()
        self._sftp = None
        self._client = None

    def _retry(self, operation: Callable[[Any], T]) -> T:
        """Run ``operation(sftp)``; after a dropped connection reconnect and run it again."""
        delay = 0.2
        for attempt in range(RECONNECT_ATTEMPTS + 1):
            sftp = self.sftp()
            try:
                return operation(sftp)
            except HostKeyError:
                raise
            except Exception as exc:
                if attempt >= RECONNECT_ATTEMPTS or not self._dropped(exc):
                    raise
                self._reset()
                self.reconnects += 1
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._reset()

    # -- discovery ------------------------------------------------------------------------------

    def _uri(self, path: str) -> str:
        port = "" if self.port == 22 else f":{self.port}"
        return f"sftp://{quote_path(self.username)}@{self.host}{port}{quote_path(path)}"

    def discover(self) -> Iterator[Resource | Notification]:
        try:
            root = self._retry(lambda s: s.normalize(self.path))
            self._root = root
            top = self._retry(lambda s: s.stat(root))
        except OSError as exc:
            yield Notification(f"Target {self.display_target} does not exist or cannot be read: "
                               f"{exc.strerror or exc}.", self.display_target, level=Level.ERROR, kind="missing")
            return
        if not stat.S_ISDIR(top.st_mode or 0):
            yield from self._file(root, root.rsplit("/", 1)[-1], top)
            return
        yield from self._walk(root)

    def _walk(self, root: str) -> Iterator[Resource | Notification]:
        """Depth-first, by name, loop-safe when following symlinks (each real directory once)."""
        seen = {root}
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            directory, depth = stack.pop()
            try:
                entries = self._retry(lambda s, d=directory: s.listdir_attr(d))
            except OSError as exc:
                yield Notification(
                    f"Directory {self.host}:{directory} could not be listed: {exc.strerror or exc}.",
                    self._uri(directory), kind="permission" if exc.errno == 13 else "unreadable",
                    exception=type(exc).__name__,
                )
                continue
            subdirs: list[tuple[str, int]] = []
            for attr in sorted(entries, key=lambda a: a.filename):
                path = f"{directory.rstrip('/')}/{attr.filename}"
                yield from self._entry(path, path[len(root):].lstrip("/"), attr, depth, seen, subdirs)
            stack.extend(reversed(subdirs))

    def _entry(self, path: str, relative: str, attr: Any, depth: int, seen: set[str],
               subdirs: list[tuple[str, int]]) -> Iterator[Resource | Notification]:
        """One directory entry: a subdirectory to walk, a file's resources, or nothing (links not followed,
        special files, excluded names)."""
        attr = self._followed(path, attr)
        mode = (attr.st_mode or 0) if attr is not None else 0
        if stat.S_ISDIR(mode):
            yield from self._subdirectory(path, relative, depth, seen, subdirs)
        elif stat.S_ISREG(mode) and self._selected(relative):
            yield from self._file(path, relative, attr)

    def _followed(self, path: str, attr: Any) -> Any:
        """``attr``, or for a symlink the attributes of what it points to (None: not followed, dangling)."""
        if not stat.S_ISLNK(attr.st_mode or 0):
            return attr
        if not self.options.follow_symlinks:
            return None
        try:
            target_attr = self._retry(lambda s, p=path: s.stat(p))
        except OSError:
            return None  # dangling link
        target_attr.filename, target_attr.longname = attr.filename, getattr(attr, "longname", "")
        return target_attr

    def _subdirectory(self, path: str, relative: str, depth: int, seen: set[str],
                      subdirs: list[tuple[str, int]]) -> Iterator[Notification]:
        if (self.options.exclude and _glob_match(relative, self.options.exclude)) or depth + 1 > self.options.max_depth:
            return
        real = path
        if self.options.follow_symlinks:
            try:
                real = self._retry(lambda s, p=path: s.normalize(p))
            except OSError:
                return
        if real in seen:
            yield Notification(
                f"Directory {self.host}:{path} was already visited as {real} (symlink loop); skipped.",
                self._uri(path), level=Level.NOTE, kind="symlink-loop",
            )
            return
        seen.add(real)
        subdirs.append((path, depth + 1))

    def _selected(self, relative: str) -> bool:
        if self.options.include and not _glob_match(relative, self.options.include):
            return False
        return not (self.options.exclude and _glob_match(relative, self.options.exclude))

    def _file(self, path: str, relative: str, attr: Any) -> Iterator[Resource | Notification]:
        owner, group = _names_from_longname(getattr(attr, "longname", "") or "")
        uid, gid = getattr(attr, "st_uid", None), getattr(attr, "st_gid", None)
        port = "" if self.port == 22 else f":{self.port}"
        resource = Resource(
            uri=self._uri(path),
            kind="file",
            display_name=f"{self.host}:{path}",
            connector=self.name,
            root_uri=f"sftp://{quote_path(self.username)}@{self.host}{port}{quote_path(self._root or '/')}/",
            relative_path=relative,
            size=attr.st_size,
            mtime=float(attr.st_mtime) if attr.st_mtime is not None else None,
            mode=stat.S_IMODE(attr.st_mode or 0),
            owner=owner or (str(uid) if uid is not None else None),
            group=group or (str(gid) if gid is not None else None),
            metadata={"uid": uid, "gid": gid, "host": self.host, "path": path},
        )
        if (attr.st_size or 0) > self.options.max_file_size:
            yield Notification(
                f"{resource.display_name} is {attr.st_size} bytes, over the size cap of {self.options.max_file_size} "
                "bytes; not scanned (raise --max-file-size to include it).",
                resource.uri, level=Level.NOTE, kind="too-large",
            )
            return
        yield resource

    # -- reading --------------------------------------------------------------------------------

    def read(self, resource: Resource, part: WorkPart | None = None) -> Iterator[Chunk]:
        path = resource.metadata["path"]
        size = resource.size or 0
        remote = _ResumableFile(self, path, size)
        try:
            if path.lower().endswith(".zip"):
                if size > MAX_ZIP_BYTES:
                    raise ContentSkipped("too-large")
                data = io.BytesIO(remote.readall())
                yield from zip_chunks(data, path)
                return
            yield from stream_chunks(io.BufferedReader(remote, READ_BLOCK), path)
        except PermissionError as exc:
            raise ReadError("permission denied", kind="permission") from exc
        except FileNotFoundError as exc:
            raise ReadError("the file vanished during the scan", kind="vanished") from exc
        finally:
            remote.close()


class _RejectUnknown:
    """Missing-host-key policy: refuse, with the offered fingerprint and where we looked."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files

    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        where = ", ".join(str(f) for f in self.files) or "no known_hosts file (none configured or found)"
        raise HostKeyError(
            f"host key of {hostname} ({key.get_name()} {key_fingerprint(key)}) is not in known_hosts ({where}); "
            "refusing to connect. Verify the fingerprint with the server's administrator, then add it, e.g. "
            f"`ssh-keyscan -p <port> <host> >> known_hosts`, or point {ENV_KNOWN_HOSTS} at a file that has it"
        )


class _ResumableFile(io.RawIOBase):
    """A remote file read sequentially with prefetch, reopened at the same offset after a drop."""

    def __init__(self, connector: SFTPConnector, path: str, size: int) -> None:
        super().__init__()
        self.connector = connector
        self.path = path
        self.size = size
        self.pos = 0
        self._handle: Any = None
        self._generation = -1

    def readable(self) -> bool:
        return True

    def _open(self, sftp: Any) -> Any:
        if self._handle is None or self._generation != self.connector.reconnects:
            handle = sftp.open(self.path, "rb")
            handle.seek(self.pos)
            if self.size > READ_BLOCK:
                handle.prefetch(self.size)
            self._handle, self._generation = handle, self.connector.reconnects
        return self._handle

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.pos >= self.size and self.size:
            return 0

        def read(sftp: Any) -> bytes:
            try:
                return bytes(self._open(sftp).read(len(buffer)))
            except Exception:
                self._handle = None
                raise

        data = self.connector._retry(read)
        n = len(data)
        buffer[:n] = data
        self.pos += n
        return n

    def close(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(Exception):
                self._handle.close()
            self._handle = None
        super().close()


def _names_from_longname(longname: str) -> tuple[str | None, str | None]:
    """Owner and group names from an ``ls -l`` style SFTP long name, when the server sends one."""
    fields = longname.split()
    if len(fields) >= 4 and len(fields[0]) >= 10 and fields[0][0] in "-dlcbps":
        return fields[2], fields[3]
    return None, None
