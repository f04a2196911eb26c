"""Windows file shares over SMB 2/3 (smbprotocol): ``smb://[DOMAIN;]user@host[:port]/share[/path]``.

Mounted on Linux, a Windows share shows uid/gid/mode bits that mean nothing: who may read a file there
is its NTFS security descriptor plus the share's own permissions. This connector reads files over SMB
exactly as local files are read (the file connector's decoders: formats, archives, caps, encodings) and,
for each file in which something was found, reads its security descriptor, resolves inheritance and
records who can read it (:mod:`connectors._ntacl`) as an :class:`SmbFileAccess` fact, which the rules
``smb_file_broad_access_with_pii`` (exposure) and ``smb_file_access_not_allowed`` (access) judge.

Security first, because this connector logs into production file servers:

* **No secrets in URIs.** A password in the URI is refused (exit 2); it comes from
  ``PRIVAUDIT_SMB_PASSWORD`` or the variable named by the target's ``credentials.password_env``. NTLM
  (through SPNEGO); Kerberos when no password is set and a ticket cache is present (``KRB5CCNAME``,
  pyspnego with gssapi). A server that logs the account in as guest is refused.
* **SMB 2/3 only, signing required** (``require_signing``, default on: a tampered reply could hide a
  file), **encryption** whenever the server offers it (SMB 3.x with a cipher); the transport used is
  said in a note on the target.
* **Read-only, never blocking anyone.** Files are opened with ``FILE_READ_DATA`` only and share access
  read + write + delete, so users keep working on them while they are read; security descriptors with
  ``READ_CONTROL`` only. Nothing is ever written, not even the access time (SMB lets a client suppress
  atime updates only through a handle opened for ``FILE_WRITE_ATTRIBUTES``, which we do not ask for;
  Windows updates last-access lazily or not at all since Vista, Samba as its file system's mount does).
* **Failures are notes, the scan goes on.** A folder we may not list, a file locked by another user
  (sharing violation, byte-range lock), a file whose descriptor we may not read: notifications. A
  dropped connection is re-established and the walk or read resumes (a read at the same offset). A share
  that does not exist, or a server that cannot be reached, leaves the target incomplete (exit 3).
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from connectors import _ntacl as nt
from connectors._remote import quote_path, stream_chunks, zip_chunks
from connectors.files import ZIP_FORMATS, _glob_match
from scanner.connector import (
    ENV_NAME,
    FILE_LIMITS,
    Connector,
    ReadError,
    ScanOptions,
    TargetOption,
    WorkPart,
)
from scanner.facts import SmbFileAccess, SmbReader, SmbShareAccess
from scanner.model import Chunk, Level, Notification, Resource, ResourceScan
from scanner.registry import CONNECTORS

ENV_PASSWORD = "PRIVAUDIT_SMB_PASSWORD"
DEFAULT_PORT = 445
READ_BLOCK = 1024 * 1024
RECONNECT_ATTEMPTS = 3
SD_BUFFER = 64 * 1024

# NTSTATUS values we tell apart ([MS-ERREF] 2.3.1)
STATUS_ACCESS_DENIED = 0xC0000022
STATUS_SHARING_VIOLATION = 0xC0000043
STATUS_FILE_LOCK_CONFLICT = 0xC0000054
STATUS_LOCK_NOT_GRANTED = 0xC0000055
STATUS_BAD_NETWORK_NAME = 0xC00000CC
STATUS_LOGON_FAILURE = 0xC000006D
STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034
STATUS_OBJECT_PATH_NOT_FOUND = 0xC000003A
STATUS_DELETE_PENDING = 0xC0000056
NOT_FOUND = (STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_PATH_NOT_FOUND, STATUS_DELETE_PENDING)
LOCKED = (STATUS_SHARING_VIOLATION, STATUS_FILE_LOCK_CONFLICT, STATUS_LOCK_NOT_GRANTED)

# access masks and flags ([MS-SMB2] 2.2.13)
FILE_READ_DATA = 0x1
FILE_LIST_DIRECTORY = 0x1
FILE_READ_ATTRIBUTES = 0x80
READ_CONTROL = 0x20000
SYNCHRONIZE = 0x100000
SHARE_ALL = 0x7  # read | write | delete: never keeps another user out
FILE_DIRECTORY_FILE = 0x1
FILE_NON_DIRECTORY_FILE = 0x40
FILE_OPEN_REPARSE_POINT = 0x200000
ATTRIBUTE_DIRECTORY = 0x10
ATTRIBUTE_REPARSE_POINT = 0x400
OWNER_GROUP_DACL = 0x7
DIALECT_NAMES = {0x202: "2.0.2", 0x210: "2.1", 0x300: "3.0", 0x302: "3.0.2", 0x311: "3.1.1"}
CIPHER_NAMES = {1: "AES-128-CCM", 2: "AES-128-GCM", 3: "AES-256-CCM", 4: "AES-256-GCM"}
FILETIME_EPOCH = 116444736000000000  # 100 ns intervals between 1601-01-01 and 1970-01-01

T = TypeVar("T")


# -- the connection -------------------------------------------------------------------------------


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status", None)


def _filetime(value: Any) -> float | None:
    """Seconds since the epoch of an smbprotocol time field (a datetime, or FILETIME ticks)."""
    if value is None:
        return None
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return (int(value) - FILETIME_EPOCH) / 1e7


class _Link:
    """One authenticated session and tree connect to the share (and to IPC$ for RPC, when asked)."""

    def __init__(self, connector: SMBConnector) -> None:
        self.c = connector
        self.connection: Any = None
        self.session: Any = None
        self.tree: Any = None

    def open(self) -> None:
        from smbprotocol.connection import Connection
        from smbprotocol.exceptions import SMBAuthenticationError, SMBException, SMBResponseException
        from smbprotocol.session import Session
        from smbprotocol.tree import TreeConnect

        c = self.c
        connection = Connection(uuid.uuid4(), c.host, c.port, require_signing=c.require_signing)
        try:
            connection.connect(timeout=c.timeout)
        except (OSError, SMBException, ValueError) as exc:
            raise ReadError(f"could not connect to {c.host_label}: {exc}", kind="unreachable") from None
        self.connection = connection
        try:
            encrypt = c.encrypt == "required" or (c.encrypt == "auto" and bool(connection.supports_encryption)
                                                  and connection.dialect >= 0x300)
            session = Session(connection, c.account, c.password(), require_encryption=encrypt)
            session.connect()
            if session.session_key is None:
                raise ReadError(f"{c.host_label} logged {c.username} in as a guest (the credentials were not "
                                "accepted); refused: a guest session is neither signed nor the account asked for",
                                kind="auth")
            self.session = session
            tree = TreeConnect(session, rf"\\{c.host}\{c.share}")
            tree.connect()
            self.tree = tree
        except SMBAuthenticationError as exc:
            self.close()
            raise ReadError(f"authentication as {c.username} on {c.host_label} failed: {exc}", kind="auth") from None
        except SMBResponseException as exc:
            self.close()
            if exc.status == STATUS_BAD_NETWORK_NAME:
                raise ReadError(f"share {c.share} does not exist on {c.host_label}", kind="missing") from None
            if exc.status == STATUS_LOGON_FAILURE:
                raise ReadError(f"authentication as {c.username} on {c.host_label} failed (wrong user name or "
                                f"password; the password comes from {c.password_env})", kind="auth") from None
            if exc.status == STATUS_ACCESS_DENIED:
                raise ReadError(f"{c.username} may not connect to share {c.share} on {c.host_label}",
                                kind="permission") from None
            raise ReadError(f"could not open share {c.share} on {c.host_label}: {exc}", kind="unreachable") from None
        except ReadError:
            self.close()
            raise
        except (OSError, SMBException) as exc:
            self.close()
            raise ReadError(f"could not open share {c.share} on {c.host_label}: {exc}", kind="unreachable") from None

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.disconnect(True)
        self.connection = self.session = self.tree = None

    @property
    def alive(self) -> bool:
        transport = getattr(self.connection, "transport", None)
        return self.connection is not None and getattr(transport, "_connected", True)

    # -- operations on the share --------------------------------------------------------------

    def create(self, path: str, access: int, options: int, *, tree: Any = None) -> Any:
        from smbprotocol.open import CreateDisposition, ImpersonationLevel, Open

        handle = Open(tree or self.tree, path)
        handle.create(ImpersonationLevel.Impersonation, access | SYNCHRONIZE, 0, SHARE_ALL,
                      CreateDisposition.FILE_OPEN, options)
        return handle

    def listdir(self, path: str) -> list[dict[str, Any]]:
        from smbprotocol.exceptions import NoMoreFiles
        from smbprotocol.file_info import FileInformationClass
        from smbprotocol.open import QueryDirectoryFlags

        handle = self.create(path, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, FILE_DIRECTORY_FILE)
        entries: list[dict[str, Any]] = []
        try:
            flags = QueryDirectoryFlags.SMB2_RESTART_SCANS
            while True:
                try:
                    batch = handle.query_directory("*", FileInformationClass.FILE_ID_BOTH_DIRECTORY_INFORMATION,
                                                   flags=flags,
                                                   max_output=min(65536, self.connection.max_transact_size))
                except NoMoreFiles:
                    break
                flags = 0
                for entry in batch:
                    name = entry["file_name"].get_value().decode("utf-16-le")
                    if name in (".", ".."):
                        continue
                    entries.append({
                        "name": name,
                        "attributes": entry["file_attributes"].get_value(),
                        "size": entry["end_of_file"].get_value(),
                        "mtime": _filetime(entry["last_write_time"].get_value()),
                        "ctime": _filetime(entry["change_time"].get_value()),
                        "file_id": entry["file_id"].get_value(),
                    })
        finally:
            with contextlib.suppress(Exception):
                handle.close()
        return sorted(entries, key=lambda e: e["name"])

    def stat(self, path: str) -> dict[str, Any]:
        handle = self.create(path, FILE_READ_ATTRIBUTES, 0)
        try:
            return {"attributes": handle.file_attributes, "size": handle.end_of_file,
                    "mtime": _filetime(handle.last_write_time), "ctime": _filetime(handle.change_time)}
        finally:
            with contextlib.suppress(Exception):
                handle.close()

    def security(self, path: str, directory: bool) -> bytes:
        from smbprotocol.exceptions import BufferTooSmall
        from smbprotocol.open import SMB2QueryInfoRequest, SMB2QueryInfoResponse

        handle = self.create(path, READ_CONTROL, FILE_DIRECTORY_FILE if directory else 0)
        try:
            size = SD_BUFFER
            for _ in range(3):
                request = SMB2QueryInfoRequest()
                request["info_type"] = 3  # SMB2_0_INFO_SECURITY
                request["file_info_class"] = 0
                request["output_buffer_length"] = size
                request["additional_information"] = OWNER_GROUP_DACL
                request["file_id"] = handle.file_id
                sent = self.connection.send(request, self.session.session_id, self.tree.tree_connect_id)
                try:
                    response = self.connection.receive(sent)
                except BufferTooSmall:
                    size *= 4
                    continue
                parsed = SMB2QueryInfoResponse()
                parsed.unpack(response["data"].get_value())
                return bytes(parsed["buffer"].get_value())
            raise ReadError("security descriptor larger than 1 MiB", kind="unreadable")
        finally:
            with contextlib.suppress(Exception):
                handle.close()

    def rpc(self, pipe_name: str, call: Callable[[Any], T]) -> T:
        """``call(handle)`` on the named pipe ``pipe_name`` of the server's IPC$ share."""
        from smbprotocol.tree import TreeConnect

        ipc = TreeConnect(self.session, rf"\\{self.c.host}\IPC$")
        ipc.connect()
        try:
            pipe = self.create(pipe_name, 0x12019F, 0, tree=ipc)  # read/write data on the named pipe
            try:
                return call(pipe)
            finally:
                with contextlib.suppress(Exception):
                    pipe.close()
        finally:
            with contextlib.suppress(Exception):
                ipc.disconnect()

    def share_descriptor(self) -> bytes | None:
        """The share's permissions through srvsvc NetShareGetInfo level 502 ([MS-SRVS] 3.1.4.10)."""
        from connectors import _dcerpc

        return self.rpc("srvsvc", lambda pipe: _dcerpc.share_info_502(pipe, self.c.host, self.c.share))

    def names(self, sids: list[str]) -> dict[str, str]:
        """Names for ``sids`` through lsarpc LsarLookupSids ([MS-LSAT] 3.1.4.11)."""
        from connectors import _dcerpc

        return self.rpc("lsarpc", lambda pipe: _dcerpc.lookup_sids(pipe, sids))


