"""Waivers: accepted risks with an owner, a reason, a ticket and an expiry date.

A semiannual review (obligation 9) accepts some findings for a while — a KYC export that the archive
job encrypts within a day, a reporting role that must read C2 until a migration ships. A waiver says
which finding (a rule plus a resource glob, or the finding's fingerprint from the SARIF
``partialFingerprints``), who owns the risk, why it is acceptable, the ticket tracking the fix, and
when the acceptance ends. Waivers are evidence an auditor reads, so:

* a waived finding stays in the SARIF with a ``suppressions`` entry (SARIF 2.1.0 §3.35: kind
  ``external`` — the waiver lives outside the scanned data —, status ``accepted``, the reason as
  ``justification``, owner/ticket/expiry as properties) and does not fail the run;
* a waiver past its expiry date stops applying (the finding fails the run again) and is itself
  reported (rule ``waiver_expired``); one that matches nothing is reported as stale (``waiver_stale``)
  so the waivers file does not silently outlive what it was written for;
* a waiver without owner, reason or expiry is rejected with file and line, as is one naming an unknown
  rule: a waiver that cannot be traced to a person and a date is not evidence.

File format::

    version: 1
    waivers:
      - rule: pii_in_file
        resource: "file:///srv/share/exports/kyc-*.csv"   # or: fingerprint: 0123…(32 hex)
        owner: zhang.wei@bank.example
        reason: KYC exports are encrypted by the archive job within 24 hours.
        ticket: SEC-1234
        expires: 2026-12-31                                # last day the waiver applies (UTC)
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.model import Finding, Resource
from scanner.policy import Policy
from scanner.review._messages import by_line, friendly
from scanner.yamlschema import ConfigError, load_yaml, read_yaml_file, validate

_FINGERPRINT = "^[0-9a-f]{32}$"
_NOT_BLANK = r"\S"
_PATTERN_MEANINGS = {
    _FINGERPRINT: 'expected the 32 hex digits of the result\'s partialFingerprints["privaudit/v1"] in the SARIF',
    _NOT_BLANK: "must not be blank: a waiver names who owns the risk, why it is accepted and the tracking ticket",
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "waivers"],
    "properties": {
        "version": {"const": 1},
        "waivers": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["rule", "owner", "reason", "expires"],
                "properties": {
                    "rule": {"type": "string", "pattern": "^[a-z][a-z0-9]*(_[a-z0-9]+)+$"},
                    "resource": {"type": "string", "minLength": 1},
                    "fingerprint": {"type": "string", "pattern": _FINGERPRINT},
                    "entity_type": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"},
                    "owner": {"type": "string", "pattern": _NOT_BLANK},
                    "reason": {"type": "string", "pattern": _NOT_BLANK},
                    "ticket": {"type": "string", "pattern": _NOT_BLANK},
                    "expires": {"type": "string"},
                },
            },
        },
    },
}


_ENTRY: dict[str, Any] = SCHEMA["properties"]["waivers"]["items"]


@dataclass(frozen=True)
class Waiver:
    rule: str
    owner: str
    reason: str
    expires: dt.date
    line: int
    resource: str | None = None
    fingerprint: str | None = None
    entity_type: str | None = None
    ticket: str | None = None

    @property
    def selector(self) -> str:
        """What the waiver names, for messages and its own fingerprint."""
        if self.fingerprint:
            return f"fingerprint {self.fingerprint}"
        return self.resource + (f" ({self.entity_type})" if self.entity_type else "") if self.resource else ""

    def expired(self, now: dt.datetime) -> bool:
        """A waiver applies through its expiry date (UTC) and stops the day after."""
        return now.astimezone(dt.UTC).date() > self.expires

    def matches(self, finding: Finding, names: list[str] | None = None) -> bool:
        """Whether the waiver selects ``finding``; ``names`` are :func:`_names` of its resource, when known."""
        if finding.rule_id != self.rule:
            return False
        if self.fingerprint:
            return finding.fingerprint == self.fingerprint
        if self.entity_type and finding.entity_type != self.entity_type:
            return False
        names = names if names is not None else _names(finding.resource)
        return any(fnmatch.fnmatchcase(name, self.resource or "") for name in names)

    def suppression(self, source: str) -> dict[str, Any]:
        """The SARIF ``suppressions`` entry (sarif-om attribute names)."""
        properties: dict[str, Any] = {"owner": self.owner, "expires": self.expires.isoformat(),
                                      "waiver": f"{source}:{self.line}"}
        if self.ticket:
            properties["ticket"] = self.ticket
        return {"kind": "external", "status": "accepted", "justification": self.reason, "properties": properties}


def _names(resource: Resource) -> list[str]:
    """What a resource glob is matched against: the URI, the path below the scanned root, the logical name,
    each as it is and as reports show it.

    Reports never show a personal value inside a name (``110101199003070011.pdf`` is written
    ``110101********0011.pdf;k=<keyed hash>``, :func:`scanner.redaction.mask_text`), so a waiver is written
    from what the reviewer sees: the masked form must select the resource as the real name does. Masking
    is deterministic under the fingerprint key, so the masked name is stable across reviews."""
    from scanner.redaction import mask_text

    real = [n for n in (resource.uri, resource.relative_path, resource.logical_name, resource.display_name) if n]
    return list(dict.fromkeys([*real, *(mask_text(n) for n in real)]))


@dataclass
class WaiverSet:
    source: str
    waivers: list[Waiver] = field(default_factory=list)

    @property
    def resource(self) -> Resource:
        """The waivers file as the resource its own findings (expired, stale) are reported on."""
        path = Path(self.source).absolute()
        return Resource(uri=path.as_uri(), kind="file", display_name=self.source, connector="files",
                        root_uri=path.parent.as_uri().rstrip("/") + "/", relative_path=path.name)


def load_waivers(path: str | Path, known_rules: set[str] | None = None) -> WaiverSet:
    """Read and validate a waivers file; raise :class:`ConfigError` with file:line for every problem."""
    source = str(path)
    text = read_yaml_file(path, "waivers file")
    data, lines, problems, broken = _parsed(text, source)
    data = _dates_as_text(data)
    items = data.get("waivers") if isinstance(data, dict) else None
    # the file without its entries, then each entry: an entry that is not even YAML is left out
    errors = [*problems, *_schema_errors({**data, "waivers": []} if isinstance(items, list) else data,
                                         SCHEMA, source, lines)]
    if known_rules is None:
        from scanner.registry import RULES

        known_rules = set(RULES.names())
    for index, item in enumerate(items if isinstance(items, list) else []):
        if index not in broken:
            errors += _entry_errors(item, index, source, lines, known_rules, problems)
    if errors:
        raise ConfigError(source, by_line(errors, source))
    return WaiverSet(source, [
        Waiver(rule=item["rule"], owner=item["owner"].strip(), reason=item["reason"].strip(),
               expires=dt.date.fromisoformat(item["expires"]), line=lines.get(("waivers", index), 0),
               resource=item.get("resource"), fingerprint=item.get("fingerprint"),
               entity_type=item.get("entity_type"), ticket=item.get("ticket"))
        for index, item in enumerate(data["waivers"])
    ])


def _parsed(text: str, source: str) -> tuple[Any, dict[tuple, int], list[str], set[int]]:
    """(data, lines, problems, indexes of entries that are not YAML) of a waivers file: values that cannot be
    read and duplicate keys are problems reported with the rest; a syntax error inside entries is reported
    per entry (:func:`_parse_entry_by_entry`), any other raises."""
    problems: list[str] = []  # dates that are not dates, duplicate keys: reported with the rest
    try:
        data, lines = load_yaml(text, source, problems)
    except ConfigError:
        recovered = _parse_entry_by_entry(text, source)
        if recovered is None:
            raise
        data, lines, problems, broken = recovered
    else:
        broken = set()
    if data is None:
        raise ConfigError(source, [f"{source}: the file is empty; it needs `version: 1` and a `waivers:` list"])
    return data, lines, problems, broken


def _schema_errors(data: Any, schema: dict[str, Any], source: str, lines: dict[tuple, int],
                   prefix: tuple = ()) -> list[str]:
    """The schema's complaints about ``data`` (at ``prefix``), patterns said in words."""
    try:
        validate(data, schema, source, lines, prefix)
    except ConfigError as exc:
        return [friendly(e, _PATTERN_MEANINGS) for e in exc.errors]
    return []


