"""A file holding graded personal data readable by its whole group, when the policy asks."""

from __future__ import annotations

import stat
from collections.abc import Iterator

from scanner.model import Finding, ResourceScan
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext
from scanner.rules.files.file_world_readable_with_pii import exposure_finding


@RULES.register
class FileGroupReadableWithPii(Rule):
    id = "file_group_readable_with_pii"

    def evaluate(self, scan: ResourceScan, ctx: RuleContext) -> Iterator[Finding]:
        mode = scan.resource.mode
        if mode is None or not ctx.policy.group_readable or not mode & stat.S_IRGRP or mode & stat.S_IROTH:
            return
        yield from exposure_finding(self, scan, ctx, f"group {scan.resource.group}")
