"""ALTER DEFAULT PRIVILEGES ... GRANT SELECT ON TABLES TO PUBLIC: every future table is readable by all."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import DefaultPrivilegesGranted
from scanner.migrations.rulebase import MigrationContext, MigrationRule, describe, graded_properties, highest
from scanner.model import Finding
from scanner.registry import RULES


@RULES.register
class MigrationDefaultPrivilegesToPublic(MigrationRule):
    id = "migration_default_privileges_to_public"
    handles = (DefaultPrivilegesGranted,)

    def check(self, event: DefaultPrivilegesGranted, ctx: MigrationContext) -> Iterator[Finding]:
        if not event.grantee.is_public:
            return
        schemas = ", ".join(s or "every schema" for s in event.schemas)
        scope = "every schema" if event.schemas == (None,) else f"schema {schemas}"
        top = highest(event.graded) if event.graded else None
        grade = top.sensitivity.grade if top else None
        existing = f"; graded data already in that scope: {describe(event.graded)}" if event.graded else ""
        yield self.at_statement(
            event.statement, ctx,
            f"Default privileges grant {', '.join(sorted(event.privileges))} on every table created later in "
            f"{scope} to PUBLIC, so new tables holding personal data become readable by every role{existing}",
            level=self.level_for(ctx, grade) if grade else self.metadata().default_level,
            logical_name=scope, logical_kind="schema", grade=grade,
            discriminators=(scope, event.grantee.key),
            properties={"schemas": [s for s in event.schemas if s], "privileges": sorted(event.privileges),
                        **(graded_properties(event.graded) if event.graded else {})},
        )
