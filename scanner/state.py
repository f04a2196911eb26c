"""``--state DIR``: what a scan remembers between runs, to resume an interrupted run and to re-read only
what changed since the last one. Never a raw personal value, in content or in a name.

The directory is private (mode 0700, owned by the user running the scan: it describes where personal data
is) and holds one SQLite database, ``state.sqlite`` (0600), whose format is versioned (``meta.format``).
Per resource it keeps:

* ``grp``/``key``: keyed hashes (BLAKE2b keyed with a key derived from the fingerprint key,
  :mod:`scanner.fingerprint`) of the resource's parent (its directory, prefix or schema) and of its URI —
  names carry customers' IDs (``kyc/110101199003070011.pdf``);
* ``change``: what says the resource is unchanged, as its connector states it — for files device, inode,
  size, mtime_ns and ctime_ns (ctime cannot be set back by a user, so a file changed back within the same
  second is still seen as changed), for SFTP size and mtime, for S3 the ETag, size, LastModified and
  version, for a database table a keyed hash of its description and statistics;
* the counters of a clean resource, or, for one with something in it, a ``payload`` of what detection
  learned: masked evidence and keyed value hashes (field names masked as in every output,
  :func:`scanner.redaction.mask_text`) and its typed facts (:func:`scanner.facts.encode_fact`: a table's
  column verdicts, an object's posture; kept only when no name in them holds a personal value, else the
  resource is read again next time); never content.

Per *group* (a directory) it keeps a keyed hash of the group's listing — every entry's name and kind,
every file's change key, the walk's settings — and how many resources it gave: a rerun that finds the
same listing carries the group whole (its clean resources as counters, without looking at each) and lists
only the resources that had something in them.

The rules run again on carried results every time (file modes, retention and the policy are judged
fresh), so a carried resource gives exactly the findings reading it again would. A resource whose scan
raised a notification is read again next time.

*Resume* and *incremental* are the same mechanism: every finished resource is recorded as it finishes
(committed every two seconds), so a run that was killed leaves its work behind, and the next run with the
same state finds it unchanged. ``--full`` reads everything again, but still resumes an interrupted run.
A state written under another policy, detector or scanner version, or other detection settings, is not
used for results (the scan says so) and is replaced.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.facts import decode_fact, encode_fact
from scanner.model import CarriedGroup, Level, Match, Notification, Protection, Resource, ResourceScan

#: the state database's format; a state of another format is replaced (and the scan says so)
FORMAT = 4
DB_NAME = "state.sqlite"
COMMIT_EVERY = 2.0  # seconds: what a kill can lose
WRITE_BATCH = 1000  # rows written per statement
GROUP_ROWS = 50_000  # a group (directory) with more stored rows is looked up row by row, not held


class StateError(ValueError):
    """The state directory cannot be used as it is (exit 2, with how to fix it)."""


def check_directory(path: Path) -> None:
    """Create ``path`` (0700) or check that it is a directory of this user's that nobody else can read."""
    if not path.exists():
        try:
            path.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise StateError(f"--state {path}: cannot create it ({exc.strerror or exc}); give a writable "
                             "path") from None
        return
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise StateError(f"--state {path} is not a directory; give a directory (it is created if missing)")
    if info.st_uid != os.getuid():
        raise StateError(f"--state {path} belongs to another user (uid {info.st_uid}); it describes where personal "
                         f"data is, so it must be yours: chown {os.getuid()} {path}, or give another directory")
    if info.st_mode & 0o077:
        raise StateError(f"--state {path} is readable or writable by others (mode {stat.S_IMODE(info.st_mode):04o}); "
                         f"it describes where personal data is: chmod 700 {path}")


def change_key(resource: Resource) -> str | None:
    """What says ``resource`` is unchanged since it was scanned; None when its connector gives nothing."""
    change = resource.metadata.get("change")
    if change is not None:
        return ":".join(map(str, change))
    if resource.metadata.get("host") is not None and resource.size is not None and resource.mtime is not None:
        return f"{resource.size}:{resource.mtime!r}"  # SFTP: size and mtime, all the protocol gives
    return None


