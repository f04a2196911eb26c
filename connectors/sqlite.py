"""SQLite database files: graded columns, whether they are protected, and who can read the file.

SQLite has no accounts or grants (https://sqlite.org/whentouse.html): whoever can read the file
reads every table, so "who can read it" is the file's permission bits, reported as a ``file`` fact.
The file is opened read-only through a URI (``mode=ro``, https://sqlite.org/uri.html) with
``PRAGMA query_only`` as a second guard, statements are bounded by a progress-handler deadline, and
identifiers are quoted by sqlite's own quoting rules via sqlglot.

Nothing is ever created next to the file: a WAL-mode database opened normally, even read-only,
creates ``-wal`` and ``-shm`` files (https://sqlite.org/wal.html#readonly). Without a write-ahead log
beside it the file is opened ``immutable=1`` (no locks, no companions); with one, committed rows may
live only in the log, so the database and its log are copied into a private directory (0700, removed
on close) and read there. A log too large to copy is left unread, with a notification.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import sqlite3
import stat
import tempfile
import time
from collections.abc import Iterator
from urllib.parse import quote, unquote, urlsplit

from connectors._sql import (
    ColumnInfo,
    SQLConnector,
    sample_rows,
    selected,
    statement_timeout_ms,
    table_resource,
    with_change,
)
from scanner.connector import ReadError, ScanOptions
from scanner.facts import DatabaseFile, Observation
from scanner.model import Notification, Resource
from scanner.registry import CONNECTORS

SCHEMA = "main"
# Largest database + write-ahead log copied aside to read the log's committed rows
MAX_PRIVATE_COPY = 1024 * 1024 * 1024


def _q(name: str) -> str:
    from sqlglot import exp

    return exp.to_identifier(name, quoted=True).sql(dialect="sqlite")


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


@CONNECTORS.register
class SQLiteConnector(SQLConnector):
    """``sqlite:///absolute/path/to/file.db``."""

    name = "sqlite"


    labels = {"en": "SQLite", "zh": "SQLite"}
    schemes = ("sqlite",)
    config_example = "sqlite:///srv/app/app.db (absolute path)"

    @classmethod
    def accepts_config_uri(cls, scheme: str, netloc: str) -> bool:
        return scheme in cls.schemes and not netloc  # sqlite:///abs/path: a relative path would be read as a host
    permissions = ("read permission on the database file (and its directory)",)
    description = "SQLite database files: column classification and file permission bits."

    def __init__(self, target: str, options: ScanOptions) -> None:
        super().__init__(target, options)
        self.path = unquote(urlsplit(target).path)
        self._conn: sqlite3.Connection | None = None
        self._private: str | None = None  # directory of the private copy, when one was made
        self._notes: list[Notification] = []

    def _uri(self, table: str) -> str:
        return f"sqlite://{quote(self.path)}#{SCHEMA}.{table}"

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        if not os.path.isfile(self.path):
            raise ReadError(f"{self.path} does not exist or is not a file", kind="missing")
        try:
            conn = sqlite3.connect(self._open_uri(), uri=True, timeout=5, check_same_thread=False)
            conn.execute("PRAGMA query_only = ON")
            conn.text_factory = lambda b: b.decode("utf-8", "replace")
        except (sqlite3.Error, OSError) as exc:
            raise ReadError(f"cannot open {self.path}: {exc}") from None
        self._conn = conn
        return conn

    def _open_uri(self) -> str:
        """A URI that reads the database without creating anything next to it (see the module docstring)."""
        wal = self.path + "-wal"
        wal_size = os.path.getsize(wal) if os.path.exists(wal) else 0
        if not wal_size:
            return f"file:{quote(self.path)}?mode=ro&immutable=1"
        total = os.path.getsize(self.path) + wal_size
        if total > MAX_PRIVATE_COPY:
            self._notes.append(Notification(
                f"{self.path}: its write-ahead log ({wal_size} bytes) was not read, as the database and log "
                f"({total} bytes) are over the {MAX_PRIVATE_COPY}-byte private-copy cap; rows committed since the "
                "last checkpoint are not sampled.", self.target, kind="limit"))
            return f"file:{quote(self.path)}?mode=ro&immutable=1"
        self._private = tempfile.mkdtemp(prefix="privaudit-sqlite-")
        copy = os.path.join(self._private, "db")
        shutil.copyfile(self.path, copy)
        shutil.copyfile(wal, copy + "-wal")
        return f"file:{quote(copy)}?mode=ro"

    def close(self) -> None:
        super().close()
        if self._private is not None:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None

    def _bounded(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run ``sql`` with a deadline (SQLite has no statement timeout: a progress handler aborts it)."""
        conn = self._connect()
        deadline = time.monotonic() + statement_timeout_ms(self.options.extra) / 1000
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.set_progress_handler(None, 0)

    def _file_key(self) -> list[list[int]] | None:
        """The database file's change key and its write-ahead log's (committed rows may live only there):
        device, inode, size, mtime_ns and ctime_ns, as :mod:`scanner.state` keys files. Taken before the
        file is opened, so a write during the scan makes the next run read the tables again; None when
        the file cannot be stat'ed (then the open fails and says why)."""
        key = []
        for path in (self.path, self.path + "-wal"):
            try:
                st = os.stat(path)
            except FileNotFoundError:
                if path == self.path:
                    return None
                continue
            except OSError:
                return None
            key.append([st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns])
        return key

    def discover(self) -> Iterator[Resource | Notification]:
        """Tables and views of ``main``; with ``--state`` each is keyed by the file's change key and its own
        schema SQL: a file that changed is sampled again, table by table (SQLite keeps no per-table
        statistics of writes)."""
        file_key = self._file_key()
        try:
            tables = self._bounded(
                "SELECT name, type, sql FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
        except sqlite3.DatabaseError as exc:
            yield Notification(f"{self.path}: not a readable SQLite database ({exc}).", self.target, kind="unreadable")
            return
        yield from self._notes
        self._notes.clear()
        for table, kind, schema_sql in tables:
            if not selected(SCHEMA, table, self.options.include, self.options.exclude):
                continue
            columns = [
                ColumnInfo(name, typ or "", None, "BLOB" in (typ or "").upper(),
                           any(t in (typ or "").upper() for t in ("INT", "REAL", "NUM", "DEC", "FLOA", "DOUB")))
                for name, typ in self._bounded("SELECT name, type FROM pragma_table_info(?)", (table,))
            ]
            resource = table_resource(self.name, self._uri(table), os.path.basename(self.path), SCHEMA, table,
                                      kind, columns, path=self.path)
            yield with_change(resource, None if file_key is None else [file_key, schema_sql], self.options.extra)

    def _sample(self, conn: sqlite3.Connection, resource: Resource, columns: list[ColumnInfo]) -> list[tuple]:
        select = ", ".join(_q(c.name) for c in columns)
        return self._bounded(f"SELECT {select} FROM {_q(resource.metadata['table'])} LIMIT ?",
                             (sample_rows(self.options.extra),))

    def _sampling_failure(self, exc: Exception) -> str | None:
        # Other sqlite3 errors (a file that is not a database) are not a sampling failure: they propagate.
        if not isinstance(exc, sqlite3.OperationalError):
            return None
        if "no such table" in str(exc):
            return "vanished"
        return "timeout" if "interrupted" in str(exc) else "unreadable"

    def facts(self) -> Iterator[Observation | Notification]:
        """Permission bits of the database file and its journal/WAL companions (they hold the same data)."""
        for path in (self.path, self.path + "-wal", self.path + "-journal"):
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                yield Notification(f"{path}: cannot stat ({exc.strerror}).", self.target, kind="permission")
                continue
            yield DatabaseFile(resource_uri=f"file://{quote(path)}", path=path, mode=stat.S_IMODE(st.st_mode),
                               owner=_owner(st.st_uid), group=_group(st.st_gid))
