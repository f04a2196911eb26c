"""A live waiver that matched no result: the risk it accepted is gone, or the selector is wrong."""

from __future__ import annotations

from scanner.registry import RULES
from scanner.review.waivers import Waiver
from scanner.rule import RuleContext
from scanner.rules.review._waiver import WaiverRule, describe


@RULES.register
class WaiverStale(WaiverRule):
    id = "waiver_stale"

    def message(self, waiver: Waiver, matched: int, ctx: RuleContext) -> str:
        return (f"The {describe(waiver)} matched no result in this scan; remove it if the finding was fixed, "
                f"or correct its selector.")
