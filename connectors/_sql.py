"""What the three SQL connectors share: column metadata, sampling bounds, column classification, and
the scan of one table (:class:`SQLConnector`: sample, classify, report what could not be sampled).

A database column is judged by fusing two signals (issue 3):

* what its name, comment, declared type and table say (:func:`scanner.detection.fields.classify_field`,
  the classifier the migration checker also uses, so both agree on what ``sfzh``, ``卡号``,
  ``phone_confirmed_at timestamptz`` or ``branch.name`` mean), and
* what its sampled values are: the share of non-null values in which the detector finds a valid
  identifier (checksums, calendars), the share that are masked, and the share that look like
  ciphertext or hashes (:func:`scanner.detection.protected.classify_protected`).

So ``id_card_no`` with valid IDs is certain, ``notes`` with a few IDs is free-text exposure, a bare
``name`` outside a table of people holds names only if its values read as names,
``order_no`` with 18-digit numbers that fail the GB 11643 check is nothing, and ``password_hash``
holding bcrypt strings is protected, not plaintext.

Each connector keeps only what its dialect decides: the catalog queries, identifier quoting, how a
bounded sample is read, and which driver errors mean a vanished table, a denied privilege, a timeout
or a dropped connection.

With ``--state`` (:mod:`scanner.state`) a table whose change key (:func:`with_change`) is the same as at the
last run is not sampled again: the key is a keyed hash of what the catalog says about the table (everything
its scan reads: columns, types, comments, privileges) and of what says its rows changed (row-count
estimate, the statistics' last-analysed time, and what else the server counts). Grants and server settings
are not part of it: :meth:`Connector.facts` reads them on every run.

This module is private (leading underscore): the registry does not load it as a connector.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import re
from abc import abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar
from urllib.parse import urlsplit

from scanner.connector import (
    ENV_NAME,
    MAX_MATCHES_KEPT_PER_ENTITY,
    POSITIVE,
    Connector,
    ReadError,
    TargetOption,
    WorkPart,
)
from scanner.detection.fields import classify_field, names_share
from scanner.detection.protected import classify_protected as shared_classify_protected
from scanner.facts import ColumnVerdict
from scanner.fingerprint import keyed_hash
from scanner.migrations.schema import MIN_ENCODED_LENGTH, protected_name
from scanner.model import Chunk, Level, Match, Notification, Resource, ResourceScan

DEFAULT_SAMPLE_ROWS = 200
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000
SAMPLE_SEED = 20240601
MAX_VALUE_CHARS = 4096
#: share of non-null sampled values that must validate for a column to *hold* an entity
HOLDS_SHARE = 0.5
#: with a matching name, a lower share suffices (some rows may hold placeholders)
HOLDS_SHARE_WITH_NAME = 0.3
#: a value *is* an identifier when the identifier covers this share of it (``Tel: 138…`` is one,
#: ``客户来电, 手机 138…`` is text that contains one)
WHOLE_VALUE_SHARE = 0.6
#: share of values that must look like ciphertext/hash/masked for the column to count as protected
PROTECTED_SHARE = 0.8
#: share of non-null values that must read as person names for a bare ``name`` column outside a table of
#: people (``branch.name`` holds branch names) to hold names, and the fewest values that can say so
NAME_VALUES_SHARE = 0.8
NAME_VALUES_MIN = 3

@dataclass(frozen=True)
class ColumnInfo:
    """A column as the catalog describes it."""

    name: str
    data_type: str
    comment: str | None = None
    binary: bool = False
    numeric: bool = False
    #: False when the scanning role may not SELECT the column (PostgreSQL column privileges): not sampled,
    #: classified by name and comment only
    readable: bool = True
    #: an enumerated type (PostgreSQL ``CREATE TYPE ... AS ENUM``): holds one of its labels, never a value
    enum: bool = False


_COLUMN_FIELDS = tuple(f.name for f in fields(ColumnInfo))


def columns_metadata(columns: Sequence[ColumnInfo]) -> list[dict[str, Any]]:
    """Columns as plain dicts for :attr:`Resource.metadata` (pickled to worker processes)."""
    return [{name: getattr(c, name) for name in _COLUMN_FIELDS} for c in columns]  # asdict: 10x the cost


def columns_from_metadata(resource: Resource) -> list[ColumnInfo]:
    return [ColumnInfo(**c) for c in resource.metadata.get("columns", ())]


def sample_rows(options_extra: Mapping[str, Any]) -> int:
    return max(1, int(options_extra.get("sample_rows", DEFAULT_SAMPLE_ROWS)))


def statement_timeout_ms(options_extra: Mapping[str, Any]) -> int:
    return max(100, int(options_extra.get("statement_timeout_ms", DEFAULT_STATEMENT_TIMEOUT_MS)))


def selected(schema: str, table: str, include: Iterable[str], exclude: Iterable[str]) -> bool:
    """Include/exclude globs match ``schema.table`` (or the bare table name)."""
    qualified = f"{schema}.{table}"
    include = tuple(include)

    def hit(patterns: Iterable[str]) -> bool:
        return any(fnmatch.fnmatchcase(qualified, p) or fnmatch.fnmatchcase(table, p) for p in patterns)

    if include and not hit(include):
        return False
    return not hit(exclude)


def redact_password(target: str) -> str:
    """``scheme://user:secret@host/db`` as ``scheme://user@host/db``: targets are shown in reports, passwords never."""
    parts = urlsplit(target)
    if parts.password is None:
        return target
    netloc = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username}@{netloc}" if parts.username else netloc).geturl()


