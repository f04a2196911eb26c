"""What a connector is: the contract every data source implements.

A connector turns one target (a path, ``postgresql://…``, ``s3://…``, ``sftp://…``) into resources,
reads each resource's content as UTF-8 :class:`~scanner.model.Chunk` s, and reports target-level
:class:`~scanner.model.Fact` s (grants, bucket posture) for rules to judge. It declares the URI
schemes it serves and the permissions it needs (Cloud Custodian style), so a security team can grant
exactly those and a test can check the connector asks for nothing more.

Connectors never write to what they scan, never build clients at import time, and connect lazily.
They run inside worker processes: the constructor must be cheap and picklable arguments only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from scanner.model import Chunk, Fact, Level, Match, Notification, Resource, ResourceScan

MAX_MATCHES_KEPT_PER_ENTITY = 20


class ContentProtected(Exception):
    """The resource is encrypted (PGP, age, ...): protected, not scanned as plaintext."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


class ContentSkipped(Exception):
    """The resource holds no text to scan (binary, empty): counted, not reported."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReadError(Exception):
    """A resource could not be read (permission, corruption, vanished): becomes a notification."""

    def __init__(self, message: str, kind: str = "unreadable", level: Level = Level.WARNING) -> None:
        super().__init__(message)
        self.kind = kind
        self.level = level


@dataclass(frozen=True)
class ScanOptions:
    """Options every connector receives; connector-specific settings live in ``extra``."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_file_size: int = 256 * 1024 * 1024
    # Expanded bytes one compressed stream (a .gz/.bz2/.xz file, a ZIP member, a remote sample) may
    # produce: rotated logs rarely expand past a few hundred MiB, bombs to terabytes.
    max_expanded_size: int = 1024 * 1024 * 1024
    # Output / compressed bytes consumed: text logs compress 5-30:1 with gzip, up to ~100:1 with xz
    # when lines repeat; DEFLATE's ceiling is 1032:1 and bombs sit near it.
    max_expansion_ratio: float = 200
    max_depth: int = 64
    follow_symlinks: bool = False
    # globs (on the full path) of third-party software and documentation trees, left out of file walks:
    # the policy's locations.third_party unless the scan asks for them (--include-third-party)
    third_party: tuple[str, ...] = ()
    jobs: int = 0
    min_score: float = 0.5
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkPart:
    """A slice of a resource scanned on its own (a byte range of a large uncompressed file)."""

    index: int
    start: int
    end: int

@dataclass(frozen=True)
class TargetOption:
    """A key a scan config's target of a connector may carry, declared by the connector (as Cloud
    Custodian's plug-ins declare their schema), so the config schema is built from the registry.

    ``extra``: the ``ScanOptions.extra`` key it sets (None: the ``ScanOptions`` field of its own name, a
    per-target limit). ``credential``: it lives under the target's ``credentials:`` and is a reference,
    never a secret: ``env`` (an environment variable's name), ``file`` (a file that must exist),
    ``profile`` (an AWS profile) or ``flag`` (a yes/no setting, such as using the SSH agent). ``path``:
    a file path, resolved against the config's directory.
    """

    schema: dict[str, Any]
    extra: str | None = None
    credential: str | None = None
    path: bool = False


POSITIVE = {"type": "integer", "minimum": 1}
ENV_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
FILE_PATH = {"type": "string", "minLength": 1}

#: the per-target limits of connectors that read files (``ScanOptions`` fields of the same names)
FILE_LIMITS = {
    "max_file_size": TargetOption(POSITIVE),
    "max_depth": TargetOption(POSITIVE),
    "follow_symlinks": TargetOption({"type": "boolean"}),
    "max_expanded_size": TargetOption(POSITIVE),
    "max_expansion_ratio": TargetOption({"type": "number", "minimum": 1}),
}


#: Kinds of data store: a file share (local, mounted, SFTP, SMB: files with paths and permissions),
#: object storage (buckets of objects with their own access model), a database (tables and columns).
STORES = ("file-share", "object-storage", "database")


def report_key(connector: type[Connector]) -> str:
    """The key under which reports group a connector's resources (``file``, ``postgresql``, ...)."""
    return connector.report_key or connector.name


def store_of(connector_name: str) -> str | None:
    """The store kind a connector declares; None for a name no connector registered (an old report)."""
    from scanner.registry import CONNECTORS

    return CONNECTORS.get(connector_name).store if connector_name in CONNECTORS else None