# -- the connector --------------------------------------------------------------------------------


@CONNECTORS.register
class SMBConnector(Connector):
    """Walks a folder tree on an SMB share, reads its files and the security descriptors of those with
    something in them."""

    name = "smb"
    store = "file-share"
    labels = {"en": "Windows file shares (SMB)", "zh": "Windows 文件共享 (SMB)"}
    schemes = ("smb",)
    config_key = "smb"
    config_example = "smb://[DOMAIN;]user@host[:port]/share[/path]"
    target_options = {
        **{key: FILE_LIMITS[key] for key in ("max_file_size", "max_depth", "max_expanded_size",
                                             "max_expansion_ratio")},
        "timeout": TargetOption({"type": "number", "exclusiveMinimum": 0}, extra="smb_timeout"),
        "require_signing": TargetOption({"type": "boolean"}, extra="smb_require_signing"),
        "encryption": TargetOption({"enum": ["auto", "required", "off"]}, extra="smb_encryption"),
        "read_acls": TargetOption({"type": "boolean"}, extra="smb_read_acls"),
        "password_env": TargetOption(ENV_NAME, extra="password_env", credential="env"),
    }
    extra = "smb"
    requires = ("smbprotocol",)
    permissions = (
        "an account that may connect to the share (NTLM with a password, or Kerberos)",
        "List folder / read data on every folder to walk",
        "Read data on every file to scan",
        "Read permissions (READ_CONTROL) on files and folders, to say who can read them",
        "optional: srvsvc NetShareGetInfo level 502 on IPC$, to read the share's own permissions",
    )
    description = "Windows file shares over SMB 2/3, with who can read each file through its NTFS ACL."

    @classmethod
    def accepts_config_uri(cls, scheme: str, netloc: str) -> bool:
        return scheme in cls.schemes and "@" in netloc  # the account is part of the target

    @classmethod
    def usage_problem(cls, target: str) -> str | None:
        """A password in the URI is refused before anything runs: it would land in shell history, ``ps``
        and the SARIF ``commandLine``."""
        try:
            parts = urlsplit(target)
            password, host = parts.password, parts.hostname
        except ValueError as exc:
            return f"{target!r} is not an smb:// URI ({exc}); give {cls.config_example}."
        if password is not None:
            return (f"passwords in smb:// URIs are refused (they end up in shell history and reports); remove it "
                    f"and set {ENV_PASSWORD} (or credentials.password_env in a scan config).")
        if not host or not parts.username or len([p for p in parts.path.split("/") if p]) < 1:
            return f"{cls.redacted(target)!r} is not an SMB target; give {cls.config_example}."
        return None

    @staticmethod
    def redacted(target: str) -> str:
        parts = urlsplit(target)
        if parts.password is None:
            return target
        return target.replace(f":{parts.password}@", "@", 1)

    def __init__(self, target: str, options: ScanOptions) -> None:
        super().__init__(target, options)
        parts = urlsplit(target)
        if parts.scheme != "smb" or not parts.hostname:
            raise ValueError(f"not an smb://user@host/share target: {self.redacted(target)}")
        self.host = parts.hostname
        self.port = parts.port or DEFAULT_PORT
        user = unquote(parts.username or "")
        self.domain, _, self.username = user.rpartition(";")
        self._uri_has_password = parts.password is not None
        segments = [unquote(s) for s in parts.path.split("/") if s]
        self.share = segments[0] if segments else ""
        self.path = "\\".join(segments[1:])  # below the share root, SMB style
        extra = options.extra
        self.timeout = float(extra.get("smb_timeout", 15))
        self.require_signing = bool(extra.get("smb_require_signing", True))
        self.encrypt = str(extra.get("smb_encryption", "auto"))
        self.read_acls = bool(extra.get("smb_read_acls", True))
        self.password_env = extra.get("password_env") or ENV_PASSWORD
        self.reconnects = 0
        self._link: _Link | None = None
        self._dir_sd: dict[str, nt.SecurityDescriptor | None] = {}
        self._share_sd: nt.SecurityDescriptor | bool | None = False  # False: not asked yet
        self._share_problem: str | None = None
        self._names: dict[str, str] = {}  # SID -> DOMAIN\name, as the server resolves it (lsarpc)
        self._lsa = True  # False once lsarpc failed: SIDs are shown as they are
        self.acl_reads = 0

    # -- names ----------------------------------------------------------------------------------

    @property
    def account(self) -> str:
        return f"{self.domain}\\{self.username}" if self.domain else self.username

    @property
    def host_label(self) -> str:
        return self.host if self.port == DEFAULT_PORT else f"{self.host}:{self.port}"

    @property
    def display_target(self) -> str:
        user = f"{self.domain};{self.username}" if self.domain else self.username
        rest = "/".join([self.share, *self.path.split("\\")]) if self.path else self.share
        return f"smb://{quote_path(user)}@{self.host_label}/{quote_path(rest)}"

    def uri(self, path: str) -> str:
        """``smb://host[:port]/share/path``: the account is not part of a file's identity."""
        rest = "/".join([self.share, *path.split("\\")]) if path else self.share
        return f"smb://{self.host_label}/{quote_path(rest)}"

    def shown(self, path: str) -> str:
        return f"//{self.host_label}/{self.share}/{path.replace(chr(92), '/')}" if path else \
            f"//{self.host_label}/{self.share}"

    def password(self) -> str | None:
        if self._uri_has_password:
            raise ReadError(f"passwords in smb:// URIs are refused; set {ENV_PASSWORD} instead", kind="config")
        return os.environ.get(self.password_env) or None

    # -- connection -----------------------------------------------------------------------------

    def link(self) -> _Link:
        if self._link is None:
            link = _Link(self)
            link.open()
            self._link = link
        return self._link

    def _dropped(self, exc: BaseException) -> bool:
        """Whether ``exc`` means the connection is gone (as opposed to an answer from the server)."""
        from smbprotocol.exceptions import SMBConnectionClosed, SMBException, SMBResponseException

        if isinstance(exc, SMBResponseException):
            return exc.status in (0xC000020C, 0xC0000128, 0xC000035C, 0xC0000203)  # disconnected, closed, expired
        if isinstance(exc, SMBConnectionClosed | ConnectionError | EOFError | TimeoutError):
            return True
        if isinstance(exc, SMBException):
            return "closed" in str(exc).lower() or "timeout" in str(exc).lower()
        return isinstance(exc, OSError)

    def _reset(self) -> None:
        if self._link is not None:
            self._link.close()
        self._link = None

    def _retry(self, operation: Callable[[_Link], T]) -> T:
        """Run ``operation(link)``; after a dropped connection reconnect and run it again."""
        delay = 0.2
        for attempt in range(RECONNECT_ATTEMPTS + 1):
            link = self.link()
            try:
                return operation(link)
            except ReadError:
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

    def discover(self) -> Iterator[Resource | Notification]:
        from smbprotocol.exceptions import SMBResponseException

        link = self.link()  # a server we cannot reach or log into fails the target (exit 3)
        yield self._transport_note(link)
        try:
            top = self._retry(lambda s: s.stat(self.path))
        except SMBResponseException as exc:
            yield Notification(f"Target {self.display_target} does not exist or cannot be read: "
                               f"{_words(exc)}.", self.uri(self.path), level=Level.ERROR, kind="missing")
            return
        if not top["attributes"] & ATTRIBUTE_DIRECTORY:
            name = self.path.rsplit("\\", 1)[-1]
            yield from self._file(self.path, name, {**top, "name": name, "file_id": None})
            return
        yield from self._walk()

    def _transport_note(self, link: _Link) -> Notification:
        connection, session = link.connection, link.session
        dialect = DIALECT_NAMES.get(connection.dialect, hex(connection.dialect))
        cipher = CIPHER_NAMES.get(getattr(connection, "cipher_id", None) or 0, "AES-128-CCM")
        encrypted = bool(session.encrypt_data)
        self.transport = (dialect, True if encrypted else bool(session.signing_required), cipher if encrypted else None)
        unencrypted = "encryption is off for this target" if self.encrypt == "off" else \
            "the server offers no SMB 3 encryption"
        how = f"encrypted ({cipher})" if encrypted else (
            f"signed, not encrypted ({unencrypted})" if session.signing_required
            else "neither signed nor encrypted (require_signing is off)")
        return Notification(f"{self.display_target}: SMB {dialect}, {how}.", self.display_target, level=Level.NOTE,
                            kind="transport")

    def _walk(self) -> Iterator[Resource | Notification]:
        from smbprotocol.exceptions import SMBResponseException

        stack: list[tuple[str, int]] = [(self.path, 0)]
        while stack:
            directory, depth = stack.pop()
            try:
                entries = self._retry(lambda s, d=directory: s.listdir(d))
            except SMBResponseException as exc:
                yield Notification(
                    f"Folder {self.shown(directory)} could not be listed: {_words(exc)}.", self.uri(directory),
                    kind="permission" if exc.status == STATUS_ACCESS_DENIED else "unreadable",
                    exception=type(exc).__name__,
                )
                continue
            subdirs: list[tuple[str, int]] = []
            for entry in entries:
                path = f"{directory}\\{entry['name']}" if directory else entry["name"]
                relative = path[len(self.path):].lstrip("\\").replace("\\", "/")
                if entry["attributes"] & ATTRIBUTE_REPARSE_POINT:
                    continue  # junctions and symlinks are not followed (loops, other volumes)
                if entry["attributes"] & ATTRIBUTE_DIRECTORY:
                    if self.options.exclude and _glob_match(relative, self.options.exclude, is_dir=True):
                        continue
                    if depth + 1 <= self.options.max_depth:
                        subdirs.append((path, depth + 1))
                    else:
                        yield Notification(f"Folder {self.shown(path)} is deeper than the maximum depth of "
                                           f"{self.options.max_depth}; not scanned.", self.uri(path), kind="limit",
                                           level=Level.NOTE)
                elif self._selected(relative):
                    yield from self._file(path, relative, entry)
            stack.extend(reversed(subdirs))

    def _selected(self, relative: str) -> bool:
        if self.options.include and not _glob_match(relative, self.options.include):
            return False
        return not (self.options.exclude and _glob_match(relative, self.options.exclude))

    def _file(self, path: str, relative: str, entry: dict[str, Any]) -> Iterator[Resource | Notification]:
        root = self.uri(self.path).rstrip("/") + "/"
        resource = Resource(
            uri=self.uri(path),
            kind="file",
            display_name=self.shown(path),
            connector=self.name,
            root_uri=root,
            relative_path=relative,
            size=entry["size"],
            mtime=entry["mtime"],
            # mode, owner and group stay None: POSIX bits mean nothing here, the NTFS ACL is read later
            metadata={"host": self.host, "share": self.share, "path": path,
                      "change": ("smb", entry.get("file_id"), entry["size"], entry["mtime"], entry.get("ctime"))},
        )
        if entry["size"] > self.options.max_file_size:
            yield Notification(
                f"{resource.display_name} is {entry['size']} bytes, over the size cap of {self.options.max_file_size} "
                "bytes; not scanned (raise --max-file-size to include it).",
                resource.uri, level=Level.NOTE, kind="too-large",
            )
            return
        yield resource

    # -- facts ----------------------------------------------------------------------------------

    def facts(self) -> Iterator[Any]:
        """The share's transport and its own permissions (or a note saying they could not be read)."""
        try:
            link = self.link()
        except ReadError:
            return
        share_sd = self.share_descriptor()
        dialect, signing, cipher = getattr(self, "transport", ("?", bool(link.session.signing_required), None))
        readers = None
        if share_sd is not None:
            self._resolve([sid for sid, _ in nt.readers(share_sd)])
            readers = tuple(self.name_of(sid) for sid, _ in nt.readers(share_sd))
        yield SmbShareAccess(resource_uri=self.uri(""), host=self.host_label, share=self.share, dialect=dialect,
                             signing=signing, encryption=cipher, readers=readers,
                             acl=share_sd.sddl() if share_sd is not None else None)
        if share_sd is None and self.read_acls:
            yield Notification(
                f"The permissions of share {self.shown('')} could not be read ({self._share_problem}); exposure "
                "findings judge the files' NTFS ACLs alone (srvsvc NetShareGetInfo level 502 usually needs a "
                "member of Administrators or Server Operators on the file server).",
                self.uri(""), level=Level.NOTE, kind="share-permissions",
            )

    def share_descriptor(self) -> nt.SecurityDescriptor | None:
        """The share-level security descriptor, read once per process (None: not readable)."""
        if self._share_sd is False:
            try:
                blob = self._retry(lambda s: s.share_descriptor())
                self._share_sd = nt.parse_security_descriptor(blob) if blob else None
                if blob is None:
                    self._share_problem = "the server returned none"
            except Exception as exc:  # RPC refused, not implemented, malformed: the share ACL stays unknown
                self._share_sd, self._share_problem = None, _words(exc)
        return self._share_sd if self._share_sd is not False else None

    # -- reading --------------------------------------------------------------------------------

    def read(self, resource: Resource, part: WorkPart | None = None) -> Iterator[Chunk]:
        from smbprotocol.exceptions import SMBResponseException

        path = resource.metadata["path"]
        remote = _RemoteFile(self, path, resource.size or 0)
        try:
            if path.lower().endswith(ZIP_FORMATS):
                yield from zip_chunks(io.BufferedReader(remote, READ_BLOCK), path)  # type: ignore[arg-type]
                return
            yield from stream_chunks(io.BufferedReader(remote, READ_BLOCK), path)  # type: ignore[arg-type]
        except SMBResponseException as exc:
            raise _read_error(exc) from None
        finally:
            remote.close()

    def scan_resource(self, resource: Resource, detector: Any, part: WorkPart | None = None) -> ResourceScan:
        """Read and detect as every connector does; then, for a file with something in it, who can read it."""
        scan = super().scan_resource(resource, detector, part)
        if scan.occurrences and self.read_acls and (part is None or part.index == 0):
            try:
                scan.facts.append(self.access_of(resource))
            except Exception as exc:  # one unreadable descriptor is a note, never the end of the scan
                scan.notifications.append(Notification(
                    f"{resource.display_name}: who can read it is unknown, its security descriptor could not be "
                    f"read ({_words(exc)}).", resource.uri,
                    kind="permission" if _status(exc) == STATUS_ACCESS_DENIED else "acl-unreadable",
                    exception=type(exc).__name__))
        return scan

    def _descriptor(self, path: str, directory: bool) -> nt.SecurityDescriptor:
        blob = self._retry(lambda s: s.security(path, directory))
        self.acl_reads += 1
        return nt.parse_security_descriptor(blob)

    def _folder_descriptor(self, path: str) -> nt.SecurityDescriptor | None:
        """A folder's descriptor, cached per folder (None: it could not be read)."""
        if path not in self._dir_sd:
            try:
                self._dir_sd[path] = self._descriptor(path, True)
            except Exception:
                self._dir_sd[path] = None
        return self._dir_sd[path]

    def name_of(self, sid: str) -> str:
        """``DOMAIN\\name`` for ``sid`` (resolved through lsarpc once per process, else well known, else the SID)."""
        return nt.principal_name(sid, self._names)

    def _resolve(self, sids: list[str]) -> None:
        missing = [s for s in dict.fromkeys(sids) if s not in self._names and s not in nt.WELL_KNOWN]
        if not missing or not self._lsa:
            return
        try:
            self._names.update(self._retry(lambda s: s.names(missing)))
        except Exception:  # names are a courtesy: SIDs identify principals as well
            self._lsa = False

    def access_of(self, resource: Resource) -> SmbFileAccess:
        """Who can read ``resource``: its descriptor, each reader's ACE and where an inherited one comes
        from (the folders up to the share root, nearest first, cached), and the share's permissions."""
        path = resource.metadata["path"]
        sd = self._descriptor(path, False)
        share_sd = self.share_descriptor()
        parts = path.split("\\")[:-1]
        folders = ["\\".join(parts[:n]) for n in range(len(parts), -1, -1)]  # nearest first, "" the share root
        found: list[SmbReader] = []
        self._resolve([a.sid for a in sd.dacl or () if a.sid] + ([sd.owner] if sd.owner else []))
        for sid, decision, share_allows in nt.audiences(sd, share_sd):
            ace = decision.ace
            if ace is None:
                how, source = "null-dacl", None
            elif ace.inherited:
                ancestors = ((folder, self._folder_descriptor(folder)) for folder in folders)
                how, source = "inherited", nt.inheritance_source(ace, False, ancestors)
                source = source.replace("\\", "/") if source is not None else None
            else:
                how, source = "explicit", None
            found.append(SmbReader(sid=sid, name=self.name_of(sid), broad=nt.broad_kind(sid), how=how,
                                   via=self.name_of(ace.sid) if ace else self.name_of(sid),
                                   source=source, ace=ace.sddl() if ace else "D:NO_ACCESS_CONTROL",
                                   share_allows=share_allows))
        denied = tuple(dict.fromkeys(self.name_of(a.sid) for a in sd.dacl or ()
                                     if a.deny and a.effective and nt.read_bits(a.mask) & nt.FILE_READ_DATA))
        return SmbFileAccess(resource_uri=resource.uri, host=self.host_label, share=self.share,
                             path=path.replace("\\", "/"), owner=sd.owner,
                             owner_name=self.name_of(sd.owner) if sd.owner else None, readers=tuple(found),
                             denied=denied, protected=sd.protected, dacl=sd.sddl())


