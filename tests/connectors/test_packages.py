"""Files the package manager installed are third-party software: left out with one note, unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest

import connectors._packages as packages
from connectors._packages import InstalledFiles
from connectors.files import FilesConnector
from scanner.connector import ScanOptions
from scanner.model import Notification, Resource

THIRD_PARTY = ("**/share/doc/**",)


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tree with a package's data file, its configuration file and a file nobody packaged, and a
    dpkg database that lists the first two (the second as a conffile)."""
    root = tmp_path / "usr"
    (root / "share" / "charsets").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "share" / "charsets" / "cp866.xml").write_text("<map>5555 5555 5555 4444</map>\n")
    (root / "etc" / "app.conf").write_text("admin = zhang.wei@example.com\n")
    (root / "share" / "charsets" / "customers.csv").write_text("email\nli.na@example.com\n")
    info = tmp_path / "dpkg-info"
    info.mkdir()
    (info / "charsets.list").write_text(f"/.\n{root}\n{root}/share/charsets\n{root}/share/charsets/cp866.xml\n"
                                        f"{root}/etc/app.conf\n")
    (info / "charsets.conffiles").write_text(f"{root}/etc/app.conf\n")
    (info / "other.list").write_text("/opt/elsewhere/file.txt\n")
    monkeypatch.setattr(packages, "DPKG_INFO", info)
    return root


def walk(root: Path, third_party: tuple[str, ...]) -> tuple[list[str], list[Notification]]:
    items = list(FilesConnector(str(root), ScanOptions(third_party=third_party)).discover())
    names = sorted(i.relative_path or "" for i in items if isinstance(i, Resource))
    return names, [i for i in items if isinstance(i, Notification)]


def test_packaged_files_are_left_out_with_one_note(estate: Path) -> None:
    names, notes = walk(estate, THIRD_PARTY)
    assert names == ["etc/app.conf", "share/charsets/customers.csv"]
    [note] = notes
    assert note.kind == "third-party" and note.count == 1
    assert "installed by the system's package manager (dpkg)" in note.message
    assert note.message.endswith("--include-third-party scans them.")


def test_include_third_party_scans_packaged_files(estate: Path) -> None:
    names, notes = walk(estate, ())
    assert names == ["etc/app.conf", "share/charsets/cp866.xml", "share/charsets/customers.csv"]
    assert notes == []


@pytest.mark.parametrize(("listed", "walked", "owned"), [
    ("/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", Path("/lib").is_symlink()),
    ("/usr/share/zoneinfo/UTC", "/usr/share/zoneinfo/UTC", True),
    ("/usr/share/zoneinfo/UTC", "/usr/share/zoneinfo/UTC.bak", False),
    ("/srv/share/report.csv", "/srv/share/report.csv", False),  # outside the root: never kept
])
def test_ownership_by_path(tmp_path: Path, listed: str, walked: str, owned: bool) -> None:
    (tmp_path / "pkg.list").write_text(f"{listed}\n")
    assert (walked in InstalledFiles(Path("/usr"), tmp_path)) is owned


def test_no_package_database_owns_nothing(tmp_path: Path) -> None:
    assert "/usr/bin/env" not in InstalledFiles(Path("/usr"), tmp_path / "missing")
