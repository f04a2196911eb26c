"""Migration file order: a total order consistent with numeric versions (hypothesis properties)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from scanner.migrations.ordering import (
    REPEATABLE,
    UNVERSIONED,
    VERSIONED,
    is_applied_forward,
    migration_key,
    order_migrations,
    parse_version,
)

versions = st.lists(st.integers(min_value=0, max_value=10**14), min_size=1, max_size=4)
descriptions = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)


@st.composite
def file_names(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["flyway", "flyway_underscore", "numbered", "timestamp", "repeatable", "plain",
                                 "golang"]))
    desc = draw(descriptions)
    if kind == "flyway":
        return f"V{'.'.join(map(str, draw(versions)))}__{desc}.sql"
    if kind == "flyway_underscore":
        return f"V{'_'.join(map(str, draw(versions)))}__{desc}.sql"
    if kind == "numbered":
        return f"{draw(st.integers(0, 9999)):04d}_{desc}.sql"
    if kind == "timestamp":
        return f"{draw(st.integers(20000101000000, 20991231235959))}_{desc}.sql"
    if kind == "golang":
        return f"{draw(st.integers(1, 999))}_{desc}.up.sql"
    if kind == "repeatable":
        return f"R__{desc}.sql"
    return f"{desc}.sql"


def _numeric(version: list[int]) -> tuple[int, ...]:
    parts = list(version)
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


@given(st.lists(file_names(), min_size=1, max_size=25, unique=True), st.randoms())
def test_order_is_total_and_independent_of_input_order(names: list[str], rnd: random.Random) -> None:
    shuffled = names[:]
    rnd.shuffle(shuffled)
    assert order_migrations(names) == order_migrations(shuffled)
    keys = [migration_key(n) for n in names]
    for a in keys:  # comparable, antisymmetric, exactly one of <, ==, >
        for b in keys:
            assert sum((a < b, a == b, a > b)) == 1


@given(st.lists(file_names(), min_size=2, max_size=25, unique=True))
def test_order_is_transitive(names: list[str]) -> None:
    ordered = order_migrations(names)
    keys = [migration_key(p) for p in ordered]
    assert all(keys[i] <= keys[i + 1] for i in range(len(keys) - 1))


@given(versions, versions, descriptions, descriptions)
def test_flyway_versions_compare_numerically(v1: list[int], v2: list[int], d1: str, d2: str) -> None:
    a = migration_key(f"V{'.'.join(map(str, v1))}__{d1}.sql")
    b = migration_key(f"V{'_'.join(map(str, v2))}__{d2}.sql")
    if _numeric(v1) < _numeric(v2):
        assert a < b
    elif _numeric(v1) > _numeric(v2):
        assert a > b


@given(st.lists(file_names(), min_size=1, max_size=25, unique=True))
def test_groups_versioned_then_unversioned_then_repeatable(names: list[str]) -> None:
    groups = [migration_key(p).group for p in order_migrations(names)]
    assert groups == sorted(groups)


def test_examples() -> None:
    names = ["R__views.sql", "V10__x.sql", "V2__x.sql", "V1.1__x.sql", "V1__x.sql", "V1_2__x.sql", "schema.sql",
             "U2__undo.sql", "3.down.sql"]
    assert [p.name for p in order_migrations(names)] == [
        "V1__x.sql", "V1.1__x.sql", "V1_2__x.sql", "V2__x.sql", "V10__x.sql", "schema.sql", "R__views.sql"]
    assert parse_version("1.0.0") == (1,) and parse_version("1_10") == (1, 10)
    assert migration_key("0002_b.sql") < migration_key("0010_a.sql")
    assert migration_key("20240101120000_a.sql") < migration_key("20240315093000_b.sql")
    assert migration_key("V1__a.sql").group == VERSIONED
    assert migration_key("R__a.sql").group == REPEATABLE and migration_key("init.sql").group == UNVERSIONED
    assert not is_applied_forward("U1__undo.sql") and not is_applied_forward("1_init.down.sql")
    assert is_applied_forward("1_init.up.sql")