def no_tls_note(display_target: str) -> Notification:
    """The server offered no TLS and the operator did not demand it: scanned anyway, and said so."""
    return Notification(f"{display_target}: the server offers no TLS; the scan connected without it.",
                        display_target, level=Level.NOTE, kind="transport")


def table_uri(scheme: str, host: str | None, port: int | None, database: str, schema: str, table: str) -> str:
    """``postgresql://127.0.0.1:5432/app#public.customers``: stable, and never with credentials."""
    netloc = host or ""
    if port:
        netloc += f":{port}"
    return f"{scheme}://{netloc}/{database}#{schema}.{table}"


def table_resource(connector: str, uri: str, database: str, schema: str, table: str, kind: str,
                   columns: Sequence[ColumnInfo], **metadata: Any) -> Resource:
    return Resource(
        uri=uri,
        kind=kind,
        display_name=f"{database}:{schema}.{table}",
        connector=connector,
        logical_name=f"{schema}.{table}",
        logical_kind="table",
        metadata={"schema": schema, "table": table, "database": database,
                  "columns": columns_metadata(columns), **metadata},
    )


#: what a table's change key covers; another version's key never matches (its tables are sampled again)
CHANGE_VERSION = "table/1"


def with_change(resource: Resource, stats: Any, options_extra: Mapping[str, Any]) -> Resource:
    """Set ``resource.metadata["change"]`` (read by :func:`scanner.state.change_key`): unchanged while the
    table's description and ``stats`` are, so an unchanged table is not sampled again under ``--state``.

    The description is the resource's whole metadata (columns with their types, comments, binary/enum
    flags and column privileges; the table's comment, kind, row estimate and what else the connector put
    there): everything the classification reads. ``stats`` is what the server says about the rows (JSON
    values, dates and decimals as text); None when it says nothing that follows them (a view's rows live
    in other tables): then no key is set and the table is sampled on every run. The sample size is part
    of the key (a larger ``sample_rows`` reads the table again). Names are in it, so it is a keyed hash
    (:func:`scanner.fingerprint.keyed_hash`): the state never holds a raw table or column name.
    """
    if stats is None:
        return resource
    described = {k: v for k, v in resource.metadata.items() if k != "change"}
    text = json.dumps([described, stats, sample_rows(options_extra)], sort_keys=True, ensure_ascii=True,
                      default=str, separators=(",", ":"))
    resource.metadata["change"] = (CHANGE_VERSION, keyed_hash("table-change", text))
    return resource


# -- protected values ------------------------------------------------------------------------------

_MASK = re.compile(r"[*＊#×xX•]{3,}")


def classify_protected(value: str) -> str | None:
    """Ciphertext/hash label of ``value`` or None (:mod:`scanner.detection.protected`, the one classifier
    files, logs and databases share)."""
    try:
        return shared_classify_protected(value)
    except Exception:  # a bug there must not abort a database scan
        return None


