"""The compiled Hyperscan database is cached on disk: reused when it fits, compiled again when it
is damaged or the patterns change, and never taken from a directory others can write to."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import hyperscan
import pytest

from scanner.detection import hyperscan_cache
from scanner.detection.engine import Detector
from scanner.model import Chunk

TEXT = "身份证 11010519491231002X 手机 13812345678 mail zhang.san@example.com\n".encode()
EXPECTED = ["CN_RESIDENT_ID", "CN_MOBILE_NUMBER", "EMAIL_ADDRESS"]


def _found(detector: Detector) -> list[str]:
    return [m.entity_type for m in detector.scan(Chunk(data=TEXT)).matches]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache" / "privaudit"
    monkeypatch.setenv("PRIVAUDIT_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts Hyperscan compilations."""
    calls: list[int] = []
    real = hyperscan.Database

    class CountingDatabase(real):  # type: ignore[misc, valid-type]
        def compile(self, *args: object, **kwargs: object) -> None:
            calls.append(1)
            super().compile(*args, **kwargs)

    monkeypatch.setattr(hyperscan, "Database", CountingDatabase)
    return calls


def test_first_scan_compiles_and_stores_later_scans_load(cache: Path, compiles: list[int]) -> None:
    assert _found(Detector()) == EXPECTED
    (stored,) = cache.glob("hyperscan-*.db")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700 and stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert _found(Detector()) == EXPECTED
    assert len(compiles) == 1


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b[:4000] + bytes([b[4000] ^ 0xFF]) + b[4001:],
                                    lambda b: b""], ids=["truncated", "bit-flip", "empty"])
def test_a_damaged_cache_file_is_compiled_again_and_replaced(cache: Path, compiles: list[int], damage) -> None:  # type: ignore[no-untyped-def]
    Detector()
    (stored,) = cache.glob("hyperscan-*.db")
    good = stored.read_bytes()
    stored.write_bytes(damage(good))
    assert _found(Detector()) == EXPECTED
    assert len(compiles) == 2 and stored.read_bytes() == good


def test_a_directory_others_can_write_is_not_used(cache: Path, compiles: list[int]) -> None:
    cache.mkdir(parents=True)
    os.chmod(cache, 0o777)
    assert _found(Detector()) == EXPECTED and _found(Detector()) == EXPECTED
    assert not list(cache.glob("hyperscan-*.db")) and len(compiles) == 2


def test_an_empty_cache_dir_setting_turns_the_cache_off(monkeypatch: pytest.MonkeyPatch, compiles: list[int]) -> None:
    monkeypatch.setenv("PRIVAUDIT_CACHE_DIR", "")
    assert hyperscan_cache.cache_dir() is None
    Detector(), Detector()
    assert len(compiles) == 2


def test_other_patterns_or_flags_get_another_file() -> None:
    key = hyperscan_cache.cache_key
    base = key(hyperscan, [b"a+", b"b+"], [0, 1], [0, 0], hyperscan.HS_MODE_BLOCK)
    assert base == key(hyperscan, [b"a+", b"b+"], [0, 1], [0, 0], hyperscan.HS_MODE_BLOCK)
    assert base != key(hyperscan, [b"a+", b"c+"], [0, 1], [0, 0], hyperscan.HS_MODE_BLOCK)
    assert base != key(hyperscan, [b"a+", b"b+"], [0, 1], [0, hyperscan.HS_FLAG_CASELESS], hyperscan.HS_MODE_BLOCK)
    assert base != key(hyperscan, [b"a+", b"b+"], [1, 0], [0, 0], hyperscan.HS_MODE_BLOCK)


def test_cache_holds_patterns_only_never_scanned_values(cache: Path) -> None:
    Detector().scan(Chunk(data=TEXT))
    for path in cache.iterdir():
        data = path.read_bytes()
        assert b"11010519491231002X" not in data and b"13812345678" not in data and b"zhang.san" not in data
