"""Path patterns with gitignore semantics, the one way globs are matched everywhere.

Include/exclude options, ``.privauditignore`` files and every glob of a policy pack (logs, retention,
volume, third-party locations) mean what they mean in a ``.gitignore`` (https://git-scm.com/docs/gitignore),
the convention users of gitleaks, trufflehog, semgrep and checkov already know: a pattern without a
slash matches a name at any depth (``*.csv``), one with a slash is anchored at the root
(``logs/*.log`` does not match ``logs/2026/a.log``), ``**`` spans directories (``a/**/c.csv``
matches ``a/c.csv``), a trailing slash names a directory, ``!`` re-includes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import pathspec


@lru_cache(maxsize=512)
def _spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def matches(path: str, patterns: Iterable[str], *, is_dir: bool = False) -> bool:
    """Whether ``path`` (relative, ``/``-separated; a leading ``/`` is ignored) matches ``patterns``."""
    patterns = tuple(patterns)
    if not patterns:
        return False
    path = path.lstrip("/").encode("utf-8", "surrogateescape").decode("utf-8", "replace")  # names are bytes
    return _spec(patterns).match_file(path + "/" if is_dir and not path.endswith("/") else path)
