"""Apply a review to a finished scan: baseline states, then waivers, then the exit code.

Order matters: the baseline first decides which previous results are resolved (absent) or merely not
covered this time; waivers then apply to everything that is still open (including not-covered results
carried over), and the waiver rules' own findings get their baseline state last.
"""

from __future__ import annotations

import datetime as dt

from scanner.model import Level, ScanReport
from scanner.policy import Policy
from scanner.review.baseline import Baseline
from scanner.review.waivers import WaiverSet, apply_waivers

REVIEW_RULES = frozenset({"waiver_expired", "waiver_stale"})


def apply_review(report: ScanReport, policy: Policy, *, waivers: WaiverSet | None = None,
                 baseline: Baseline | None = None, now: dt.datetime | None = None) -> None:
    """Mutate ``report``: baseline states, carried results, suppressions and waiver findings."""
    now = now or dt.datetime.now(dt.UTC)
    if baseline is not None:
        baseline.compare(report, exclude_rules=REVIEW_RULES)
    review = []
    if waivers is not None:
        # everything still open, including not-covered results carried from the baseline
        live = [f for f in report.findings if f.baseline_state != "absent"]
        review = apply_waivers(live, waivers, policy, now).findings
        from scanner.registry import RULES

        known = {cls.id for cls in report.rules}
        report.rules = [*report.rules, *(RULES.get(r) for r in sorted(REVIEW_RULES)
                                          if r not in known and policy.rule_enabled(r))]
    if baseline is not None:
        baseline.finish(report, review, REVIEW_RULES)
    report.findings.extend(review)
    report.findings.sort(key=lambda f: (f.baseline_state == "absent", -f.level.rank, f.resource.uri, f.rule_id,
                                        f.entity_type or ""))


def counts_for_exit(report: ScanReport, new_only: bool = False) -> list:
    """Findings that can fail the run: unwaived, not resolved, and (with ``new_only``) new since the baseline."""
    return [f for f in report.findings
            if not f.suppressions and f.baseline_state != "absent" and (not new_only or f.baseline_state == "new")]


def review_exit_code(report: ScanReport, fail_on: str, new_only: bool = False) -> int:
    """0, 1 for findings at or above ``fail_on``, or 3 when a target could not be scanned at all (wins over 1)."""
    if any(t.failed for t in report.targets):
        return 3
    if fail_on == "none":
        return 0
    threshold = Level(fail_on).rank
    return 1 if any(f.level.rank >= threshold for f in counts_for_exit(report, new_only)) else 0
