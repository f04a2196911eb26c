"""The auditor's view of a SARIF log: what the HTML and Markdown reports show, computed once.

The semiannual review (obligation 9, 每半年完成一次系统安全审查, 可追溯、可查证) archives SARIF; the
report is read from that archive, not from a live scan, so everything here works on the SARIF
JSON alone (as written by :mod:`reports.sarif`, or by any privaudit version that keeps the same
property names). Rule metadata missing from the log (an older file, a rule that did not run) is
taken from :data:`scanner.registry.RULES` when available.

Every string taken from the log is untrusted: file names, messages and evidence come from the
scanned estate. This module never formats markup; the templates escape (HTML autoescaping, the
Markdown ``finalize`` escaper).

The module name starts with ``_`` so that reporter discovery (:data:`scanner.registry.REPORTERS`)
skips it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from scanner.fingerprint import SARIF_FINGERPRINT_KEY
from scanner.review.baseline import compared_state

FINGERPRINT_KEY = SARIF_FINGERPRINT_KEY
OBLIGATIONS = tuple(range(1, 10))  # the nine obligations of requirements.md, labelled in the message catalogue
GRADE_ORDER = ("C3", "C2", "C1")  # JR/T 0171-2020, most sensitive first; other packs' grades sort after
LEVEL_ORDER = ("error", "warning", "note", "none")


@dataclass(frozen=True)
class StoreKeys:
    """The report's data stores, from what the registered connectors declare (their report keys and
    labels): a connector added later is grouped, labelled and counted in coverage with no edit here."""

    order: tuple[str, ...]  # sort order of stores in tables and groups: local files first
    of_connector: dict[str, str]  # connector name (SARIF ``targets[].connector``) -> store key
    of_scheme: dict[str, str]  # URI scheme -> store key
    of_tag: dict[str, set[str]]  # rule tag (a store key, or a store kind such as ``database``) -> store keys
    labels: dict[str, dict[str, str]]  # language -> store key -> label


@cache
def store_keys() -> StoreKeys:
    from scanner.connector import report_key
    from scanner.registry import CONNECTORS

    connectors = sorted(CONNECTORS, key=lambda c: (c.config_key != "path", c.name))
    of_tag: dict[str, set[str]] = {}
    labels: dict[str, dict[str, str]] = {}
    for connector in connectors:
        key = report_key(connector)
        of_tag.setdefault(key, set()).add(key)
        of_tag.setdefault(connector.store, set()).add(key)
        for lang, label in connector.labels.items():
            labels.setdefault(lang, {})[f"store.{key}"] = label
    return StoreKeys(
        order=tuple(report_key(c) for c in connectors),
        of_connector={c.name: report_key(c) for c in connectors},
        of_scheme={scheme or "file": report_key(c) for c in connectors for scheme in c.schemes},
        of_tag=of_tag,
        labels=labels,
    )
_EXPIRY_KEYS = ("expiry", "expires", "expiryDate", "expiresOn", "expires_on", "expiry_date")


class SarifError(ValueError):
    """The input is not a SARIF log this report can read."""


@dataclass
class Waiver:
    """A SARIF ``suppressions`` entry (the waivers file, or an in-source comment)."""

    kind: str
    status: str
    owner: str | None
    expiry: str | None
    justification: str | None
    ticket: str | None
    source: str | None = None  # where the waiver is written, e.g. ``waivers.yaml:12``

    @property
    def applies(self) -> bool:
        # SARIF 2.1.0 §3.35.3: no status means accepted; underReview/rejected do not suppress.
        return self.status in ("", "accepted")


@dataclass
class FindingView:
    rule_id: str
    level: str
    message: str
    resource_uri: str
    resource: str
    store: str
    grade: str | None
    category: str
    entity_type: str | None
    occurrences: int
    line: int | None
    evidence: list[str]
    fingerprint: str | None
    state: str | None  # SARIF baselineState: new, unchanged, updated, absent; None without a baseline
    waivers: list[Waiver]
    target: str | None = None  # the scan target that produced it (``properties.target``)
    details: list[tuple[str, str]] = field(default_factory=list)
    counted: bool = True  # its occurrence count is stable between runs (not a column's sample)

    @property
    def waived(self) -> bool:
        return any(w.applies for w in self.waivers)

    @property
    def resolved(self) -> bool:
        return self.state == "absent"

    @property
    def open(self) -> bool:
        return not self.waived and not self.resolved


@dataclass
class ResourceGroup:
    resource: str
    resource_uri: str
    store: str
    findings: list[FindingView]
    rules: list[str]

    @property
    def open(self) -> int:
        return sum(f.open for f in self.findings)

    @property
    def location(self) -> str:
        """The full identity, readable: ``file:///srv/%E5%AE%A2.csv`` shows as ``/srv/客.csv``."""
        if self.resource_uri.startswith("file://"):
            return unquote(urlsplit(self.resource_uri).path)
        return unquote(self.resource_uri)