def _entry_errors(item: Any, index: int, source: str, lines: dict[tuple, int], known_rules: set[str],
                  problems: list[str]) -> list[str]:
    """What is wrong with waiver ``index``: its schema, then what a schema cannot say (resource or fingerprint,
    a rule that exists, a real calendar date) unless the YAML loader said it already (``problems``)."""
    errors = _schema_errors(item, _ENTRY, source, lines, ("waivers", index))
    if not isinstance(item, dict):
        return errors
    line = lines.get(("waivers", index), "?")
    has_resource, has_fingerprint = "resource" in item, "fingerprint" in item
    if has_resource == has_fingerprint:
        errors.append(f"{source}:{line}: waivers.{index}: give either resource (a glob on the resource URI, "
                      "its path below the scanned root or its logical name) or fingerprint (the result's "
                      "partialFingerprints value from the SARIF)" + (", not both" if has_resource else
                                                                       "; neither is given"))
    rule = item.get("rule")
    if isinstance(rule, str) and rule not in known_rules:
        close = difflib.get_close_matches(rule, sorted(known_rules), n=3, cutoff=0.75)
        hint = f"did you mean {' or '.join(close)}?" if close else "use a ruleId from the SARIF, e.g. pii_in_log"
        errors.append(f"{source}:{lines.get(('waivers', index, 'rule'), line)}: waivers.{index}.rule: unknown "
                      f"rule {rule!r}; {hint}")
    expires = item.get("expires")
    if isinstance(expires, str) and not _is_date(expires):
        where = f"{source}:{lines.get(('waivers', index, 'expires'), line)}: waivers.{index}.expires:"
        if not any(p.startswith(where) for p in problems):  # the YAML loader said why already
            errors.append(f"{where} {expires!r} is not a calendar date (YYYY-MM-DD)")
    return errors


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


