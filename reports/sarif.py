"""SARIF 2.1.0 output, built with sarif-om (OASIS SARIF v2.1.0, errata 01).

sarif-om's attrs classes use snake_case attribute names and keep the SARIF property name in each
field's ``schema_property_name`` metadata; serializing with ``attrs.asdict`` would produce
``rule_id`` instead of ``ruleId`` and invalid SARIF, so :func:`to_sarif_dict` walks the metadata.

Conventions GitHub code scanning and SARIF auditors rely on:

* one result per (resource, rule, entity type); the first occurrence in ``region.startLine``,
  further ones (capped) in ``relatedLocations``; ``properties.occurrences`` the full count;
* file locations relative to the scanned root through ``uriBaseId`` (``originalUriBaseIds`` gives
  the absolute root), non-file resources (columns, objects) as ``logicalLocations``;
* ``partialFingerprints`` from keyed hashes of the resource identity, never raw values;
* rules with ``fullDescription``, ``help`` (text and markdown) and a string
  ``properties["security-severity"]``;
* what could not be read in ``invocations[0].toolExecutionNotifications``.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

import attr
import sarif_om as om

from scanner.fingerprint import SARIF_FINGERPRINT_KEY
from scanner.model import Finding, Level, Location, Notification, ScanReport
from scanner.registry import REPORTERS

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/privaudit/privaudit"
FINGERPRINT_KEY = SARIF_FINGERPRINT_KEY
_KEEP_DEFAULT = {"level", "version"}


def to_sarif_dict(obj: Any) -> Any:
    """Serialize sarif-om objects with their SARIF (camelCase) property names."""
    if attr.has(type(obj)):
        out: dict[str, Any] = {}
        for field in attr.fields(type(obj)):
            value = getattr(obj, field.name)
            if value is None:
                continue
            default = field.default
            if isinstance(default, attr.Factory):  # type: ignore[arg-type]
                default = default.factory()
            if field.name not in _KEEP_DEFAULT and default is not attr.NOTHING and value == default:
                continue
            out[field.metadata.get("schema_property_name", field.name)] = to_sarif_dict(value)
        return out
    if isinstance(obj, dict):
        return {k: to_sarif_dict(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list | tuple):
        return [to_sarif_dict(v) for v in obj]
    return obj


class _Bases:
    """Assigns one ``uriBaseId`` per scanned root (SCANROOT, SCANROOT2, ...)."""

    def __init__(self) -> None:
        self.by_root: dict[str, str] = {}

    def base_for(self, root_uri: str) -> str:
        if root_uri not in self.by_root:
            index = len(self.by_root) + 1
            self.by_root[root_uri] = "SCANROOT" if index == 1 else f"SCANROOT{index}"
        return self.by_root[root_uri]

    def original_uri_base_ids(self) -> dict[str, Any] | None:
        if not self.by_root:
            return None
        return {base: {"uri": root} for root, base in self.by_root.items()}


def _artifact_location(finding: Finding, bases: _Bases, anchor: str | None) -> om.ArtifactLocation | None:
    resource = finding.resource
    if resource.relative_path and resource.root_uri and resource.root_uri.startswith("file://"):
        # the file's own URI keeps the exact bytes of names that are not UTF-8 (percent-encoded)
        own = resource.archive_uri or resource.uri
        relative = (_uri_path(unquote_to_bytes(own[len(resource.root_uri):])) if own.startswith(resource.root_uri)
                    else _uri_path(resource.relative_path))
        return om.ArtifactLocation(uri=relative, uri_base_id=bases.base_for(resource.root_uri))
    if resource.uri.startswith("file://"):
        return om.ArtifactLocation(uri=resource.uri)
    if anchor:
        return om.ArtifactLocation(uri=anchor)
    return om.ArtifactLocation(uri=_pseudo_path(resource.uri))


def _pseudo_path(uri: str) -> str:
    """A relative path standing for a non-file resource (a column, an object, a remote file).

    GitHub code scanning rejects a whole SARIF file whose results have only non-file URIs
    (``postgresql://…``), so such resources get a stable relative path derived from their URI
    (without credentials) unless the caller anchors them to a file such as the scan config; the
    real identity is in ``logicalLocations`` and ``properties.resource``.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}_{parts.port}"
    tail = "/".join(p for p in (parts.path + ("/" + parts.fragment if parts.fragment else "")).split("/") if p)
    return _uri_path("/".join(p for p in (".privaudit", parts.scheme, host, tail) if p))


