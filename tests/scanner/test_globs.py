"""Globs mean what they mean in a ``.gitignore``, everywhere (include/exclude, ignore files, policy globs)."""

from __future__ import annotations

import pytest

from scanner.globs import matches

CASES = [
    # (path, patterns, is_dir, matches)
    ("logs/2026/a.log", ["logs/*.log"], False, False),
    ("logs/a.log", ["logs/*.log"], False, True),
    ("a/c.csv", ["a/**/c.csv"], False, True),
    ("usr/share/doc/x/copyright", ["**/share/doc/**"], False, True),
    ("keep.log", ["*.log", "!keep.log"], False, False),
    ("node_modules", ["**/node_modules/**"], True, True),
    ("x/node_modules/pkg/index.js", ["**/node_modules/**"], False, True),
    ("/abs/logs/a.txt", ["logs/"], False, True),
    ("b/x.txt", ["/b"], False, True),
    ("a/b/x.txt", ["/b"], False, False),
    ("docs/README", ["*", "!docs/"], False, True),  # a file under a re-included directory stays excluded by "*"
]


@pytest.mark.parametrize(("path", "patterns", "is_dir", "expected"), CASES)
def test_gitignore_semantics(path: str, patterns: list[str], is_dir: bool, expected: bool) -> None:
    assert matches(path, patterns, is_dir=is_dir) is expected
