"""A file holding graded personal data readable by its whole group, when the policy asks."""

from __future__ import annotations

import stat
from collections.abc import Iterator

from scanner.model import Finding
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan
from scanner.rules.files.file_world_readable_with_pii import exposure_findings


@RULES.register
class FileGroupReadableWithPii(Rule):
    id = "file_group_readable_with_pii"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        if not ctx.policy.group_readable:
            return
        yield from exposure_findings(self, target, ctx, lambda resource: f"group {resource.group}",
                                     lambda mode: bool(mode & stat.S_IRGRP) and not mode & stat.S_IROTH)