def binary_label(raw: bytes) -> str | None:
    """Label for a bytea/blob value that is not readable text: PGP packets, other ciphertext/digests.

    pgcrypto's ``pgp_sym_encrypt``/``pgp_pub_encrypt`` return OpenPGP packets (RFC 4880): the first
    octet has bit 7 set (packet tag); ``digest()``/``hmac()`` return 16–64 raw bytes.
    """
    if not raw:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable():
        return None  # plaintext stored as bytes: scanned as text
    if raw[0] & 0x80 and (raw[0] & 0x40 or raw[0] in (0x8C, 0x8D, 0x84, 0x85)):
        return "pgp-encrypted"
    if len(raw) in (16, 20, 28, 32, 48, 64):
        return "binary-digest"
    return "binary-ciphertext"


# -- classification ---------------------------------------------------------------------------------


def _one_line(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ")[:MAX_VALUE_CHARS]


_TYPE_LENGTH = re.compile(r"\((\d+)\)")


def _protected_by_name(info: ColumnInfo) -> bool:
    """A column that was not sampled (no privilege, lost session) named as hashed or encrypted
    (``password_hash``, ``id_card_enc``) with a text type wide enough for a digest or ciphertext is
    taken as protected, as ``privaudit check-migrations`` takes it; ``id_card_enc varchar(18)`` is not."""
    data_type = (info.data_type or "").lower()
    if not protected_name(info.name) or not ("char" in data_type or "text" in data_type):
        return False
    length = _TYPE_LENGTH.search(data_type)
    return length is None or int(length.group(1)) >= MIN_ENCODED_LENGTH


def column_hint(info: ColumnInfo, table: str | None) -> Any:
    """What the column's name, comment, declared type and table say (the classifier check-migrations uses)."""
    return classify_field(info.name, info.comment, "enum" if info.enum else (info.data_type or None), table)


def classify_column(
    info: ColumnInfo,
    logical_name: str,
    values: Sequence[str | bytes | None],
    detector: Any,
    scan: ResourceScan,
    table: str | None = None,
) -> ColumnVerdict:
    """Fuse the name/comment/type hint with what the sampled values are; add matches to ``scan``.

    ``table`` (default: from ``logical_name``, ``schema.table.column``) decides a bare ``name``: a
    person's name in a table of people, otherwise only when the sampled values read as names."""
    if table is None:
        parts = logical_name.rsplit(".", 2)
        table = parts[-2] if len(parts) >= 2 else None
    hint = column_hint(info, table)
    sample = _ColumnSample.read(values)
    if sample.texts:
        sample.detect(info, detector, scan)
    verdict = ColumnVerdict(
        resource_uri=scan.resource.uri, column=info.name, logical_name=logical_name, data_type=info.data_type,
        classes=hint.classes if hint.personal else (), name_entities=hint.entities if hint.personal else (),
        sampled_rows=len(values), non_null=sample.non_null, entities=dict(sample.entities),
        shares=sample.shares(),
    )
    verdict = replace(verdict, **sample.protection(info, bool(values)))
    verdict = _with_holds(verdict, hint, sample)
    return replace(verdict, **_basis(verdict, hint))


@dataclass
class _ColumnSample:
    """The sampled values of one column and what detection found in them."""

    texts: list[str]
    non_null: int
    protected_labels: Counter[str]
    entities: dict[str, int] = field(default_factory=dict)
    entity_lines: dict[str, set[int]] = field(default_factory=dict)
    value_lines: dict[str, set[int]] = field(default_factory=dict)  # lines whose value *is* the identifier
    masked_lines: int = 0

    @classmethod
    def read(cls, values: Sequence[str | bytes | None]) -> _ColumnSample:
        """Non-null values as one-line texts; binary values that are ciphertext or digests are counted."""
        texts: list[str] = []
        labels: Counter[str] = Counter()
        non_null = 0
        for value in values:
            if value is None:
                continue
            non_null += 1
            if isinstance(value, bytes | bytearray | memoryview):
                raw = bytes(value)
                label = binary_label(raw)
                if label:
                    labels[label] += 1
                    continue
                value = raw.decode("utf-8", "replace")
            texts.append(_one_line(str(value)))
        return cls(texts, non_null, labels)

    def detect(self, info: ColumnInfo, detector: Any, scan: ResourceScan) -> None:
        """Detection first: a value holding a valid identifier is plaintext whatever it looks like, so the
        ciphertext/hash heuristics (which would call a long digit string "hex") never hide a real ID."""
        data = ("\n".join(self.texts) + "\n").encode("utf-8", "replace")
        detections = detector.scan(Chunk(data=data, field=info.name))
        _add(scan, info.name, detections.matches, detections.masked, len(data), len(self.texts))
        for match in detections.matches:
            self.entity_lines.setdefault(match.entity_type, set()).add(match.line)
            value = self.texts[match.line - 1].strip() if 0 < match.line <= len(self.texts) else ""
            found = data[match.start:match.end].decode("utf-8", "replace")
            if value and len(found) >= WHOLE_VALUE_SHARE * len(value):
                self.value_lines.setdefault(match.entity_type, set()).add(match.line)
            self.entities[match.entity_type] = self.entities.get(match.entity_type, 0) + 1
        self.masked_lines = sum(detections.masked.values())
        if not detections.masked and not detections.matches:
            self.masked_lines = sum(1 for t in self.texts if _MASK.search(t))
        if not info.numeric:
            matched = set().union(*self.entity_lines.values()) if self.entity_lines else set()
            for line, text in enumerate(self.texts, start=1):
                label = None if line in matched else classify_protected(text)
                if label:
                    self.protected_labels[label] += 1

    def shares(self) -> dict[str, float]:
        """Share of non-null values per entity type found, and protected and masked values."""
        if not self.non_null:
            return {}
        shares = {entity: round(len(lines) / self.non_null, 3) for entity, lines in self.entity_lines.items()}
        shares["protected"] = round(sum(self.protected_labels.values()) / self.non_null, 3)
        shares["masked"] = round(min(1.0, self.masked_lines / self.non_null), 3)
        return shares

    def protection(self, info: ColumnInfo, sampled: bool) -> dict[str, Any]:
        """``protection`` and its label: by the sampled values, else a binary type, else a hashed name."""
        if self.non_null:
            protected_share = sum(self.protected_labels.values()) / self.non_null
            if protected_share >= PROTECTED_SHARE:
                return {"protection": "protected", "protection_label": self.protected_labels.most_common(1)[0][0]}
            masked_share = min(1.0, self.masked_lines / self.non_null)
            if masked_share >= PROTECTED_SHARE and not any(self.entity_lines.values()):
                return {"protection": "masked", "protection_label": "masked"}
        elif info.binary:
            return {"protection": "protected", "protection_label": "binary"}
        elif not sampled and _protected_by_name(info):
            return {"protection": "protected", "protection_label": "name"}
        return {}


def _with_holds(verdict: ColumnVerdict, hint: Any, sample: _ColumnSample) -> ColumnVerdict:
    """The entity types the column's values *are*: values that merely contain one among other text
    (``客户来电, 手机 138…``, a JSON document) make it free text; a bare ``name`` outside a table of
    people holds person names only if the values read as names."""
    holds = []
    for entity, lines in sample.value_lines.items():
        share = len(lines) / sample.non_null
        named = entity in hint.entities and hint.personal
        if share >= HOLDS_SHARE or (named and share >= HOLDS_SHARE_WITH_NAME):
            holds.append(entity)
    shares, classes = dict(verdict.shares), verdict.classes
    if (hint.conditional and not hint.classes and sample.non_null >= NAME_VALUES_MIN
            and verdict.protection == "plaintext"):
        share = names_share(sample.texts)
        if share >= NAME_VALUES_SHARE:
            for cls in hint.conditional:
                shares[cls] = round(share, 3)
                holds.append(cls)
            classes = tuple(hint.conditional)
    return replace(verdict, holds=tuple(sorted(holds)), shares=shares, classes=classes)


def _basis(verdict: ColumnVerdict, hint: Any) -> dict[str, Any]:
    """What the verdict rests on, and how sure it is."""
    if verdict.holds:
        named = hint.personal and any(e in hint.entities for e in verdict.holds)
        top = max(verdict.shares[e] for e in verdict.holds)
        return {"basis": "name+content" if named else "content",
                "confidence": 1.0 if named else round(min(0.95, 0.5 + top / 2), 2)}
    if verdict.entities:
        if hint.personal:
            return {"basis": "name", "confidence": 0.7}
        return {"basis": "free-text", "confidence": round(max(verdict.shares.get(e, 0.0) for e in verdict.entities), 3)}
    if hint.personal:
        # A name whose recognizable entity never validates in a sizeable sample is weak evidence.
        weak = hint.entities and verdict.non_null >= 10 and verdict.protection == "plaintext"
        return {"basis": "name", "confidence": 0.3 if weak else 0.6}
    return {}


def _add(scan: ResourceScan, column: str, matches: list[Match], masked: Mapping[str, int], size: int,
         lines: int) -> None:
    scan.bytes_scanned += size
    scan.lines_scanned += lines
    for entity, count in masked.items():
        scan.masked[entity] = scan.masked.get(entity, 0) + count
    for match in matches:
        seen = scan.occurrences.get(match.entity_type, 0)
        scan.occurrences[match.entity_type] = seen + 1
        if seen < MAX_MATCHES_KEPT_PER_ENTITY:
            scan.matches.append(match)


def sampled_columns(columns: Sequence[ColumnInfo]) -> list[ColumnInfo]:
    return [c for c in columns if c.readable]


def unreadable_note(resource: Resource, columns: Sequence[ColumnInfo]) -> Notification | None:
    """Say which columns the scanning role could not sample (classified by name only)."""
    hidden = [c.name for c in columns if not c.readable]
    if not hidden:
        return None
    return Notification(
        f"{resource.display_name}: the scanning role may not SELECT column(s) {', '.join(hidden)}; they were "
        "classified by name and comment only.", resource.uri, level=Level.NOTE, kind="permission")


def classify_rows(resource: Resource, columns: Sequence[ColumnInfo], rows: Sequence[Sequence[Any]],
                  detector: Any, scan: ResourceScan) -> list[ColumnVerdict]:
    """Classify every column of a sampled table; verdicts also go into ``scan.facts``.

    ``rows`` hold the readable columns only, in order (see :func:`sampled_columns`).
    """
    scan.items_examined += len(rows)
    verdicts = []
    positions = {c.name: i for i, c in enumerate(sampled_columns(columns))}
    for info in columns:
        index = positions.get(info.name)
        values = [row[index] for row in rows] if index is not None else []
        values = [v if v is None or isinstance(v, str | bytes | bytearray | memoryview) else _text(v)
                  for v in values]
        verdict = classify_column(info, f"{resource.logical_name}.{info.name}", values, detector, scan,
                                  table=resource.metadata.get("table"))
        verdicts.append(verdict)
        if verdict.classes or verdict.entities or verdict.protection != "plaintext":
            scan.facts.append(verdict)
    # Coverage for auditors (TargetSummary.protected): tables whose graded columns include protected ones.
    labels = Counter(v.protection_label for v in verdicts
                     if v.protection == "protected" and v.protection_label and (v.classes or v.name_entities))
    if labels:
        scan.protected = f"column:{labels.most_common(1)[0][0]}"
    return verdicts


def _text(value: Any) -> str:
    import json

    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# -- scanning one table -----------------------------------------------------------------------------


class SQLConnector(Connector):
    """A database connector whose resources are tables: sample them, classify their columns, report gaps.

    The scan of a table is the same whatever the server: sample at most ``sample_rows`` rows of the
    columns the scanning identity may read, classify every column (:func:`classify_rows`), and turn a
    failed sample into one notification naming the table, so a table dropped mid-scan or a dropped
    connection costs that table only. Subclasses say how to connect (:meth:`_connect`), how to read a
    bounded sample (:meth:`_sample`) and what their driver's errors mean (:meth:`_sampling_failure`).
    """

    store = "database"
    config_key = "database"
    target_options = {
        "sample_rows": TargetOption(POSITIVE, extra="sample_rows"),
        "statement_timeout_ms": TargetOption({"type": "integer", "minimum": 100}, extra="statement_timeout_ms"),
        "connect_timeout": TargetOption(POSITIVE, extra="connect_timeout"),
        "password_env": TargetOption(ENV_NAME, extra="password_env", credential="env"),
    }

    #: who is denied in a permission error ("grant SELECT to the scanning role")
    scanning_identity: ClassVar[str] = "role"
    #: the server setting that cut a sample short, named in the timeout message (None: not named)
    timeout_setting: ClassVar[str | None] = None

    _conn: Any = None

    @abstractmethod
    def _connect(self) -> Any:
        """The open, read-only session (reconnecting after :meth:`close`); raise :class:`ReadError`."""

    @abstractmethod
    def _sample(self, conn: Any, resource: Resource, columns: list[ColumnInfo]) -> list[tuple]:
        """At most ``sample_rows`` rows of ``columns`` (in that order), read without writing anything."""

    @abstractmethod
    def _sampling_failure(self, exc: Exception) -> str | None:
        """The :class:`ReadError` kind of a driver error raised by :meth:`_sample`: ``vanished`` (table
        dropped), ``permission``, ``timeout``, ``connection`` (session lost: reconnect) or ``unreadable``
        (any other driver error); None for an exception that is not the driver's (it propagates)."""

    def _error_text(self, exc: Exception) -> str:
        """The driver error as one short line, for ``connection lost: …`` and ``sampling failed: …``."""
        return str(exc)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _sampling_error(self, kind: str, exc: Exception) -> ReadError:
        if kind == "vanished":
            return ReadError("the table no longer exists (dropped during the scan)", kind=kind)
        if kind == "permission":
            return ReadError(f"permission denied to sample the table (grant SELECT to the scanning "
                             f"{self.scanning_identity})", kind=kind)
        if kind == "timeout":
            setting = f" ({self.timeout_setting})" if self.timeout_setting else ""
            return ReadError(f"sampling timed out{setting}", kind=kind)
        if kind == "connection":
            return ReadError(f"connection lost: {self._error_text(exc)}", kind=kind)
        return ReadError(f"sampling failed: {self._error_text(exc)}")

    def _fetch(self, resource: Resource, columns: Sequence[ColumnInfo]) -> list[tuple]:
        """Sampled rows of the readable ``columns``, in order; a failed sample raises :class:`ReadError`."""
        columns = sampled_columns(columns)
        if not columns:
            return []
        conn = self._connect()
        try:
            return self._sample(conn, resource, columns)
        except Exception as exc:
            kind = self._sampling_failure(exc)
            if kind is None:
                raise
            if kind == "connection":
                self.close()  # reconnect for the next resource
            raise self._sampling_error(kind, exc) from None

    def read(self, resource: Resource, part: WorkPart | None = None) -> Iterator[Chunk]:
        """Sampled values, one column per chunk and one value per line (the generic path)."""
        columns = sampled_columns(columns_from_metadata(resource))
        rows = self._fetch(resource, columns)
        for index, column in enumerate(columns):
            values = [str(r[index]).replace("\n", " ") for r in rows
                      if r[index] is not None and not isinstance(r[index], bytes)]
            yield Chunk(data="\n".join(values).encode("utf-8", "replace"), field=column.name)

    def _sample_notes(self, resource: Resource, columns: Sequence[ColumnInfo],
                      rows: Sequence[Sequence[Any]]) -> list[Notification]:
        """What a reader of the table's findings must know about its sample: columns it could not read."""
        note = unreadable_note(resource, columns)
        return [] if note is None else [note]

    def scan_resource(self, resource: Resource, detector: Any, part: WorkPart | None = None) -> ResourceScan:
        scan = ResourceScan(resource=resource)
        columns = columns_from_metadata(resource)
        try:
            rows = self._fetch(resource, columns)
        except ReadError as exc:
            scan.notifications.append(Notification(f"{resource.display_name}: {exc}.", resource.uri, kind=exc.kind))
            if exc.kind != "vanished":
                # The table still exists: its columns are judged by name, as columns the account may not
                # read are, so grants on them are still checked (the catalogs were read at discovery).
                classify_rows(resource, columns, [], detector, scan)
            return scan
        scan.notifications.extend(self._sample_notes(resource, columns, rows))
        classify_rows(resource, columns, rows, detector, scan)
        return scan