def _uri_path(relative: str | bytes) -> str:
    from urllib.parse import quote

    if isinstance(relative, str):
        relative = relative.encode("utf-8", "surrogateescape")
    return quote(relative, safe="/!$&'()*+,;=:@-._~")


def _region(location: Location | None) -> om.Region | None:
    if location is None or location.line is None:
        return None
    snippet = om.ArtifactContent(text=location.evidence) if location.evidence else None
    return om.Region(start_line=location.line, start_column=location.column, snippet=snippet)


def _logical_locations(finding: Finding) -> list[om.LogicalLocation] | None:
    resource = finding.resource
    if resource.logical_name:
        kind = resource.logical_kind or "resource"
        return [om.LogicalLocation(fully_qualified_name=resource.logical_name, kind=kind)]
    if not resource.uri.startswith("file://"):
        return [om.LogicalLocation(fully_qualified_name=resource.uri, kind=resource.kind)]
    return None


def _result(finding: Finding, rule_index: dict[str, int], bases: _Bases, anchor: str | None) -> om.Result:
    artifact = _artifact_location(finding, bases, anchor)
    first = finding.locations[0] if finding.locations else None
    # a ZIP member's line numbers count lines of the member, not of the archive the artifact names:
    # they go to properties (``memberLines``), and the member itself to ``logicalLocations``
    in_archive = finding.resource.archive_uri is not None
    region = _region(first) if artifact is not None and not in_archive else None
    if artifact is not None and region is None:
        region = om.Region(start_line=1)
    physical = om.PhysicalLocation(artifact_location=artifact, region=region) if artifact is not None else None
    location = om.Location(physical_location=physical, logical_locations=_logical_locations(finding))
    related = None
    if artifact is not None and len(finding.locations) > 1 and not in_archive:
        related = [
            om.Location(
                id=index,
                physical_location=om.PhysicalLocation(artifact_location=artifact, region=_region(loc)),
                message=om.Message(text=f"Further occurrence of {finding.entity_type or 'the finding'}."),
            )
            for index, loc in enumerate(finding.locations[1:], start=1)
            if loc.line is not None
        ] or None
    properties: dict[str, Any] = {
        "category": finding.category.value,
        "grade": finding.grade,
        "entityType": finding.entity_type,
        "occurrences": finding.occurrences,
        "resource": finding.resource.uri,
    }
    if first is not None and first.field:
        properties["field"] = first.field
    if in_archive:
        properties["memberLines"] = [loc.line for loc in finding.locations if loc.line is not None]
    properties.update(finding.properties)
    text = _stable_first_line(finding.message)
    if related:  # SARIF 3.11.6 embedded links: the message points at each further occurrence
        links = ", ".join(f"[line {loc.physical_location.region.start_line}]({loc.id})" for loc in related[:10])
        text += f"\nFurther occurrences: {links}{', …' if len(related) > 10 else ''}."
    result = om.Result(
        message=om.Message(text=text),
        rule_id=finding.rule_id,
        rule_index=rule_index.get(finding.rule_id, -1),
        level=finding.level.value,
        kind="fail",
        locations=[location],
        related_locations=related,
        partial_fingerprints={FINGERPRINT_KEY: finding.fingerprint},
        properties={k: v for k, v in properties.items() if v is not None},
    )
    if finding.suppressions:
        # plain dicts with SARIF 2.1.0 names: sarif-om's Suppression has the pre-release "state", not "status"
        result.suppressions = [dict(s) for s in finding.suppressions]
    if finding.baseline_state:
        result.baseline_state = finding.baseline_state
    return result


_COUNTS = re.compile(r"^(?P<stable>.+): (?P<counts>[\d,]+\+? (?:distinct values?|occurrences?|days old).*)$", re.DOTALL)


