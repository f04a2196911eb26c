"""Baselines: compare a scan with the previous review's SARIF (``--baseline previous.sarif``).

Obligation 9 asks for evidence that can be diffed between semiannual reviews. Every result gets a
SARIF ``baselineState`` (SARIF 2.1.0 §3.27.24), matched on ``partialFingerprints["privaudit/v1"]``
(a keyed hash of rule, resource and entity type — never line numbers or values, so moving a line or
re-ordering rows does not churn):

* ``new`` — not in the previous review;
* ``unchanged`` — in both, same level, grade and (for files and objects) occurrence count;
* ``updated`` — in both, but its level, grade or count changed. Database column counts come from a
  sample and are not compared;
* ``absent`` — in the previous review, not found now: the previous result is carried into the new log
  so "resolved since the last review" is visible. Absent results never fail a run.

A target that could not be scanned this time (unreachable, missing, removed from the config), or a
resource that could not be read, proves nothing about its old findings: they are carried as
``unchanged`` with ``properties.notCovered`` (and a notification per target or resource), not as
``absent``. Results of the previous review that were already absent are history and not carried
again.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from scanner.fingerprint import SARIF_FINGERPRINT_KEY
from scanner.model import Category, Finding, Level, Location, Notification, Resource, ScanReport

FINGERPRINT_KEY = SARIF_FINGERPRINT_KEY
_STANDARD_PROPERTIES = ("category", "grade", "entityType", "occurrences", "resource", "field", "notCovered",
                        "notCoveredReason")
_URI_SEPARATORS = ("/", ".", "!", "#")


class BaselineError(ValueError):
    """The baseline file is not a SARIF log privaudit can compare with (the message is masked: file names
    are evidence too)."""

    def __init__(self, message: str) -> None:
        from scanner.redaction import for_humans

        super().__init__(for_humans(message))


def compared_state(before: tuple[str, str | None, int | None], now: tuple[str, str | None, int],
                   counted: bool = True) -> str:
    """SARIF ``baselineState`` of a result present in both runs, as (level, grade, occurrences): ``updated``
    when its level or grade changed, or its occurrence count where counts are stable (a file's; a
    column's count is of a random sample); else ``unchanged``. ``scan --baseline`` and ``report
    --baseline`` both judge with this one function."""
    changed = before[0] != now[0] or before[1] != now[1]
    if counted and before[2] is not None:
        changed = changed or before[2] != now[2]
    return "updated" if changed else "unchanged"


@dataclass
class PreviousResult:
    fingerprint: str
    rule_id: str
    level: str
    grade: str | None
    occurrences: int | None
    resource_uri: str
    target: str | None
    sarif: dict[str, Any]
    run: dict[str, Any]
    cwd: str | None = None  # the previous scan's working directory, for relative path targets


@dataclass
class Baseline:
    source: str
    results: dict[str, PreviousResult] = field(default_factory=dict)

    def state_of(self, finding: Finding) -> str:
        previous = self.results.get(finding.fingerprint)
        if previous is None:
            return "new"
        return compared_state((previous.level, previous.grade, previous.occurrences),
                              (finding.level.value, finding.grade, finding.occurrences),
                              counted=finding.resource.logical_kind != "column")

    def compare(self, report: ScanReport, *, exclude_rules: frozenset[str] = frozenset()) -> list[Finding]:
        """Set ``baseline_state`` on the report's findings; append the previous results not found now.

        Returns the carried not-covered results (waivers still apply to them). Previous results of
        ``exclude_rules`` are left for :meth:`finish` (review rules, evaluated after this).
        """
        current = {f.fingerprint for f in report.findings}
        for finding in report.findings:
            finding.baseline_state = self.state_of(finding)
        scanned = {_target_key(t.target, report.working_directory) for t in report.targets if not t.failed}
        unread = sorted({n.resource_uri for n in report.notifications if n.resource_uri}, key=len)
        not_covered: dict[str, list[Finding]] = defaultdict(list)
        carried: list[Finding] = []
        for fingerprint, previous in self.results.items():
            if fingerprint in current or previous.rule_id in exclude_rules:
                continue
            finding = self._rebuild(previous, report)
            if finding is None:
                continue
            reason = self._not_covered(previous, scanned, unread)
            if reason is None:
                finding.baseline_state = "absent"
            else:
                finding.baseline_state = "unchanged"
                finding.properties["notCovered"] = True
                finding.properties["notCoveredReason"] = reason[1]
                not_covered[reason[0]].append(finding)
            carried.append(finding)
        for where, findings in sorted(not_covered.items()):
            count = len(findings)
            report.notifications.append(Notification(
                f"{where} was not scanned this time; its {count} result{'s' if count != 1 else ''} from the baseline "
                f"{'are' if count != 1 else 'is'} carried over as not covered, not as resolved.",
                resource_uri=where, level=Level.WARNING, kind="not-covered",
            ))
        report.findings.extend(carried)
        return [f for f in carried if f.baseline_state != "absent"]

    def finish(self, report: ScanReport, review_findings: list[Finding], rules: frozenset[str]) -> None:
        """Baseline states for the review rules' own findings (waivers are always 'covered')."""
        current = {f.fingerprint for f in review_findings}
        for finding in review_findings:
            finding.baseline_state = self.state_of(finding)
        for fingerprint, previous in self.results.items():
            if previous.rule_id in rules and fingerprint not in current:
                finding = self._rebuild(previous, report)
                if finding is not None:
                    finding.baseline_state = "absent"
                    report.findings.append(finding)

    @staticmethod
    def _not_covered(previous: PreviousResult, scanned: set[str], unread: list[str]) -> tuple[str, str] | None:
        if previous.target is not None and _target_key(previous.target, previous.cwd) not in scanned:
            return previous.target, "target not scanned"
        uri = previous.resource_uri
        for prefix in unread:
            if uri == prefix or (uri.startswith(prefix) and (uri[len(prefix)] in _URI_SEPARATORS
                                                             or prefix.endswith("/"))):
                return prefix, "resource not readable"
        return None

    def _rebuild(self, previous: PreviousResult, report: ScanReport) -> Finding | None:
        """A :class:`Finding` from a previous SARIF result, so reporters write it like any other."""
        from scanner.registry import RULES, RegistryError

        result = previous.sarif
        props = dict(result.get("properties") or {})
        try:
            RULES.get(previous.rule_id)
            category = Category(props.get("category"))
            level = Level(previous.level)
        except (RegistryError, ValueError):
            report.notifications.append(Notification(
                f"Baseline {self.source}: result of rule {previous.rule_id!r} ({previous.resource_uri}) cannot be "
                "carried over (unknown rule or category).", level=Level.NOTE, kind="baseline",
            ))
            return None
        location = (result.get("locations") or [{}])[0]
        physical = location.get("physicalLocation") or {}
        artifact = physical.get("artifactLocation") or {}
        bases = previous.run.get("originalUriBaseIds") or {}
        root = (bases.get(artifact.get("uriBaseId") or "") or {}).get("uri")
        logical = (location.get("logicalLocations") or [{}])[0]
        uri = previous.resource_uri
        is_file = uri.startswith("file://")
        locations = []
        for loc in [location, *(result.get("relatedLocations") or [])]:
            region = (loc.get("physicalLocation") or {}).get("region") or {}
            if region.get("startLine"):
                locations.append(Location(line=region["startLine"],
                                          field=props.get("field") if loc is location else None,
                                          evidence=(region.get("snippet") or {}).get("text")))
        resource = Resource(
            uri=uri,
            kind="file" if is_file else (logical.get("kind") or "resource"),
            display_name=unquote(artifact["uri"]) if is_file and root and artifact.get("uri") else
            (logical.get("fullyQualifiedName") or uri),
            connector=props.get("connector", "baseline"),
            root_uri=root if is_file else None,
            relative_path=unquote(artifact["uri"]) if is_file and root and artifact.get("uri") else None,
            logical_name=logical.get("fullyQualifiedName") if logical.get("fullyQualifiedName") != uri else None,
            logical_kind=logical.get("kind") if logical.get("fullyQualifiedName") != uri else None,
        )
        return Finding(
            rule_id=previous.rule_id,
            level=level,
            category=category,
            message=(result.get("message") or {}).get("text", ""),
            resource=resource,
            grade=previous.grade,
            entity_type=props.get("entityType"),
            occurrences=previous.occurrences or 0,
            locations=locations,
            fingerprint=previous.fingerprint,
            properties={k: v for k, v in props.items() if k not in _STANDARD_PROPERTIES},
        )


def _target_key(target: str, cwd: str | None) -> str:
    """A path target given relative to one working directory must match the same target given absolute."""
    if "://" in target or not cwd:
        return target
    return os.path.normpath(os.path.join(cwd, target))


# The parts of a SARIF 2.1.0 log that privaudit reads back (baselines, ``privaudit report``), with the types
# the SARIF schema gives them: a dict is an object whose listed properties, when present, have those
# shapes; a one-item list is an array of that shape; a tuple lists the accepted scalar types. Objects and
# arrays may also be null (older privaudit versions wrote none, readers treat null as absent).
_STRING = (str,)
_INTEGER = (int,)
_LOCATION: dict[str, Any] = {
    "physicalLocation": {
        "artifactLocation": {"uri": _STRING, "uriBaseId": _STRING},
        "region": {"startLine": _INTEGER, "startColumn": _INTEGER, "snippet": {"text": _STRING}},
    },
    "logicalLocations": [{"fullyQualifiedName": _STRING, "kind": _STRING, "name": _STRING}],
    "message": {"text": _STRING},
}
_RESULT: dict[str, Any] = {
    "ruleId": _STRING,
    "level": _STRING,
    "kind": _STRING,
    "baselineState": _STRING,
    "message": {"text": _STRING},
    "partialFingerprints": {"*": _STRING},
    "fingerprints": {"*": _STRING},
    "locations": [_LOCATION],
    "relatedLocations": [_LOCATION],
    "suppressions": [{"kind": _STRING, "status": _STRING, "justification": _STRING, "properties": {}}],
    "properties": {
        "category": _STRING, "grade": (str, type(None)), "entityType": (str, type(None)), "occurrences": _INTEGER,
        "resource": _STRING, "target": _STRING, "field": (str, type(None)), "connector": _STRING,
        "notCovered": (bool,), "notCoveredReason": _STRING,
    },
}
_SARIF: dict[str, Any] = {
    "version": _STRING,
    "runs": [{
        "tool": {"driver": {"name": _STRING, "version": _STRING, "rules": [{"id": _STRING, "properties": {}}]}},
        "invocations": [{"workingDirectory": {"uri": _STRING}, "toolExecutionNotifications": [{}],
                         "properties": {}}],
        "originalUriBaseIds": {"*": {"uri": _STRING}},
        "results": [_RESULT],
        "properties": {},
    }],
}
#: a baseline or report input larger than this is refused before it is read (parsed, a SARIF log takes
#: several times its size in memory; 512 MiB is millions of results, far beyond one review)
MAX_BASELINE_BYTES = 512 * 1024 * 1024
#: deepest nesting of arrays and objects accepted (privaudit writes about 10 levels; reporters and the
#: redaction walk recurse, so a log nested 200,000 levels deep must be refused, not carried along)
MAX_JSON_DEPTH = 64
_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", int: "an integer", float: "a number",
               bool: "true or false", type(None): "null"}