class GroupCarry(Protocol):
    """What a state directory offers a connector that lists resources in groups (a directory's files):
    an unchanged group need not be listed file by file (see :class:`scanner.state.TargetGroups`)."""

    def unchanged(self, group_uri: str, signature: str) -> Any:
        """None, or the carried group: ``summary`` (a :class:`~scanner.model.CarriedGroup` to yield) and
        ``positions``: where in the group's listing the resources that must still be listed are (they had
        something in them; a connector that carries groups sets ``Resource.metadata["position"]``)."""
        ...

    def walked(self, group_uri: str, signature: str, resources: int) -> None:
        """The group was listed in full: ``resources`` plain resources, nothing else."""
        ...


class Connector(ABC):
    """Base class of all connectors; subclasses register with ``@CONNECTORS.register``.

    ``groups``: set by the scan when it has a state directory; a connector may use it to skip the
    unchanged groups of an unchanged rerun (the files connector does, per directory).
    """

    groups: GroupCarry | None = None

    name: ClassVar[str]
    schemes: ClassVar[tuple[str, ...]]
    permissions: ClassVar[tuple[str, ...]]
    # what kind of data store it reads (one of ``STORES``): rules select resources by it, never by a
    # connector's name, so a new connector's files get the file rules with no edit to them
    store: ClassVar[str]
    description: ClassVar[str] = ""
    # how a scan config names a target of this connector (``path:``, ``database:``, ``s3:``), an example
    # URI for error messages (none: a path) and the other keys such a target may carry
    config_key: ClassVar[str]
    config_example: ClassVar[str] = ""
    # how the auditor's report names its store (key, and label per report language); key "" = ``name``
    report_key: ClassVar[str] = ""
    labels: ClassVar[dict[str, str]] = {}
    target_options: ClassVar[dict[str, TargetOption]] = {}
    # the optional distribution extra (``pip install 'privaudit[s3]'``) and the modules it brings
    extra: ClassVar[str | None] = None
    requires: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def missing_requirement(cls) -> str | None:
        """How to install what this connector needs, when a module it imports is missing."""
        import importlib.util

        missing = [m for m in cls.requires if importlib.util.find_spec(m) is None]
        if not missing:
            return None
        return (f"{cls.schemes[0]}:// targets need {', '.join(missing)}: install the {cls.extra} extra, "
                f"pip install 'privaudit[{cls.extra}]'")

    @classmethod
    def accepts_config_uri(cls, scheme: str, netloc: str) -> bool:
        """Whether a scan config's URI of this connector's ``config_key`` is of its form."""
        return scheme in cls.schemes

    @classmethod
    def usage_problem(cls, target: str) -> str | None:
        """A mistake in ``target`` to refuse before anything runs (exit 2), such as a password in an SMB URI."""
        return None

    def __init__(self, target: str, options: ScanOptions) -> None:
        self.target = target
        self.options = options

    @property
    def display_target(self) -> str:
        """The target as shown in reports (connectors with credentials in URIs redact them)."""
        return self.target

    @abstractmethod
    def discover(self) -> Iterator[Resource | Notification]:
        """List the resources to scan; problems with single items are yielded as notifications."""

    @abstractmethod
    def read(self, resource: Resource, part: WorkPart | None = None) -> Iterator[Chunk]:
        """Yield the content of ``resource`` (or one part of it); raise :class:`ReadError`."""

    def parts(self, resource: Resource) -> list[WorkPart | None]:
        """Split a resource into independently scannable parts; default: scan it whole."""
        return [None]

    def facts(self) -> Iterator[Fact | Notification]:
        """Target-level observations (grants, posture, transport settings) for rules."""
        return iter(())

    def close(self) -> None:
        """Release connections; called once per process when the scan ends."""
        return None

    def scan_resource(self, resource: Resource, detector: Any, part: WorkPart | None = None) -> ResourceScan:
        """Read and detect one resource (or part). Connectors with richer structure override this and
        still read through :func:`detect_chunks`, so every connector reports failures alike."""
        scan = ResourceScan(resource=resource)
        detect_chunks(scan, self.read(resource, part), detector)
        return scan


def detect_chunks(scan: ResourceScan, chunks: Iterable[Chunk], detector: Any) -> bool:
    """Detect every chunk of ``scan``'s resource into it; True when it was read to the end.

    The one place that says what a failed read is: encrypted or skipped content is recorded on the scan
    (not an error), a :class:`ReadError` or an ``OSError`` becomes a notification naming the resource
    (``permission`` for a denied open, else the error's kind), and the matches found before it are kept.
    """
    resource = scan.resource
    try:
        for chunk in chunks:
            accumulate(scan, chunk, detect(detector, chunk))
    except ContentProtected as exc:
        scan.protected = exc.label
    except ContentSkipped as exc:
        scan.skipped = exc.reason
    except ReadError as exc:
        scan.notifications.append(
            Notification(message=_sentence(f"{resource.display_name}: {exc}"), resource_uri=resource.uri,
                         kind=exc.kind, level=exc.level)
        )
        return False
    except OSError as exc:
        scan.notifications.append(
            Notification(
                message=_sentence(f"{resource.display_name}: {exc.strerror or exc}"),
                resource_uri=resource.uri,
                kind="permission" if isinstance(exc, PermissionError) else "unreadable",
                exception=type(exc).__name__,
            )
        )
        return False
    return True