@dataclass
class RuleView:
    id: str
    name: str
    short_description: str
    help: str
    level: str
    category: str
    obligations: list[int]
    stores: set[str] | None  # None: any store
    ran: bool
    open: int = 0
    waived: int = 0
    status: str = "not-run"  # fail, waived, pass, not-applicable, not-run


@dataclass
class ObligationView:
    number: int
    rules: list[RuleView]
    status: str  # fail, pass, not-checked
    open: int
    waived: int

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rules)


@dataclass
class TargetView:
    target: str
    connector: str
    store: str
    resources: int
    items_examined: int
    bytes_scanned: int
    skipped: dict[str, int]
    protected: dict[str, int]
    masked: dict[str, int]
    failed: bool


@dataclass
class NoteView:
    level: str
    kind: str
    message: str
    resource: str | None


@dataclass
class AuditReport:
    tool_version: str
    policy: str
    started: str | None
    finished: str | None
    execution_successful: bool
    baseline_source: str | None  # "sarif" (states in the log), "file" (computed from --baseline) or None
    findings: list[FindingView]
    groups: list[ResourceGroup]
    rules: dict[str, RuleView]
    obligations: list[ObligationView]
    targets: list[TargetView]
    notifications: list[NoteView]
    not_covered: list[FindingView]
    stores_scanned: list[str]

    @property
    def current(self) -> list[FindingView]:
        """Findings present in this scan (not the resolved ones carried over from the baseline)."""
        return [f for f in self.findings if not f.resolved]

    @property
    def open_findings(self) -> list[FindingView]:
        return [f for f in self.findings if f.open]

    @property
    def waived_findings(self) -> list[FindingView]:
        return [f for f in self.current if f.waived]

    def state_count(self, state: str) -> int:
        return sum(f.state == state for f in self.findings)

    def counts_by(self, attribute: str) -> list[tuple[str, int, int]]:
        """(value, open, waived) for the current findings, in display order."""
        open_counts: Counter[str] = Counter()
        waived_counts: Counter[str] = Counter()
        for f in self.current:
            key = getattr(f, attribute) or "-"
            (waived_counts if f.waived else open_counts)[key] += 1
        keys = set(open_counts) | set(waived_counts)
        if attribute == "store":
            keys |= set(self.stores_scanned)
        return [(k, open_counts[k], waived_counts[k]) for k in sorted(keys, key=_sort_key(attribute))]

    def notification_kinds(self) -> list[tuple[str, int]]:
        return sorted(Counter(n.kind for n in self.notifications).items(), key=lambda kv: (-kv[1], kv[0]))


def _sort_key(attribute: str):  # type: ignore[no-untyped-def]
    order = {"grade": GRADE_ORDER, "store": store_keys().order, "level": LEVEL_ORDER}.get(attribute, ())

    def key(value: str) -> tuple[int, str]:
        return (order.index(value) if value in order else len(order) + (value == "-"), value)

    return key