def source_version() -> str:
    """A digest of the detector's, the connectors' and the facts' code and data: results of another build
    are not reused."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    files = sorted([*(root / "detection").rglob("*.py"), *(root / "detection").rglob("*.yaml"),
                    root / "connector.py", root / "facts.py", root / "state.py",
                    *(root.parent / "connectors").rglob("*.py")])
    for file in files:
        with open(file, "rb") as handle:
            digest.update(str(file.relative_to(root.parent)).encode() + b"\0" + handle.read())
    return digest.hexdigest()[:16]


def detection_key(policy: Any, min_score: float, ner_model: str | None) -> str:
    """The settings a stored result depends on: scanner and detector version, policy, detection settings."""
    from scanner import __version__

    return hashlib.sha256(repr((FORMAT, __version__, source_version(), repr(policy), min_score,
                                ner_model)).encode("utf-8", "backslashreplace")).hexdigest()[:24]


class State:
    """An open state directory for one run (see the module docstring).

    Resources are stored by *group* (the resource's parent: a directory, a prefix, a schema), and a
    group's rows are read in one query when its first resource is looked up: a walk meets a directory's
    files one after another, so an unchanged rerun costs a dictionary lookup per file, not a query.
    """

    def __init__(self, path: Path, key: bytes) -> None:
        check_directory(path)
        self.path = path
        self._state_key = hmac.digest(key, b"privaudit/state/v1", "sha256")
        file = path / DB_NAME
        self.fresh = not file.exists()
        os.close(os.open(file, os.O_RDWR | os.O_CREAT, 0o600))
        self.notifications: list[Notification] = []
        try:
            self.db = sqlite3.connect(file, isolation_level=None)
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self._create()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"--state {path}: {DB_NAME} is not a state database ({exc}); remove it or give "
                             "another directory") from None
        self.reused = 0
        self.run = 0
        self.full = False
        self.resuming = False
        self._last_commit = time.monotonic()
        self._recorded: list[tuple[Any, ...]] = []  # rows not yet written (see _flush)
        self._group: tuple[str, str] | None = None  # (target, group) whose rows are in _rows
        self._rows: dict[str, tuple[Any, ...]] | None = None  # None: too many to hold, query by key
        self._groups: list[tuple[Any, ...]] = []  # groups walked in full, not yet written
        self._rows_partial = False  # _rows holds only a carried group's listed resources
        self._seen: list[str] = []  # keys of the current group carried in this run, not yet marked
        self._parent = ("", "")  # the last parent URI and its group key
        self._moved: list[tuple[Any, ...]] = []  # carried rows whose position in their group changed

    def _create(self) -> None:
        """The tables; a state of another format is replaced (and the scan says so)."""
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
        stored = self.db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
        if stored is not None and stored[0] != str(FORMAT):
            self.notifications.append(Notification(
                f"The state in {self.path} has another format ({stored[0]}, this scanner writes {FORMAT}); its "
                "results are not reused: every resource is read again.",
                str(self.path), level=Level.NOTE, kind="state-not-reused"))
            self.db.executescript("DROP TABLE IF EXISTS resources; DROP TABLE IF EXISTS runs; DELETE FROM meta;")
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, started REAL, finished REAL);
            CREATE TABLE IF NOT EXISTS resources (target TEXT, grp TEXT, key TEXT, change TEXT, run INTEGER,
                                                  b INTEGER, l INTEGER, i INTEGER, pos INTEGER, payload TEXT,
                                                  PRIMARY KEY (target, grp, key)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS groups (target TEXT, grp TEXT, signature TEXT, resources INTEGER,
                                               run INTEGER, carried INTEGER, PRIMARY KEY (target, grp)) WITHOUT ROWID;
        """)

    # -- the run ----------------------------------------------------------------------------------

    def begin(self, detection: str, full: bool) -> None:
        """Start (or resume) a run; forget stored results made under other settings (saying so)."""
        stored = self.db.execute("SELECT value FROM meta WHERE name = 'detection'").fetchone()
        if stored is not None and stored[0] != detection:
            self.notifications.append(Notification(
                f"The state in {self.path} was written by another policy, detector or scanner version or other "
                "detection settings; its results are not reused: every resource is read again.",
                str(self.path), level=Level.NOTE, kind="state-not-reused"))
            self.db.executescript("DELETE FROM resources; DELETE FROM groups; DELETE FROM runs;")
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                            [("format", str(FORMAT)), ("detection", detection)])
        last = self.db.execute("SELECT id, finished FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        self.full = full
        if last is not None and last[1] is None:
            self.run, self.resuming = last[0], True
        else:
            self.run = self.db.execute("INSERT INTO runs (started) VALUES (?)", (time.time(),)).lastrowid or 0
        self.db.execute("BEGIN")

    def target_key(self, target: str, options: Any) -> str:
        """The keyed identity of a target and the settings its results depend on (caps, symlinks)."""
        settings = (options.max_expanded_size, options.max_expansion_ratio, options.follow_symlinks,
                    options.third_party, sorted((k, str(v)) for k, v in options.extra.items()
                                                if k in ("s3_endpoint_url",)))
        return self._hash("target", target, repr(settings))

    def _hash(self, *parts: str) -> str:
        """BLAKE2b in keyed mode (RFC 7693 §2.9, a MAC) under a key derived from the fingerprint key: a
        third of HMAC-SHA256's cost, paid once or twice per resource of an unchanged rerun."""
        message = "\0".join(parts).encode("utf-8", "surrogatepass")
        return hashlib.blake2b(message, key=self._state_key, digest_size=16, person=b"privaudit-state").hexdigest()

    def lookup(self, target: str, resource: Resource) -> ResourceScan | None:
        """The stored result of ``resource`` when it is unchanged (and may be carried), else None."""
        group = self._group_of(resource.uri)
        if self._group != (target, group):
            self._load_group(target, group)
        if not self._rows and self._rows is not None:
            return None  # nothing stored in this group (a first run): no key to compute
        change = change_key(resource)
        if change is None:
            return None
        key = self._hash(resource.uri)
        if self._rows is not None:
            row = self._rows.get(key)
        else:
            row = self.db.execute("SELECT change, run, b, l, i, pos, payload FROM resources WHERE target = ? AND "
                                  "grp = ? AND key = ?", (target, group, key)).fetchone()
        if row is None or row[0] != change or (self.full and row[1] != self.run):
            return None
        self.reused += 1
        if row[1] != self.run:
            self._seen.append(key)
        position = resource.metadata.get("position")
        if position != row[5]:  # a file before it in the listing came or went
            self._moved.append((position, target, group, key))
        self._maybe_commit()
        if row[6] is None:  # a clean resource: its counters
            return ResourceScan(resource=resource, bytes_scanned=row[2], lines_scanned=row[3], items_examined=row[4])
        return _scan_from(resource, json.loads(row[6]))

    def _keys(self, uri: str) -> tuple[str, str]:
        """The keyed hashes of a resource's group (its parent) and of the resource."""
        return self._group_of(uri), self._hash(uri)

    def _group_of(self, uri: str) -> str:
        parent = uri.rpartition("/")[0]
        if parent != self._parent[0]:
            self._parent = (parent, self._hash(parent))
        return self._parent[1]

    def _load_group(self, target: str, group: str) -> None:
        """Mark the last group's carried rows as seen in this run, and read this group's rows."""
        self._mark_seen()
        self._group = (target, group)
        rows = self.db.execute("SELECT key, change, run, b, l, i, pos, payload FROM resources WHERE target = ? AND "
                               "grp = ? LIMIT ?", (target, group, GROUP_ROWS + 1)).fetchall()
        self._rows = {row[0]: row[1:] for row in rows} if len(rows) <= GROUP_ROWS else None
        self._rows_partial = False

    def _mark_seen(self) -> None:
        """The rows carried from the current group belong to this run (finish forgets the others)."""
        if self._moved:
            self.db.executemany("UPDATE resources SET pos = ? WHERE target = ? AND grp = ? AND key = ?", self._moved)
            self._moved.clear()
        if not self._seen or self._group is None:
            return
        target, group = self._group
        if (self._rows is not None and not self._rows_partial
                and len(self._seen) == sum(1 for r in self._rows.values() if r[1] != self.run)):
            self.db.execute("UPDATE resources SET run = ? WHERE target = ? AND grp = ?", (self.run, target, group))
        else:
            self.db.executemany("UPDATE resources SET run = ? WHERE target = ? AND grp = ? AND key = ?",
                                [(self.run, target, group, key) for key in self._seen])
        self._seen.clear()

    # -- groups: a directory's files at once ------------------------------------------------------

    def groups(self, target: str) -> TargetGroups:
        """The :class:`scanner.connector.GroupCarry` of one target."""
        return TargetGroups(self, target)

    def unchanged_group(self, target: str, group_uri: str, signature: str) -> CarriedGroupRows | None:
        """A group whose listing (names and every file's change key: its ``signature``) is as when it was
        last listed in full, and whose every resource was recorded then; None otherwise."""
        self._flush()
        group = self._group_of(group_uri + "/")
        row = self.db.execute("SELECT signature, resources, run FROM groups WHERE target = ? AND grp = ?",
                              (target, group)).fetchone()
        if row is None or row[0] != self._hash("group", signature) or (self.full and row[2] != self.run):
            return None
        count, clean, done, items = self.db.execute(
            "SELECT count(*), count(*) - count(payload), total(CASE WHEN payload IS NULL THEN b END), "
            "total(CASE WHEN payload IS NULL THEN i END) FROM resources WHERE target = ? AND grp = ?",
            (target, group)).fetchone()
        if count != row[1]:
            return None  # a resource was not recorded (it raised a notification): list the group again
        listed = self.db.execute("SELECT key, change, run, b, l, i, pos, payload FROM resources WHERE target = ? AND "
                                 "grp = ? AND payload IS NOT NULL", (target, group)).fetchall()
        notable = [row[6] for row in listed]
        if None in notable:
            return None  # the connector did not say where in the group they are
        self._mark_seen()
        self._group, self._rows = (target, group), {row[0]: row[1:] for row in listed}  # what lookup will ask
        self._rows_partial = True
        self.db.execute("UPDATE groups SET run = ?, carried = ? WHERE target = ? AND grp = ?",
                        (self.run, self.run, target, group))
        self.reused += clean
        self._maybe_commit()
        return CarriedGroupRows(CarriedGroup(clean, int(done), int(items)), frozenset(notable))

    def group_walked(self, target: str, group_uri: str, signature: str, resources: int) -> None:
        """Remember a group listed in full (its resources are recorded as their scans come back)."""
        self._groups.append((target, self._group_of(group_uri + "/"), self._hash("group", signature), resources,
                             self.run))

    def record(self, target: str, scan: ResourceScan) -> None:
        """Remember a resource's scan (one with notifications is read again next time)."""
        change = change_key(scan.resource)
        if change is None or scan.notifications:
            return
        payload = _payload(scan)
        if payload is None:
            return
        group, key = self._keys(scan.resource.uri)
        text = json.dumps(payload) if len(payload) > 3 else None  # None: clean, its counters are the columns
        self._recorded.append((target, group, key, change, self.run, payload["b"], payload["l"], payload["i"],
                               scan.resource.metadata.get("position"), text))
        if len(self._recorded) >= WRITE_BATCH:
            self._flush()
        self._maybe_commit()

    def _flush(self) -> None:
        """Write the rows gathered since the last flush, one statement each (a statement per resource
        cost more than reading the resource for small files)."""
        if self._recorded:
            self.db.executemany("INSERT OR REPLACE INTO resources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                self._recorded)
            self._recorded.clear()
        if self._groups:
            self.db.executemany("INSERT OR REPLACE INTO groups VALUES (?, ?, ?, ?, ?, NULL)", self._groups)
            self._groups.clear()

    def _maybe_commit(self) -> None:
        now = time.monotonic()
        if now - self._last_commit >= COMMIT_EVERY:
            self._flush()
            self._mark_seen()
            self.db.execute("COMMIT")
            self.db.execute("BEGIN")
            self._last_commit = now

    def finish(self, complete_targets: Iterable[str]) -> None:
        """The run completed: forget resources of fully listed targets that were not seen in it (vanished,
        renamed, excluded now), and mark the run finished so the next one starts afresh."""
        self._flush()
        self._mark_seen()
        for target in complete_targets:
            # a carried group's clean rows keep the run that wrote them: they were not touched, not lost
            self.db.execute("DELETE FROM resources WHERE target = ? AND run != ? AND grp NOT IN (SELECT grp FROM "
                            "groups WHERE target = ? AND carried = ?)", (target, self.run, target, self.run))
            self.db.execute("DELETE FROM groups WHERE target = ? AND run != ?", (target, self.run))
        self.db.execute("UPDATE runs SET finished = ? WHERE id = ?", (time.time(), self.run))
        self.db.execute("DELETE FROM runs WHERE id < ?", (self.run,))
        self.db.execute("COMMIT")

    def close(self) -> None:
        self._flush()
        self._mark_seen()
        if self.db.in_transaction:
            self.db.execute("COMMIT")
        self.db.close()


class TargetGroups:
    """:class:`scanner.connector.GroupCarry` for one target of a state."""

    def __init__(self, state: State, target: str) -> None:
        self.state, self.target = state, target

    def unchanged(self, group_uri: str, signature: str) -> CarriedGroupRows | None:
        return self.state.unchanged_group(self.target, group_uri, signature)

    def walked(self, group_uri: str, signature: str, resources: int) -> None:
        self.state.group_walked(self.target, group_uri, signature, resources)


@dataclass(frozen=True, slots=True)
class CarriedGroupRows:
    """A carried group: the clean resources' counters, and the positions in the group's listing
    (``Resource.metadata["position"]``) of those that must still be listed: they had something in them."""

    summary: CarriedGroup
    positions: frozenset[int]


# -- payloads: counters, masked evidence, keyed hashes ------------------------------------------------


def _payload(scan: ResourceScan) -> dict[str, Any] | None:
    """What is kept of a scan; None when a fact cannot be kept (see :func:`scanner.facts.encode_fact`)."""
    out: dict[str, Any] = {"b": scan.bytes_scanned, "l": scan.lines_scanned, "i": scan.items_examined}
    if scan.facts:
        facts = [encode_fact(f) for f in scan.facts]
        if None in facts:
            return None
        out["f"] = facts
    if scan.skipped:
        out["s"] = scan.skipped
    if scan.protected:
        out["p"] = scan.protected
    if scan.masked:
        out["m"] = scan.masked
    if scan.occurrences:
        from scanner.redaction import mask_text

        out["o"] = scan.occurrences
        out["d"] = {entity: sorted(hashes) for entity, hashes in scan.distinct.items()}
        out["x"] = [[m.entity_type, m.start, m.end, m.line, m.score, m.evidence, m.value_hash, m.protection.value,
                     mask_text(m.field) if m.field is not None else None] for m in scan.matches]
    return out


def _scan_from(resource: Resource, data: dict[str, Any]) -> ResourceScan:
    scan = ResourceScan(resource=resource, bytes_scanned=data["b"], lines_scanned=data["l"],
                        items_examined=data["i"], skipped=data.get("s"), protected=data.get("p"),
                        masked=data.get("m", {}), occurrences=data.get("o", {}))
    scan.distinct = {entity: set(hashes) for entity, hashes in data.get("d", {}).items()}
    scan.matches = [Match(e, s, end, line, score, ev, vh, Protection(p), f)
                    for e, s, end, line, score, ev, vh, p, f in data.get("x", ())]
    scan.facts = [decode_fact(resource.uri, f) for f in data.get("f", ())]
    return scan