def read_sarif(path: str | Path) -> dict[str, Any]:
    """Read a SARIF log privaudit wrote; :class:`BaselineError` says what is wrong (unreadable, too large, not
    UTF-8, not JSON, nested too deeply, not a SARIF log, a property of the wrong type, naming it)."""
    from scanner.yamlschema import UserFileError, read_user_file

    source = str(path)
    try:
        text = read_user_file(path, what="SARIF log", max_bytes=MAX_BASELINE_BYTES)
    except UserFileError as exc:
        if exc.unreadable:
            raise BaselineError(f"cannot read {source}: {exc.unreadable}") from None
        raise BaselineError(str(exc)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{source} is not JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise BaselineError(f"{source} is nested more than {MAX_JSON_DEPTH} levels deep (privaudit writes about "
                            "10)") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise BaselineError(f"{source} is not JSON privaudit can read ({exc})") from None
    del text
    _check_depth(data, source)
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise BaselineError(f"{source} is not a SARIF log (no 'runs' array)")
    _check_shape(data, _SARIF, source)
    return data


def _check_depth(data: Any, source: str) -> None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BaselineError(f"{source} is nested more than {MAX_JSON_DEPTH} levels deep (privaudit writes "
                                "about 10)")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, dict | list))


def _check_shape(data: Any, shape: Any, source: str) -> None:
    """Every property privaudit reads has its SARIF type, or :class:`BaselineError` names the first that has not
    (``runs[0].results[3].partialFingerprints: expected an object, got a number``)."""
    stack: list[tuple[Any, Any, str, bool]] = [(data, shape, "", False)]  # (value, shape, path, may be null)
    while stack:
        value, expected, where, nullable = stack.pop()
        if isinstance(expected, tuple):
            if isinstance(value, expected) and not (isinstance(value, bool) and bool not in expected):
                continue
            wanted = " or ".join(_TYPE_NAMES[t] for t in expected)
        elif value is None and nullable:
            continue  # an object's member that is an absent object or array; an array's item is never null
        elif isinstance(expected, dict) and isinstance(value, dict):
            every = expected.get("*")
            for key, item in value.items():
                inner = expected.get(key, every)
                if inner is not None:
                    stack.append((item, inner, f"{where}.{key}" if where else key, True))
            continue
        elif isinstance(expected, list) and isinstance(value, list):
            stack.extend((item, expected[0], f"{where}[{index}]", False) for index, item in enumerate(value))
            continue
        else:
            wanted = "an object" if isinstance(expected, dict) else "an array"
        got = next((name for kind, name in _TYPE_NAMES.items() if type(value) is kind), type(value).__name__)
        raise BaselineError(f"{source}: {where or '(top level)'}: expected {wanted}, got {got} (the file was "
                            "edited, or privaudit did not write it)")


def load_baseline(path: str | Path) -> Baseline:
    """Read a previous privaudit SARIF log; raise :class:`BaselineError` saying what is wrong."""
    source = str(path)
    data = read_sarif(path)
    baseline = Baseline(source)
    for run in data["runs"]:
        invocation = (run.get("invocations") or [{}])[0]
        cwd_uri = (invocation.get("workingDirectory") or {}).get("uri", "")
        cwd = unquote(urlsplit(cwd_uri).path) if cwd_uri.startswith("file:") else None
        for result in run.get("results") or ():
            fingerprint = (result.get("partialFingerprints") or {}).get(FINGERPRINT_KEY)
            if not fingerprint or result.get("baselineState") == "absent" or fingerprint in baseline.results:
                continue
            props = result.get("properties") or {}
            baseline.results[fingerprint] = PreviousResult(
                fingerprint=fingerprint,
                rule_id=result.get("ruleId", ""),
                level=result.get("level", "warning"),
                grade=props.get("grade"),
                occurrences=props.get("occurrences"),
                resource_uri=props.get("resource", ""),
                target=props.get("target"),
                sarif=result,
                run=run,
                cwd=cwd,
            )
    return baseline