_ITEM = re.compile(r"-(?:[ \t]|$)")


def _parse_entry_by_entry(text: str, source: str) -> tuple[Any, dict[tuple, int], list[str], set[int]] | None:
    """After a YAML syntax error, parse each entry of the ``waivers:`` block list on its own, so every broken
    entry is reported (with its line) together with the problems of the others, not only the first error.

    Returns (data, lines, problems, indexes of the broken entries), or None when the error is not inside an
    entry (or the file is not laid out as a block list): then the whole file's syntax error stands."""
    rows = text.split("\n")
    head = next((i for i, row in enumerate(rows) if re.fullmatch(r"waivers[ \t]*:[ \t]*(#.*)?", row)), None)
    block = None if head is None else _block_list(rows, head)
    if block is None:
        return None
    starts, end = block
    problems: list[str] = []
    outline = [*rows[:head], "waivers: []", *[""] * (end - head - 1), *rows[end:]]  # same line numbers
    try:
        data, lines = load_yaml("\n".join(outline), source, problems)
    except ConfigError:
        return None
    entries = _parse_entries(rows, starts, end, source) if isinstance(data, dict) else None
    if entries is None:
        return None
    items, entry_lines, entry_problems, broken = entries
    if not broken:
        return None
    data["waivers"] = items
    lines.update(entry_lines)
    return data, lines, problems + entry_problems, broken


