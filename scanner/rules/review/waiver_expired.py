"""A waiver past its expiry date: it no longer suppresses anything, and the review must see that."""

from __future__ import annotations

from scanner.registry import RULES
from scanner.review.waivers import Waiver
from scanner.rule import RuleContext
from scanner.rules.review._waiver import WaiverRule, describe


@RULES.register
class WaiverExpired(WaiverRule):
    id = "waiver_expired"

    def message(self, waiver: Waiver, matched: int, ctx: RuleContext) -> str:
        results = f"{matched} result{'s' if matched != 1 else ''}"
        return (f"The {describe(waiver)} expired on {waiver.expires.isoformat()}; it no longer applies, so the "
                f"{results} it matches count again. Fix them, or renew the waiver with a new expiry date.")
