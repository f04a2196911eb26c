"""Core types shared by connectors, detection, rules and reporters.

Everything that crosses a module boundary is defined here, once:

* a connector turns a target into :class:`Resource` objects and, for each, a stream of
  :class:`Chunk` content (bytes in UTF-8) plus :class:`Fact` records (grants, bucket posture, ...);
* detection turns chunks into :class:`Match` objects. A match never carries the raw personal
  value: only its masked form and a keyed fingerprint leave the detector;
* rules turn a :class:`ResourceScan` (resource + matches + stats + facts) into :class:`Finding`;
* reporters consume a :class:`ScanReport`.

Objects that travel between worker processes are plain dataclasses so they pickle cheaply.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


class Category(enum.StrEnum):
    """What kind of problem a finding is (``properties.category`` in SARIF)."""

    PERSONAL_DATA = "personal-data"
    EXPOSURE = "exposure"
    ACCESS = "access"
    ENCRYPTION = "encryption"
    SCHEMA_CHANGE = "schema-change"
    REVIEW = "review"  # the review's own evidence: expired or stale waivers (obligation 9)


class Level(enum.StrEnum):
    """SARIF ``result.level``; ordered so that ``--fail-on`` can compare."""

    NONE = "none"
    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {Level.NONE: 0, Level.NOTE: 1, Level.WARNING: 2, Level.ERROR: 3}


class Protection(enum.StrEnum):
    """Whether a value (or a whole resource) is readable personal data.

    Requirement 5 of the financial rulebooks: masked values are not exposures; requirement 4:
    encrypted or hashed data is protected and must not be reported as plaintext.
    """

    PLAINTEXT = "plaintext"
    MASKED = "masked"
    PROTECTED = "protected"


#: kind of a file read from inside an archive; its URI is the archive's, ``!/``, the member's path
ARCHIVE_MEMBER = "archive-member"
ARCHIVE_SEPARATOR = "!/"


@dataclass(frozen=True, slots=True)
class Resource:
    """One thing that holds data: a file, a log, an object, a table column.

    ``uri`` is the stable identity (used for fingerprints and baselines). It never contains a
    password. ``root_uri`` + ``relative_path`` let SARIF express file locations relative to the
    scanned root (``uriBaseId``); ``logical_name`` is e.g. ``schema.table.column``.
    """

    uri: str
    kind: str
    display_name: str
    connector: str
    root_uri: str | None = None
    relative_path: str | None = None
    logical_name: str | None = None
    logical_kind: str | None = None
    size: int | None = None
    mtime: float | None = None
    mode: int | None = None
    owner: str | None = None
    group: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def archive_uri(self) -> str | None:
        """The URI of the archive an archive member was read from (None for anything else)."""
        return self.uri.split(ARCHIVE_SEPARATOR, 1)[0] if self.kind == ARCHIVE_MEMBER else None


#: distinct values tracked per entity and resource; "1,000 or more" is enough to grade an export
DISTINCT_CAP = 1000


@dataclass(frozen=True, slots=True)
class CarriedGroup:
    """A group of resources (a directory's files) a connector did not list because the state directory
    says the group is unchanged since it was read (:mod:`scanner.state`): its clean resources, as the
    counters their scans gave. The group's resources with anything in them are still listed, one by one."""

    resources: int
    bytes_scanned: int
    items_examined: int


@dataclass(slots=True)
class Chunk:
    """A piece of a resource's content, as UTF-8 bytes.

    ``line_offset`` is the number of newlines in the resource before ``data`` so that detection can
    report resource-relative line numbers; ``byte_offset`` likewise for byte positions. ``fields``
    names the columns of delimited data (``layout == "delimited"``), ``field`` the single field a
    chunk belongs to (a database column, a JSON key); both feed field-name hints.

    A line too long for one chunk is cut inside: the next chunk then starts with ``repeated`` bytes
    of the previous one, and each chunk owns only the matches that start in ``[own_start, own_end)``
    of its ``data`` (``own_end`` ``None``: to the end), so a value across the cut is found once.
    """

    data: bytes
    line_offset: int = 0
    byte_offset: int = 0
    layout: str = "text"
    fields: tuple[str, ...] | None = None
    delimiter: bytes = b","
    field: str | None = None
    repeated: int = 0
    own_start: int = 0
    own_end: int | None = None

    def owns(self, start: int) -> bool:
        """Whether a match starting at resource byte ``start`` is this chunk's to report."""
        relative = start - self.byte_offset
        return relative >= self.own_start and (self.own_end is None or relative < self.own_end)


@dataclass(frozen=True, slots=True)
class Match:
    """A detected identifier. Holds no raw value: ``evidence`` is masked, ``value_hash`` keyed."""

    entity_type: str
    start: int
    end: int
    line: int
    score: float
    evidence: str
    value_hash: str
    protection: Protection = Protection.PLAINTEXT
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Fact:
    """A non-content observation about a resource that rules evaluate.

    Examples: a database grant (``kind="grant"``), a bucket policy statement, a transport setting.
    ``data`` is connector-specific but documented by the rule that reads it.
    """

    kind: str
    resource_uri: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Notification:
    """Something that could not be read or checked; becomes a SARIF tool execution notification."""

    message: str
    resource_uri: str | None = None
    level: Level = Level.WARNING
    kind: str = "unreadable"
    exception: str | None = None
    count: int = 1  # items it stands for (one note for every third-party tree left out)


@dataclass(slots=True)
class ResourceScan:
    """Everything detection learned about one resource; the unit rules evaluate."""

    resource: Resource
    matches: list[Match] = field(default_factory=list)
    occurrences: dict[str, int] = field(default_factory=dict)
    masked: dict[str, int] = field(default_factory=dict)
    protected: str | None = None
    bytes_scanned: int = 0
    lines_scanned: int = 0
    items_examined: int = 0
    skipped: str | None = None
    facts: list[Fact] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    validation_failures: dict[str, int] = field(default_factory=dict)  # recognizer id -> candidates rejected
    # entity type -> keyed hashes of the distinct values seen, up to DISTINCT_CAP (how many customers a
    # resource exposes: two e-mails in a README and 40,000 in an export are different findings)
    distinct: dict[str, set[str]] = field(default_factory=dict)

    @property
    def entity_types(self) -> set[str]:
        return set(self.occurrences)

    def distinct_count(self, entity_type: str) -> int:
        """Distinct values of ``entity_type`` (at most :data:`DISTINCT_CAP`; the occurrence count when
        values were not tracked, as for summaries restored from an incremental state)."""
        seen = self.distinct.get(entity_type)
        return len(seen) if seen else min(self.occurrences.get(entity_type, 0), DISTINCT_CAP)

    def note_distinct(self, entity_type: str, value_hash: str) -> None:
        seen = self.distinct.setdefault(entity_type, set())
        if len(seen) < DISTINCT_CAP:
            seen.add(value_hash)

    def matches_of(self, entity_type: str) -> Iterator[Match]:
        return (m for m in self.matches if m.entity_type == entity_type)


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a resource a finding shows itself (1-based line, optional column/field)."""

    line: int | None = None
    end_line: int | None = None
    field: str | None = None
    evidence: str | None = None
    column: int | None = None  # 1-based, where known (a column's name in a migration)


@dataclass(slots=True)
class Finding:
    """One result: one (resource, rule, entity type) with its occurrences.

    ``fingerprint`` is derived from the rule and the resource identity (never line numbers or raw
    values) so baselines stay stable when content moves.
    """

    rule_id: str
    level: Level
    category: Category
    message: str
    resource: Resource
    grade: str | None = None
    entity_type: str | None = None
    occurrences: int = 0
    locations: list[Location] = field(default_factory=list)
    fingerprint: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    suppressions: list[dict[str, Any]] = field(default_factory=list)
    baseline_state: str | None = None


@dataclass(slots=True)
class TargetSummary:
    """What a scan target covered: for the auditors' coverage section."""

    target: str
    connector: str
    resources: int = 0
    bytes_scanned: int = 0
    items_examined: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    protected: dict[str, int] = field(default_factory=dict)
    masked: dict[str, int] = field(default_factory=dict)
    failed: bool = False

    def as_properties(self) -> dict[str, Any]:
        """The JSON shape every report format uses (SARIF invocation properties, JSON output)."""
        return {
            "target": self.target,
            "connector": self.connector,
            "resources": self.resources,
            "bytesScanned": self.bytes_scanned,
            "itemsExamined": self.items_examined,
            "skipped": self.skipped,
            "protected": self.protected,
            "masked": self.masked,
            "failed": self.failed,
        }


@dataclass(slots=True)
class ScanReport:
    """What reporters consume: the findings, what could not be read, and what was covered."""

    findings: list[Finding]
    notifications: list[Notification]
    targets: list[TargetSummary]
    rules: list[Any]
    started: str
    finished: str
    tool_version: str
    policy_name: str
    command_line: list[str] = field(default_factory=list)
    working_directory: str | None = None
    # SARIF runAutomationDetails.id (``--category``): tells apart uploads of different scans of one repo
    category: str | None = None
    # directory SARIF for GitHub makes file URIs relative to (``--sarif-root``; default: the git work tree)
    sarif_root: str | None = None

    @property
    def execution_successful(self) -> bool:
        return not any(n.level is Level.ERROR for n in self.notifications) and not any(
            t.failed for t in self.targets
        )