def _block_list(rows: list[str], head: int) -> tuple[list[int], int] | None:
    """(row of each entry's ``-``, row where the list ends) of the block list under ``waivers:`` at row
    ``head``, or None when what follows it is not a block list."""
    starts: list[int] = []
    indent = None
    for number in range(head + 1, len(rows)):
        row = rows[number]
        body = row.lstrip(" ")
        if not body or body.startswith("#"):
            continue
        depth = len(row) - len(body)
        indent = depth if indent is None else indent
        item = _ITEM.match(body) is not None
        if not starts and not item:
            return None  # the first entry is not a list item
        if depth < indent or (depth == indent and not item):
            return starts, number
        if depth == indent:
            starts.append(number)
    return starts, len(rows)


def _parse_entries(rows: list[str], starts: list[int], end: int,
                   source: str) -> tuple[list[Any], dict[tuple, int], list[str], set[int]] | None:
    """Each entry (``rows[start:next start]``) parsed on its own at its own line numbers: (entries, their
    lines, problems named as in the file, indexes of the entries that are not YAML); None when an entry
    reads as something other than one list item."""
    items: list[Any] = []
    lines: dict[tuple, int] = {}
    problems: list[str] = []
    broken: set[int] = set()
    for index, start in enumerate(starts):
        stop = starts[index + 1] if index + 1 < len(starts) else end
        found: list[str] = []
        try:
            entry, entry_lines = load_yaml("\n" * start + "\n".join(rows[start:stop]), source, found)
        except ConfigError as exc:
            problems += [re.sub(rf"^({re.escape(source)}:\d+: )", rf"\g<1>waivers.{index}: ", e) for e in exc.errors]
            broken.add(index)
            items.append(None)
            continue
        if not isinstance(entry, list) or len(entry) != 1:
            return None
        # the entry was parsed as item 0 of a list of its own: name it as in the file
        problems += [re.sub(rf"^({re.escape(source)}:\d+: )0(?=[.:])", rf"\g<1>waivers.{index}", p) for p in found]
        items.append(entry[0])
        lines.update({("waivers", index, *path[1:]): line for path, line in entry_lines.items() if path})
    return items, lines, problems, broken


def _dates_as_text(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _dates_as_text(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_dates_as_text(v) for v in data]
    if isinstance(data, dt.datetime):
        return data.date().isoformat()
    if isinstance(data, dt.date):
        return data.isoformat()
    return data


@dataclass
class WaiverOutcome:
    """What applying waivers did: the review's own findings and how many results each waiver matched."""

    findings: list[Finding]
    matched: dict[int, int]


def apply_waivers(findings: list[Finding], waivers: WaiverSet, policy: Policy, now: dt.datetime) -> WaiverOutcome:
    """Suppress findings matched by a live waiver; report expired and stale waivers.

    Results already resolved since the baseline (``baselineState`` absent) are history, not waived.
    """
    from scanner.registry import RULES
    from scanner.rule import RuleContext

    matched = {index: 0 for index in range(len(waivers.waivers))}
    for finding in findings:
        if finding.baseline_state == "absent":
            continue
        names = _names(finding.resource)
        for index, waiver in enumerate(waivers.waivers):
            if waiver.matches(finding, names):
                matched[index] += 1
                if not waiver.expired(now) and not finding.suppressions:
                    finding.suppressions = [waiver.suppression(waivers.source)]
    ctx = RuleContext(policy=policy, now=now)
    resource = waivers.resource
    out: list[Finding] = []
    expired_rule, stale_rule = RULES.get("waiver_expired")(), RULES.get("waiver_stale")()
    for index, waiver in enumerate(waivers.waivers):
        if waiver.expired(now):
            if policy.rule_enabled(expired_rule.id):
                out.append(expired_rule.for_waiver(waiver, resource, matched[index], ctx))
        elif matched[index] == 0 and policy.rule_enabled(stale_rule.id):
            out.append(stale_rule.for_waiver(waiver, resource, 0, ctx))
    return WaiverOutcome([f for f in out if f.level.rank > 0], matched)
