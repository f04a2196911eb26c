"""The scan's result store: findings, notifications and the scans target-level rules need, on disk.

Results stream into an SQLite database as workers hand them back, and reports are built from it, so the
scanning process does not keep one object per resource: a clean resource is a counter in its target's
summary, and only what holds something (a finding, a notification, a scan with graded data or facts)
is kept, on disk. The database is SQLite's private temporary database (``sqlite3.connect("")``): a
file in the temp directory that SQLite deletes when it is closed, never named, never reused.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Iterator

from scanner.model import Finding, Notification, ResourceScan

#: notification phases, in report order: the scan's own (the key), then discovery and facts per target,
#: then what reading each resource raised (per target, by resource URI)
PHASE_SCAN, PHASE_TARGET, PHASE_RESOURCE = 0, 1, 2


class ResultStore:
    """Append-only store of one scan's results, read back in report order."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("", isolation_level=None)
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.executescript("""
            CREATE TABLE findings (rank INTEGER, uri TEXT, rule TEXT, entity TEXT, seq INTEGER PRIMARY KEY,
                                   blob BLOB);
            CREATE TABLE notes (phase INTEGER, target INTEGER, uri TEXT, seq INTEGER PRIMARY KEY, blob BLOB);
            CREATE TABLE scans (target INTEGER, uri TEXT, seq INTEGER PRIMARY KEY, blob BLOB);
        """)
        self.db.execute("BEGIN")
        self._pending = 0

    def _tick(self, rows: int) -> None:
        self._pending += rows
        if self._pending >= 5000:
            self.db.execute("COMMIT")
            self.db.execute("BEGIN")
            self._pending = 0

    def add_findings(self, findings: list[Finding]) -> None:
        if not findings:
            return
        self.db.executemany(
            "INSERT INTO findings (rank, uri, rule, entity, blob) VALUES (?, ?, ?, ?, ?)",
            [(-f.level.rank, f.resource.uri, f.rule_id, f.entity_type or "", pickle.dumps(f, pickle.HIGHEST_PROTOCOL))
             for f in findings])
        self._tick(len(findings))

    def add_notes(self, phase: int, target: int, uri: str, notes: list[Notification]) -> None:
        if not notes:
            return
        self.db.executemany("INSERT INTO notes (phase, target, uri, blob) VALUES (?, ?, ?, ?)",
                            [(phase, target, uri, pickle.dumps(n, pickle.HIGHEST_PROTOCOL)) for n in notes])
        self._tick(len(notes))

    def add_scan(self, target: int, scan: ResourceScan) -> None:
        self.db.execute("INSERT INTO scans (target, uri, blob) VALUES (?, ?, ?)",
                        (target, scan.resource.uri, pickle.dumps(scan, pickle.HIGHEST_PROTOCOL)))
        self._tick(1)

    def scans(self, target: int) -> list[ResourceScan]:
        """The kept scans of a target, by resource URI (what target-level rules judge)."""
        return [pickle.loads(blob) for (blob,) in
                self.db.execute("SELECT blob FROM scans WHERE target = ? ORDER BY uri, seq", (target,))]

    def findings(self) -> Iterator[Finding]:
        """Every finding, by level (most severe first), resource, rule and entity type."""
        for (blob,) in self.db.execute("SELECT blob FROM findings ORDER BY rank, uri, rule, entity, seq"):
            yield pickle.loads(blob)

    def notifications(self) -> Iterator[Notification]:
        for (blob,) in self.db.execute("SELECT blob FROM notes ORDER BY phase, target, uri, seq"):
            yield pickle.loads(blob)

    def close(self) -> None:
        self.db.close()