def _words(exc: BaseException) -> str:
    """An SMB error in words (``access denied``), not smbprotocol's multi-line dump."""
    status = _status(exc)
    words = {STATUS_ACCESS_DENIED: "access denied", STATUS_SHARING_VIOLATION: "locked by another user (sharing "
             "violation)", STATUS_FILE_LOCK_CONFLICT: "locked by another user (byte-range lock)",
             STATUS_LOCK_NOT_GRANTED: "locked by another user (byte-range lock)",
             STATUS_OBJECT_NAME_NOT_FOUND: "not found", STATUS_OBJECT_PATH_NOT_FOUND: "not found",
             STATUS_DELETE_PENDING: "being deleted", STATUS_BAD_NETWORK_NAME: "no such share"}.get(status or 0)
    if words:
        return words
    if status is not None:
        return f"NTSTATUS 0x{status:08X}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.rstrip(".")


def _read_error(exc: BaseException) -> ReadError:
    status = _status(exc)
    if status in LOCKED:
        return ReadError(f"{_words(exc)}; not read (it is read again on the next scan)", kind="locked")
    if status == STATUS_ACCESS_DENIED:
        return ReadError("access denied", kind="permission")
    if status in NOT_FOUND:
        return ReadError("the file vanished during the scan", kind="vanished")
    return ReadError(f"could not be read: {_words(exc)}", kind="unreadable")


