"""Base class for migration rules: event-driven, but with the usual metadata and findings.

Migration rules do not fit :meth:`scanner.rule.Rule.evaluate` (one scanned resource at a time):
what they judge is an *event* of the replayed schema (a GRANT on a table created three files
earlier). They subclass :class:`MigrationRule`, list the event types they handle and implement
:meth:`check`; metadata (YAML beside the module) and fingerprints still come from
:class:`~scanner.rule.Rule`, so SARIF rule descriptors, policy levels and baselines work as for
every other rule. ``scope = "migrations"`` lets ``privaudit scan`` skip them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from scanner.migrations.events import Event, GradedColumn
from scanner.model import Finding, Level, Location, Resource
from scanner.policy import Grade, Policy
from scanner.rule import Rule, RuleContext

if TYPE_CHECKING:
    from scanner.migrations.parsing import Statement


@dataclass
class MigrationContext:
    """What a migration rule may consult: the policy/clock context and how to name a location."""

    rule_ctx: RuleContext
    resource_for: Callable[[Statement, str | None, str | None], Resource]

    @property
    def policy(self) -> Policy:
        return self.rule_ctx.policy


class MigrationRule(Rule):
    """A rule judging schema-change events; ``handles`` lists the event classes it wants."""

    scope: ClassVar[str] = "migrations"
    handles: ClassVar[tuple[type[Event], ...]] = ()

    def check(self, event: Any, ctx: MigrationContext) -> Iterable[Finding]:
        return ()

    def level_for(self, ctx: MigrationContext, grade: Grade | None) -> Level:
        return ctx.policy.rule_level(self.id, grade, self.metadata().default_level)

    def at_statement(
        self,
        statement: Statement,
        ctx: MigrationContext,
        message: str,
        *,
        level: Level,
        logical_name: str | None,
        logical_kind: str | None,
        grade: Grade | None = None,
        entity_type: str | None = None,
        discriminators: Sequence[str] = (),
        properties: dict[str, Any] | None = None,
        line: int | None = None,
        field: str | None = None,
        column: int | None = None,
    ) -> Finding:
        """A finding located at the statement's first line (``line`` overrides, e.g. a comment's)."""
        resource = ctx.resource_for(statement, logical_name, logical_kind)
        finding = self.finding(resource, message, level=level, grade=grade, entity_type=entity_type, occurrences=1,
                               discriminators=discriminators, properties=properties)
        finding.locations = [Location(line=line or statement.start_line, end_line=statement.end_line, field=field,
                                      column=column if line else None)]
        return finding


def highest(graded: Sequence[GradedColumn]) -> GradedColumn:
    """The graded column with the highest grade (ties: first in statement order)."""
    return max(graded, key=lambda g: g.sensitivity.grade.rank)


def describe(graded: Sequence[GradedColumn], limit: int = 6) -> str:
    """``customer.id_card (C2), customer.mobile (C2)`` for messages; no values, only names."""
    shown = [f"{g.relation}.{g.column} ({g.sensitivity.grade.id})" for g in graded[:limit]]
    more = f" and {len(graded) - limit} more" if len(graded) > limit else ""
    return ", ".join(shown) + more


def graded_properties(graded: Sequence[GradedColumn]) -> dict[str, Any]:
    return {
        "columns": [f"{g.relation}.{g.column}" for g in graded],
        "grades": sorted({g.sensitivity.grade.id for g in graded}),
        "classes": sorted({c for g in graded for c in g.sensitivity.classes}),
    }


def top_grade(policy: Policy) -> Grade:
    """The policy's most sensitive grade (C3 in financial-cn): never acceptable in plaintext."""
    return max(policy.grades.values(), key=lambda g: g.rank)


def access_policy(policy: Policy) -> Any:
    """The policy's ``access`` section (least privilege per grade) or None when the pack has none."""
    return getattr(policy, "access", None)


def not_allowed_for(graded: Sequence[GradedColumn], policy: Policy, attribute: str) -> list[GradedColumn]:
    """Graded columns whose grade the ``access.<attribute>`` grade list does not allow.

    Without an ``access`` section nothing is allowed (PUBLIC and any-host accounts read no graded
    data), which is also what the default pack says.
    """
    access = access_policy(policy)
    allowed = set(getattr(access, attribute, ()) or ()) if access is not None else set()
    return [g for g in graded if g.sensitivity.grade.id not in allowed]
