"""A SQLite database file holding graded personal data is readable by every local user (obligations 3 and 8)."""

from __future__ import annotations

import stat
from collections.abc import Iterator

from scanner.facts import DatabaseFile, of_type
from scanner.model import Finding, Resource
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.databases._db import graded_by_table


@RULES.register
class SqliteFileWorldReadableWithPii(Rule):
    id = "sqlite_file_world_readable_with_pii"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        graded = [c for columns in graded_by_table(target, ctx.policy).values() for c in columns]
        if not graded:
            return
        top = max(graded, key=lambda c: c.grade.rank)
        for info in of_type(target.facts, DatabaseFile):
            mode = info.mode
            if not mode & stat.S_IROTH:
                continue
            resource = Resource(uri=info.resource_uri, kind="file", display_name=info.path,
                                connector=target.connector, logical_name=info.path, logical_kind="database-file",
                                mode=mode, owner=info.owner, group=info.group)
            yield self.finding(
                resource,
                f"SQLite database {info.path} holds {top.grade.id} personal data "
                f"({', '.join(sorted({c.object for c in graded}))}) and is readable by all users "
                f"(mode {stat.filemode(stat.S_IFREG | mode)}, owner {info.owner})",
                level=ctx.policy.rule_level(self.id, top.grade, self.metadata().default_level),
                grade=top.grade,
                entity_type=top.entity,
                properties={"grantee": "other", "privilege": "read", "object": info.path,
                            "via": f"file mode {mode:04o}", "mode": f"{mode:04o}", "owner": info.owner,
                            "group": info.group, "columns": sorted({c.object for c in graded})},
            )