class _RemoteFile(io.RawIOBase):
    """A file on the share, read by offset (seekable, so ZIP archives are read in place), reopened at the
    same offset after a dropped connection. Opened for ``FILE_READ_DATA`` with read/write/delete sharing."""

    def __init__(self, connector: SMBConnector, path: str, size: int) -> None:
        super().__init__()
        self.connector = connector
        self.path = path
        self.size = size
        self.pos = 0
        self._handle: Any = None
        self._generation = -1

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def _open(self, link: _Link) -> Any:
        if self._handle is None or self._generation != self.connector.reconnects:
            self._handle = link.create(self.path, FILE_READ_DATA | FILE_READ_ATTRIBUTES, FILE_NON_DIRECTORY_FILE)
            self._generation = self.connector.reconnects
            self.size = max(self.size, int(self._handle.end_of_file or 0))
        return self._handle

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        from smbprotocol.exceptions import EndOfFile

        if self.pos >= self.size and self._handle is not None:
            return 0

        def read(link: _Link) -> bytes:
            handle = self._open(link)
            if self.pos >= self.size:
                return b""
            length = min(len(buffer), link.connection.max_read_size, READ_BLOCK)
            try:
                return bytes(handle.read(self.pos, length))
            except EndOfFile:
                return b""
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


__all__ = ["SMBConnector", "SmbFileAccess", "SmbReader", "SmbShareAccess"]
