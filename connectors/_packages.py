"""Files the operating system's package manager installed: third-party software, not an estate's data.

A scan of ``/usr`` or ``/opt`` meets charset tables, locale data, translation-team lists and package
indexes that hold e-mail addresses and numbers shaped like identifiers; none of it is the bank's
customer data, and a review drowns in it (gitleaks and trufflehog ship default allow-lists for the
same reason). The package manager's own database says which files came from a package: Debian's dpkg
lists each package's files in ``/var/lib/dpkg/info/<package>.list``. Files listed in
``<package>.conffiles`` are configuration the administrator edits, so they stay in scope; a file
dropped into a package's directory by anyone else is not listed and is scanned.

Only paths under the scan's root are kept in memory, so a scan of a file share never holds the
package database.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

DPKG_INFO = Path("/var/lib/dpkg/info")


class InstalledFiles:
    """The package-installed files under ``root`` (none where there is no dpkg database)."""

    def __init__(self, root: Path, info_dir: Path | None = None) -> None:
        self.root = root
        self.info_dir = info_dir or DPKG_INFO
        self._files: frozenset[str] | None = None

    def __contains__(self, path: object) -> bool:
        if self._files is None:
            self._files = frozenset(self._load())
        return str(path) in self._files

    def _load(self) -> set[str]:
        try:
            lists = sorted(self.info_dir.glob("*.list"))
        except OSError:
            return set()
        prefix = str(self.root).rstrip("/") + "/"
        files: set[str] = set()
        for listing in lists:
            files.update(_under(_lines(listing), prefix))
        for conffiles in self.info_dir.glob("*.conffiles"):
            files.difference_update(_under(_lines(conffiles), prefix))
        return files


def _lines(listing: Path) -> list[str]:
    try:
        return listing.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError:
        return []


def _under(paths: list[str], prefix: str) -> list[str]:
    """``paths`` under ``prefix``, each also by its merged-/usr name (packages still list ``/lib/…``
    where ``/lib`` is a symlink to ``usr/lib``)."""
    found = []
    for path in paths:
        for name in (path, _merged(path)):
            if name and name.startswith(prefix):
                found.append(name)
    return found


def _merged(path: str) -> str | None:
    top = path.split("/", 2)[1] if path.count("/") >= 2 else ""
    if top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32") and _is_symlink("/" + top):
        return "/usr" + path
    return None


@lru_cache(maxsize=8)
def _is_symlink(path: str) -> bool:
    return os.path.islink(path)