# -- loading ------------------------------------------------------------------------------------


def load_sarif(path: str | Path) -> dict[str, Any]:
    """Read a SARIF log; :class:`SarifError` says what is wrong in words a user can act on."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SarifError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SarifError(f"{path} cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SarifError(f"{path} is not JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise SarifError(f"{path} is not a SARIF log (no 'runs' array)")
    if not str(data.get("version", "2.1.0")).startswith("2.1"):
        raise SarifError(f"{path} is SARIF {data.get('version')}; only SARIF 2.1.0 is supported")
    return data


# -- building -----------------------------------------------------------------------------------


def build_audit(sarif: dict[str, Any], previous: dict[str, Any] | None = None) -> AuditReport:
    """The auditor's view of ``sarif``; ``previous`` (an earlier review's log) fills baseline states
    when the log has none (a scan run without ``--baseline``)."""
    runs = _runs(sarif)
    targets = [_target(t) for run in runs for inv in _invocations(run) for t in _list(_props(inv).get("targets"))
               if isinstance(t, dict)]
    notifications = [_note(n) for run in runs for inv in _invocations(run)
                     for n in _list(inv.get("toolExecutionNotifications")) if isinstance(n, dict)]
    rules: dict[str, RuleView] = {}
    for view in (_rule_from_sarif(rule) for run in runs for rule in _run_rules(run)):
        rules.setdefault(view.id, view)
    findings = [_finding(result, run, run_rules, targets) for result, run, run_rules in _results(runs)]
    baseline_source, not_covered = _baseline(findings, previous, targets)
    _complete_rules(rules, findings)
    stores_scanned = sorted({t.store for t in targets if not t.failed}, key=_sort_key("store"))
    _rule_status(rules, findings, set(stores_scanned))
    obligations = [_obligation(n, rules) for n in OBLIGATIONS]

    meta = _run_meta(runs)
    return AuditReport(
        tool_version=meta["version"],
        policy=meta["policy"],
        started=meta["started"],
        finished=meta["finished"],
        execution_successful=meta["successful"],
        baseline_source=baseline_source,
        findings=findings,
        groups=_groups(findings),
        rules=dict(sorted(rules.items())),
        obligations=obligations,
        targets=targets,
        notifications=notifications,
        not_covered=not_covered,
        stores_scanned=stores_scanned,
    )


def _finding(result: dict[str, Any], run: dict[str, Any], run_rules: list[dict[str, Any]],
             targets: list[TargetView]) -> FindingView:
    props = _props(result)
    location = _dict((_list(result.get("locations")) or [{}])[0])
    physical = _dict(location.get("physicalLocation"))
    artifact = _dict(physical.get("artifactLocation"))
    region = _dict(physical.get("region"))
    rule_id = str(result.get("ruleId") or _dict(result.get("rule")).get("id") or "")
    if not rule_id and isinstance(result.get("ruleIndex"), int) and 0 <= result["ruleIndex"] < len(run_rules):
        rule_id = str(run_rules[result["ruleIndex"]].get("id", ""))
    rule_meta = next((r for r in run_rules if r.get("id") == rule_id), {})
    resource_uri = str(props.get("resource") or _artifact_uri(artifact, run) or _logical_name(location) or "")
    evidence = [str(e) for e in _list(props.get("evidence"))]
    snippet = _dict(region.get("snippet")).get("text")
    if not evidence and snippet:
        evidence = [str(snippet)]
    level = str(result.get("level") or _dict(rule_meta.get("defaultConfiguration")).get("level") or "warning")
    details = [(k, _detail(v)) for k, v in props.items() if k in _DETAIL_KEYS and v not in (None, "", [])]
    return FindingView(
        rule_id=rule_id,
        level=level,
        message=str(_dict(result.get("message")).get("text") or ""),
        resource_uri=resource_uri,
        resource=display_resource(resource_uri, run),
        store=store_of(resource_uri, targets, props.get("target")),
        grade=str(props["grade"]) if props.get("grade") else None,
        category=str(props.get("category") or _props(rule_meta).get("category") or "-"),
        entity_type=str(props["entityType"]) if props.get("entityType") else None,
        occurrences=_int(props.get("occurrences")),
        line=region.get("startLine") if isinstance(region.get("startLine"), int) else None,
        evidence=evidence[:5],
        fingerprint=_dict(result.get("partialFingerprints")).get(FINGERPRINT_KEY),
        state=str(result["baselineState"]) if result.get("baselineState") else None,
        waivers=[_waiver(s) for s in _list(result.get("suppressions")) if isinstance(s, dict)],
        details=details,
        target=str(props["target"]) if props.get("target") else None,
        counted=_dict((_list(location.get("logicalLocations")) or [{}])[0]).get("kind") != "column",
    )


# Result properties worth showing to an auditor beside the message (all set by privaudit rules).
_DETAIL_KEYS = ("field", "mode", "owner", "group", "ageDays", "maxAgeDays", "grantee", "privilege", "principal")


def _detail(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _waiver(suppression: dict[str, Any]) -> Waiver:
    props = _props(suppression)
    expiry = next((str(props[k]) for k in _EXPIRY_KEYS if props.get(k)), None)
    return Waiver(
        kind=str(suppression.get("kind") or "external"),
        # SARIF 2.1.0 names it ``status``; sarif-om (built from a pre-release schema) writes ``state``.
        status=str(suppression.get("status") or suppression.get("state") or ""),
        owner=str(props["owner"]) if props.get("owner") else None,
        expiry=expiry,
        justification=str(suppression.get("justification") or props.get("reason") or "") or None,
        ticket=str(props["ticket"]) if props.get("ticket") else None,
        source=str(props["waiver"]) if props.get("waiver") else None,
    )


def _runs(log: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in log.get("runs") or () if isinstance(r, dict)]


def _run_rules(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in _list(_dict(_dict(run.get("tool")).get("driver")).get("rules")) if isinstance(r, dict)]


def _results(runs: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]]:
    """(result, its run, the run's rules) of every result object of ``runs``."""
    for run in runs:
        run_rules = _run_rules(run)
        for result in _list(run.get("results")):
            if isinstance(result, dict):
                yield result, run, run_rules


def _baseline(findings: list[FindingView], previous: dict[str, Any] | None,
              targets: list[TargetView]) -> tuple[str | None, list[FindingView]]:
    """Where the findings' baseline states come from: the log itself (``sarif``), the ``previous`` log
    (``file``: states set here, and the previous findings whose target this scan did not cover), or nowhere."""
    if any(f.state for f in findings):
        return "sarif", []
    if previous is None:
        return None, []
    return "file", _apply_baseline(findings, previous, targets)


def _complete_rules(rules: dict[str, RuleView], findings: list[FindingView]) -> None:
    """Add to the log's rules those its results name without describing them and every rule privaudit knows
    (the "not run" rows), and obligations from the registry where the log gives none."""
    for rule_id in {f.rule_id for f in findings} - set(rules):
        rules[rule_id] = _rule_from_registry(rule_id, ran=True) or _unknown_rule(rule_id)
    for rule in _registry_rules():
        rules.setdefault(rule.id, rule)
    for rule in rules.values():
        if not rule.obligations:
            known = _rule_from_registry(rule.id, ran=rule.ran)
            rule.obligations = known.obligations if known else []


def _apply_baseline(findings: list[FindingView], previous: dict[str, Any],
                    targets: list[TargetView]) -> list[FindingView]:
    """Set ``state`` by matching fingerprints against the previous log; returns the previous findings
    whose target was not covered this time (those are not "resolved": nobody looked)."""
    before = _previous_findings(previous, targets)
    seen: set[str] = set()
    for f in findings:
        old = before.get(f.fingerprint or "")
        if old is None:
            f.state = "new"
            continue
        seen.add(old.fingerprint or "")
        f.state = compared_state((old.level, old.grade, old.occurrences), (f.level, f.grade, f.occurrences),
                                 counted=f.counted)
    not_covered: list[FindingView] = []
    for fingerprint, old in before.items():
        if fingerprint in seen:
            continue
        target = covering_target(old.resource_uri, targets, old.target)
        if target is None or target.failed:
            old.state = None
            not_covered.append(old)
        else:
            old.state = "absent"
            old.waivers = []
            findings.append(old)
    return not_covered


def _previous_findings(previous: dict[str, Any], targets: list[TargetView]) -> dict[str, FindingView]:
    """The previous log's findings that were present then, by fingerprint (the first of each)."""
    before: dict[str, FindingView] = {}
    for result, run, run_rules in _results(_runs(previous)):
        if result.get("baselineState") == "absent":
            continue
        old = _finding(result, run, run_rules, targets)
        if old.fingerprint:
            before.setdefault(old.fingerprint, old)
    return before


def _rule_from_sarif(rule: dict[str, Any]) -> RuleView:
    props = _props(rule)
    help_ = _dict(rule.get("help"))
    obligations = _obligation_numbers(props.get("obligations") or props.get("obligation"))
    tags = [str(t) for t in _list(props.get("tags"))]
    return RuleView(
        id=str(rule.get("id") or ""),
        name=str(rule.get("name") or rule.get("id") or ""),
        short_description=str(_dict(rule.get("shortDescription")).get("text") or ""),
        help=str(help_.get("text") or help_.get("markdown") or _dict(rule.get("fullDescription")).get("text") or ""),
        level=str(_dict(rule.get("defaultConfiguration")).get("level") or "warning"),
        category=str(props.get("category") or "-"),
        obligations=obligations,
        stores=stores_of_tags(tags),
        ran=True,
    )


def _registry_rules() -> list[RuleView]:
    """Every rule privaudit knows, for the "not run in this scan" rows of the obligations table."""
    try:
        from scanner.registry import RULES

        return [view for view in (_rule_from_registry(rule_id, ran=False) for rule_id in RULES.names()) if view]
    except Exception:  # a report must render from the SARIF alone, even if plug-ins fail to import
        return []


def _rule_from_registry(rule_id: str, ran: bool) -> RuleView | None:
    try:
        from scanner.registry import RULES

        meta = RULES.get(rule_id).metadata()
    except Exception:  # unknown rule (newer SARIF, removed rule) or unreadable metadata
        return None
    return RuleView(
        id=meta.id,
        name=meta.name,
        short_description=meta.short_description,
        help=meta.help,
        level=meta.default_level.value,
        category=meta.category.value,
        obligations=sorted(set(getattr(meta, "obligations", ()) or ())),
        stores=stores_of_tags(meta.tags),
        ran=ran,
    )


def _unknown_rule(rule_id: str) -> RuleView:
    return RuleView(id=rule_id, name=rule_id, short_description="", help="", level="warning", category="-",
                    obligations=[], stores=None, ran=True)


def _obligation_numbers(value: Any) -> list[int]:
    numbers: set[int] = set()
    for item in _list(value) if isinstance(value, list) else [value]:
        try:
            number = int(str(item).strip().lstrip("#"))
        except (TypeError, ValueError):
            continue
        if number in OBLIGATIONS:
            numbers.add(number)
    return sorted(numbers)


def stores_of_tags(tags: Any) -> set[str] | None:
    """The data stores a rule can judge, from its tags; ``None`` when it judges any content.

    Schema-change rules (tag ``migrations``) judge SQL migration files in ``privaudit check-migrations``
    (whose target connector is ``migrations``), no scanned data store.
    """
    tags = {str(t) for t in tags or ()}
    if "migrations" in tags:
        return {"migrations"}
    keys = store_keys()
    specific = [keys.of_tag[t] for t in sorted(tags) if t in keys.order]
    if specific:
        return set().union(*specific)
    kinds = [keys.of_tag[t] for t in sorted(tags) if t in keys.of_tag and t not in keys.order]
    return set().union(*kinds) if kinds else None


def _rule_status(rules: dict[str, RuleView], findings: list[FindingView], stores: set[str]) -> None:
    for f in findings:
        rule = rules[f.rule_id]
        if f.open:
            rule.open += 1
        elif f.waived and not f.resolved:
            rule.waived += 1
    for rule in rules.values():
        if rule.open:
            rule.status = "fail"
        elif rule.waived:
            rule.status = "waived"
        elif not rule.ran:
            rule.status = "not-run"
        elif (rule.stores is None and stores) or (rule.stores and rule.stores & stores):
            rule.status = "pass"
        else:
            rule.status = "not-applicable"


def _obligation(number: int, rules: dict[str, RuleView]) -> ObligationView:
    serving = sorted((r for r in rules.values() if number in r.obligations),
                     key=lambda r: (["fail", "waived", "pass", "not-applicable", "not-run"].index(r.status), r.id))
    statuses = {r.status for r in serving}
    if "fail" in statuses:
        status = "fail"
    elif statuses & {"pass", "waived"}:
        status = "pass"
    else:
        status = "not-checked"
    return ObligationView(number=number, rules=serving, status=status,
                          open=sum(r.open for r in serving), waived=sum(r.waived for r in serving))


def _groups(findings: list[FindingView]) -> list[ResourceGroup]:
    by_uri: dict[str, list[FindingView]] = {}
    for f in findings:
        by_uri.setdefault(f.resource_uri, []).append(f)
    groups = []
    for uri, items in by_uri.items():
        items.sort(key=lambda f: (f.resolved, LEVEL_ORDER.index(f.level) if f.level in LEVEL_ORDER else 9,
                                  f.rule_id, f.entity_type or ""))
        groups.append(ResourceGroup(resource=items[0].resource, resource_uri=uri, store=items[0].store,
                                    findings=items, rules=list(dict.fromkeys(f.rule_id for f in items))))
    groups.sort(key=lambda g: (g.open == 0, _sort_key("store")(g.store), g.resource))
    return groups


def _target(data: dict[str, Any]) -> TargetView:
    connector = str(data.get("connector") or "")
    target = str(data.get("target") or "")
    return TargetView(
        target=target,
        connector=connector,
        store=store_keys().of_connector.get(connector, connector) or _scheme_store(target),
        resources=_int(data.get("resources")),
        items_examined=_int(data.get("itemsExamined")),
        bytes_scanned=_int(data.get("bytesScanned")),
        skipped={str(k): _int(v) for k, v in _dict(data.get("skipped")).items()},
        protected={str(k): _int(v) for k, v in _dict(data.get("protected")).items()},
        masked={str(k): _int(v) for k, v in _dict(data.get("masked")).items()},
        failed=bool(data.get("failed")),
    )


def _note(data: dict[str, Any]) -> NoteView:
    props = _props(data)
    return NoteView(level=str(data.get("level") or "warning"), kind=str(props.get("kind") or "unreadable"),
                    message=str(_dict(data.get("message")).get("text") or ""),
                    resource=str(props["resource"]) if props.get("resource") else None)


def _run_meta(runs: list[dict[str, Any]]) -> dict[str, Any]:
    driver = _dict(_dict(runs[0].get("tool")).get("driver")) if runs else {}
    invocations = [inv for run in runs for inv in _invocations(run)]
    starts = sorted(str(i["startTimeUtc"]) for i in invocations if i.get("startTimeUtc"))
    ends = sorted(str(i["endTimeUtc"]) for i in invocations if i.get("endTimeUtc"))
    policies = list(dict.fromkeys(str(_props(i)["policy"]) for i in invocations if _props(i).get("policy")))
    if not policies:
        policies = [str(_dict(r.get("automationDetails")).get("id", "")).split("/")[1]
                    for r in runs if str(_dict(r.get("automationDetails")).get("id", "")).count("/") >= 2]
    return {
        "version": str(driver.get("semanticVersion") or driver.get("version") or "?"),
        "policy": ", ".join(policies) or "-",
        "started": starts[0] if starts else None,
        "finished": ends[-1] if ends else None,
        "successful": all(i.get("executionSuccessful", True) for i in invocations),
    }


# -- resources ----------------------------------------------------------------------------------


def display_resource(uri: str, run: dict[str, Any] | None = None) -> str:
    """A readable name: file paths decoded (relative to the scanned root when known), other URIs as is."""
    if uri.startswith("file://"):
        roots = [str(_dict(v).get("uri") or "") for v in _dict((run or {}).get("originalUriBaseIds")).values()]
        for root in sorted(roots, key=len, reverse=True):
            if root and uri.startswith(root):
                return unquote(uri[len(root):]) or unquote(uri)
        return unquote(urlsplit(uri).path)
    return unquote(uri)


def _scheme_store(uri: str) -> str:
    scheme = urlsplit(uri).scheme.lower() if "://" in uri else "file"
    return store_keys().of_scheme.get(scheme, scheme)


def _target_roots(target: TargetView) -> list[str]:
    """URI prefixes of the resources a target produces (without user names: resources carry none)."""
    raw = target.target
    if "://" not in raw:
        try:
            return [Path(raw).resolve().as_uri().rstrip("/")]
        except (OSError, ValueError):
            return [raw]
    parts = urlsplit(raw)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    bare = f"{parts.scheme}://{netloc}{parts.path}".rstrip("/")
    roots = [bare]
    if parts.scheme == "sqlite":
        roots.append("file://" + parts.path)  # the database file itself (its permission bits)
    return roots


def covering_target(uri: str, targets: list[TargetView], named: str | None = None) -> TargetView | None:
    """The target a resource was (or would be) scanned through: the one the result names, else the
    one whose root is the longest prefix of the resource URI."""
    if named:
        for target in targets:
            if target.target == named:
                return target
    best: tuple[int, TargetView] | None = None
    for target in targets:
        for root in _target_roots(target):
            inside = uri == root or uri.startswith((root + "/", root + "#", root + "!")) or (
                uri.startswith(root) and target.store != "file")
            if root and inside and (best is None or len(root) > best[0]):
                best = (len(root), target)
    return best[1] if best else None


def store_of(uri: str, targets: list[TargetView], named: str | None = None) -> str:
    """The kind of data store a resource lives in: the covering target's connector, else the URI scheme."""
    target = covering_target(uri, targets, named)
    return target.store if target else _scheme_store(uri)


def _artifact_uri(artifact: dict[str, Any], run: dict[str, Any]) -> str | None:
    uri = artifact.get("uri")
    if not uri:
        return None
    base = artifact.get("uriBaseId")
    if base:
        root = _dict(_dict(run.get("originalUriBaseIds")).get(base)).get("uri")
        if root:
            return str(root) + str(uri)
    return str(uri)


def _logical_name(location: dict[str, Any]) -> str | None:
    logical = _list(location.get("logicalLocations"))
    return str(_dict(logical[0]).get("fullyQualifiedName") or "") or None if logical else None


# -- tolerant accessors (a hand-edited or foreign SARIF file must not crash the report) ----------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _props(obj: dict[str, Any]) -> dict[str, Any]:
    return _dict(obj.get("properties"))


def _invocations(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in _list(run.get("invocations")) if isinstance(i, dict)]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
