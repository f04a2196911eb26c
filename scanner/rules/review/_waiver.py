"""What the waiver rules share: they judge a waivers file entry, not scanned content."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from scanner.model import Finding, Location, Resource
from scanner.rule import Rule, RuleContext

if TYPE_CHECKING:
    from scanner.review.waivers import Waiver


class WaiverRule(Rule):
    """Findings located at the waiver's line in the waivers file, fingerprinted by what it waives."""

    scope: ClassVar[str] = "review"

    def message(self, waiver: Waiver, matched: int, ctx: RuleContext) -> str:
        raise NotImplementedError

    def for_waiver(self, waiver: Waiver, resource: Resource, matched: int, ctx: RuleContext) -> Finding:
        finding = self.finding(
            resource,
            self.message(waiver, matched, ctx),
            level=ctx.policy.rule_level(self.id, None, self.metadata().default_level),
            discriminators=(waiver.rule, waiver.selector),
            occurrences=matched,
            properties={
                "waivedRule": waiver.rule,
                "selector": waiver.selector,
                "owner": waiver.owner,
                "expires": waiver.expires.isoformat(),
                **({"ticket": waiver.ticket} if waiver.ticket else {}),
                "matchedResults": matched,
            },
        )
        finding.locations = [Location(line=waiver.line)]
        return finding


def describe(waiver: Waiver) -> str:
    ticket = f", ticket {waiver.ticket}" if waiver.ticket else ""
    return f"waiver for {waiver.rule} on {waiver.selector} (owner {waiver.owner}{ticket})"
