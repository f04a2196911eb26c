"""SARIF for GitHub code scanning (``--format github-sarif``): what an upload keeps, and only that.

``github/codeql-action/upload-sarif`` and the REST upload read a subset of SARIF 2.1.0
(https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning)
and an upload that does not fit it loses or corrupts alerts silently:

* ``uriBaseId`` is ignored: file URIs must be relative to the repository root, so they are rewritten
  against the git work tree holding the scanned path (or ``--sarif-root``);
* alerts are tracked by ``partialFingerprints.primaryLocationLineHash`` (results without one on the
  same rule and line merge): each result gets one, derived from our keyed finding fingerprint;
* ``suppressions`` and ``baselineState`` are ignored, so waived, ``absent`` (resolved) and not-covered
  results would be uploaded as open alerts: they are left out;
* an upload over 25,000 results is rejected whole: at most :data:`MAX_RESULTS`, the most severe first,
  with a notification saying how many were left out;
* ``runAutomationDetails.id`` is the category (``--category``): uploads of different scans of one
  repository must not close each other's alerts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlsplit

from reports.sarif import build_sarif
from scanner.model import ScanReport
from scanner.registry import REPORTERS

MAX_RESULTS = 5_000
URI_SAFE = "/!$&'()*+,;=:@-._~"


def git_work_tree(path: str | Path) -> Path | None:
    """The nearest directory at or above ``path`` holding ``.git`` (a directory, or a file for worktrees)."""
    here = Path(path).absolute()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _root(report: ScanReport) -> Path | None:
    if report.sarif_root:
        return Path(report.sarif_root).absolute()
    local = [t.target for t in report.targets if "://" not in t.target or t.target.startswith("file://")]
    for target in local:
        tree = git_work_tree(target.removeprefix("file://"))
        if tree is not None:
            return tree
    return Path(report.working_directory).absolute() if report.working_directory else None


def _keep(result: dict[str, Any]) -> bool:
    return (not result.get("suppressions") and result.get("baselineState") != "absent"
            and not (result.get("properties") or {}).get("notCovered"))


def _relative(uri: str, base: str | None, bases: dict[str, Any], root: Path | None) -> str:
    """``uri`` (relative to ``base``) as a path relative to ``root``, percent-encoded; unchanged when the
    file lies outside ``root``."""
    absolute = (bases.get(base, {}).get("uri", "") + uri) if base else uri
    if root is None or not absolute.startswith("file://"):
        return absolute
    path = Path(unquote_to_bytes(urlsplit(absolute).path).decode("utf-8", "surrogateescape"))
    try:
        relative = path.relative_to(root)
    except ValueError:
        return absolute
    return quote(relative.as_posix().encode("utf-8", "surrogateescape"), safe=URI_SAFE)


def _rewrite_locations(result: dict[str, Any], bases: dict[str, Any], root: Path | None) -> None:
    for location in [*result.get("locations", ()), *result.get("relatedLocations", ())]:
        artifact = (location.get("physicalLocation") or {}).get("artifactLocation")
        if artifact and "uri" in artifact:
            artifact["uri"] = _relative(artifact["uri"], artifact.pop("uriBaseId", None), bases, root)


def build_github_sarif(report: ScanReport, anchor: str | None = None) -> dict[str, Any]:
    log = build_sarif(report, anchor)
    run = log["runs"][0]
    bases = run.pop("originalUriBaseIds", {}) or {}
    root = _root(report)
    kept = [r for r in run.get("results", []) if _keep(r)]
    left_out = len(kept) - MAX_RESULTS
    kept = kept[:MAX_RESULTS]  # findings come sorted by level, most severe first
    for result in kept:
        _rewrite_locations(result, bases, root)
        fingerprint = result["partialFingerprints"][next(iter(result["partialFingerprints"]))]
        result["partialFingerprints"]["primaryLocationLineHash"] = f"{fingerprint}:1"
        result.pop("baselineState", None)
    run["results"] = kept
    if left_out > 0:
        invocation = run["invocations"][0]
        invocation.setdefault("toolExecutionNotifications", []).append({
            "message": {"text": f"{left_out} less severe results were left out: GitHub code scanning rejects an "
                                f"upload of more than 25,000, this format keeps the {MAX_RESULTS} most severe; "
                                "--format sarif has them all."},
            "level": "warning",
            "properties": {"kind": "limit"},
        })
    return log


@REPORTERS.register
class GithubSarifReporter:
    name = "github-sarif"
    extension = ".sarif"

    def render(self, report: ScanReport, anchor: str | None = None) -> str:
        return json.dumps(build_github_sarif(report, anchor), indent=2, ensure_ascii=False) + "\n"
