"""Baselines: compare a scan with the previous review's SARIF (``--baseline previous.sarif``).

Obligation 9 asks for evidence that can be diffed between semiannual reviews. Every result gets a
SARIF ``baselineState`` (SARIF 2.1.0 §3.27.24), matched on ``partialFingerprints["privscan/v1"]``
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

from scanner.model import Category, Finding, Level, Location, Notification, Resource, ScanReport

FINGERPRINT_KEY = "privscan/v1"
_STANDARD_PROPERTIES = ("category", "grade", "entityType", "occurrences", "resource", "field", "notCovered",
                        "notCoveredReason")
_URI_SEPARATORS = ("/", ".", "!", "#")


class BaselineError(ValueError):
    """The baseline file is not a SARIF log privscan can compare with."""


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
        changed = previous.level != finding.level.value or previous.grade != finding.grade
        if finding.resource.logical_kind != "column" and previous.occurrences is not None:
            changed = changed or previous.occurrences != finding.occurrences
        return "updated" if changed else "unchanged"

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


def load_baseline(path: str | Path) -> Baseline:
    """Read a previous privscan SARIF log; raise :class:`BaselineError` saying what is wrong."""
    source = str(path)
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read {source}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{source} is not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise BaselineError(f"{source} is not a SARIF log (no 'runs' array)")
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