class DetectionError(RuntimeError):
    """Detection itself failed (e.g. a validator's data file could not be loaded): the scanner's own
    fault, reported as an internal error rather than blamed on the resource being read."""


def detect(detector: Any, chunk: Chunk) -> Any:
    """``detector.scan(chunk)``, keeping the scanner's own I/O errors apart from the resource's."""
    try:
        detections = detector.scan(chunk)
    except OSError as exc:
        raise DetectionError(f"detection failed: {exc}") from exc
    if chunk.repeated or chunk.own_end is not None:
        detections.matches = [m for m in detections.matches if chunk.owns(m.start)]
    return detections


def accumulate(scan: ResourceScan, chunk: Chunk, detections: Any) -> None:
    """Add one chunk's detections to a resource scan, keeping a bounded sample of matches."""
    scan.bytes_scanned += len(chunk.data) - chunk.repeated
    scan.lines_scanned += chunk.data.count(b"\n")
    for entity, count in detections.masked.items():
        scan.masked[entity] = scan.masked.get(entity, 0) + count
    for match in detections.matches:
        seen = scan.occurrences.get(match.entity_type, 0)
        scan.occurrences[match.entity_type] = seen + 1
        scan.note_distinct(match.entity_type, match.value_hash)
        if seen < MAX_MATCHES_KEPT_PER_ENTITY:
            scan.matches.append(match)
    for recognizer, count in getattr(detections, "failed", {}).items():
        note_validation_failures(scan, recognizer, count)


def note_validation_failures(scan: ResourceScan, recognizer: str, count: int) -> None:
    """Count candidates whose validation raised (they were rejected; the rest of the resource was
    scanned) and keep one internal-error notification per recognizer and resource that says how many."""
    scan.validation_failures[recognizer] = scan.validation_failures.get(recognizer, 0) + count
    tag = f"recognizer {recognizer} failed to validate"
    note = Notification(
        message=_sentence(f"{scan.resource.display_name}: detection failed: {tag} "
                          f"{scan.validation_failures[recognizer]} candidate(s), which were rejected; the rest was "
                          "scanned (a scanner defect: please report it)"),
        resource_uri=scan.resource.uri, level=Level.ERROR, kind="internal-error", exception="ValidationError",
    )
    scan.notifications[:] = [n for n in scan.notifications if not (_is_validation_note(n) and tag in n.message)]
    scan.notifications.append(note)


def _is_validation_note(note: Notification) -> bool:
    return note.kind == "internal-error" and note.exception == "ValidationError"


def merge_parts(parts: list[ResourceScan]) -> ResourceScan:
    """Join the scans of a resource's parts, shifting line numbers by the lines before each part."""
    merged = ResourceScan(resource=parts[0].resource)
    lines_before = 0
    kept: dict[str, int] = {}
    for part in parts:
        for match in part.matches:
            if kept.get(match.entity_type, 0) < MAX_MATCHES_KEPT_PER_ENTITY:
                kept[match.entity_type] = kept.get(match.entity_type, 0) + 1
                merged.matches.append(_shift(match, lines_before))
        for entity, count in part.occurrences.items():
            merged.occurrences[entity] = merged.occurrences.get(entity, 0) + count
        for entity, hashes in part.distinct.items():
            for value_hash in hashes:
                merged.note_distinct(entity, value_hash)
        for entity, count in part.masked.items():
            merged.masked[entity] = merged.masked.get(entity, 0) + count
        merged.bytes_scanned += part.bytes_scanned
        merged.lines_scanned += part.lines_scanned
        merged.items_examined += part.items_examined
        merged.protected = merged.protected or part.protected
        merged.skipped = merged.skipped or part.skipped
        merged.facts.extend(part.facts)
        merged.notifications.extend(n for n in part.notifications if not _is_validation_note(n))
        for recognizer, count in part.validation_failures.items():
            note_validation_failures(merged, recognizer, count)
        lines_before += part.lines_scanned
    return merged


def _shift(match: Match, lines: int) -> Match:
    if not lines:
        return match
    return Match(
        entity_type=match.entity_type,
        start=match.start,
        end=match.end,
        line=match.line + lines,
        score=match.score,
        evidence=match.evidence,
        value_hash=match.value_hash,
        protection=match.protection,
        field=match.field,
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(".") else text + "."