def _stable_first_line(message: str) -> str:
    """Counts on a line of their own: tools that key results by the message's first line (sarif-tools
    ``diff``) then see the same result when only its counts changed between two reviews."""
    found = _COUNTS.match(message)
    return f"{found['stable']}.\n{found['counts']}" if found else message


def _rule(rule_cls: Any) -> om.ReportingDescriptor:
    meta = rule_cls.metadata()
    return om.ReportingDescriptor(
        id=meta.id,
        name=meta.name,
        short_description=om.MultiformatMessageString(text=meta.short_description),
        full_description=om.MultiformatMessageString(text=meta.full_description),
        help=om.MultiformatMessageString(text=meta.help, markdown=meta.help_markdown),
        default_configuration=om.ReportingConfiguration(level=meta.default_level.value),
        properties={
            "security-severity": meta.security_severity,
            "category": meta.category.value,
            "obligations": list(meta.obligations),
            "tags": list(dict.fromkeys(["security", "privacy", meta.category.value, *meta.tags,
                                        *(f"external/cwe/cwe-{n}" for n in meta.cwe)])),
            "precision": meta.precision,
        },
    )


def _notification(note: Notification) -> om.Notification:
    level = note.level.value if note.level is not Level.NONE else "note"
    properties: dict[str, Any] = {"kind": note.kind}
    if note.resource_uri:
        properties["resource"] = note.resource_uri
    if note.exception:
        properties["exception"] = note.exception
    return om.Notification(message=om.Message(text=note.message), level=level, properties=properties)


def build_sarif(report: ScanReport, anchor: str | None = None) -> dict[str, Any]:
    """The SARIF log for ``report`` as a JSON-ready dict."""
    rule_classes = list(report.rules)
    known = {cls.metadata().id for cls in rule_classes}
    extra = sorted({f.rule_id for f in report.findings} - known)
    if extra:
        from scanner.registry import RULES

        rule_classes.extend(RULES.get(rule_id) for rule_id in extra)
    rules = [_rule(cls) for cls in rule_classes]
    rule_index = {rule.id: index for index, rule in enumerate(rules)}
    bases = _Bases()
    results = [_result(f, rule_index, bases, anchor) for f in report.findings]
    invocation = om.Invocation(
        execution_successful=report.execution_successful,
        start_time_utc=report.started,
        end_time_utc=report.finished,
        tool_execution_notifications=[_notification(n) for n in report.notifications] or None,
        working_directory=om.ArtifactLocation(uri=_dir_uri(report.working_directory))
        if report.working_directory
        else None,
        properties={
            "targets": [
                t.as_properties() for t in report.targets
            ],
            "policy": report.policy_name,
        },
    )
    run = om.Run(
        tool=om.Tool(
            driver=om.ToolComponent(
                name="privaudit",
                version=report.tool_version,
                semantic_version=report.tool_version,
                information_uri=INFORMATION_URI,
                rules=rules,
            )
        ),
        results=results,
        invocations=[invocation],
        original_uri_base_ids=bases.original_uri_base_ids(),
        column_kind="unicodeCodePoints",
        automation_details=om.RunAutomationDetails(id=_category_id(report.category)) if report.category else None,
    )
    log = om.SarifLog(version="2.1.0", schema_uri=SARIF_SCHEMA, runs=[run])
    return to_sarif_dict(log)


def _category_id(category: str) -> str:
    """``runAutomationDetails.id`` for a category: GitHub reads the part before the last ``/`` as the category."""
    return category if category.endswith("/") else category + "/"


def _dir_uri(path: str) -> str:
    from pathlib import Path

    return Path(path).as_uri().rstrip("/") + "/"


@REPORTERS.register
class SarifReporter:
    name = "sarif"
    extension = ".sarif"
    suffixes = (".sarif", ".sarif.json")  # output file names this format is inferred from

    def render(self, report: ScanReport, anchor: str | None = None) -> str:
        return json.dumps(build_sarif(report, anchor), indent=2, ensure_ascii=False) + "\n"
