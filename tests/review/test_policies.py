"""Policy packs and rule metadata: every shipped pack validates and grades the same identifiers,
policies/README.md documents every key, and every rule names its obligation and its fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanner.policy import SCHEMA, builtin_policy_names, load_policy
from scanner.registry import RULES

REPO = Path(__file__).resolve().parents[2]
PACKS = ["financial-cn", "gdpr", "pci-dss"]


def test_shipped_packs() -> None:
    assert builtin_policy_names() == PACKS


@pytest.mark.parametrize("name", PACKS)
def test_pack_loads_and_grades_every_identifier_the_default_knows(name: str) -> None:
    """A pack that forgets an entity type silently stops reporting it; ungraded must be said (null)."""
    default = load_policy("financial-cn")
    policy = load_policy(name)
    assert set(default.entities) <= set(policy.entities), set(default.entities) - set(policy.entities)
    assert policy.title and policy.grades
    for grade in policy.encryption_required:
        assert grade in policy.grades


@pytest.mark.parametrize("name", ["gdpr", "pci-dss"])
def test_new_packs_cite_a_reference_for_every_obligation(name: str) -> None:
    assert sorted(load_policy(name).obligations) == list(range(1, 10))


@pytest.mark.parametrize("name, entity, grade", [
    ("gdpr", "PASSWORD", "authentication"),
    ("gdpr", "CN_RESIDENT_ID", "high-risk"),
    ("gdpr", "IP_ADDRESS", "personal"),
    ("gdpr", "CN_USCC", None),
    ("pci-dss", "CARD_VERIFICATION_CODE", "SAD"),
    ("pci-dss", "CREDIT_CARD", "PAN"),
    ("pci-dss", "CN_RESIDENT_ID", None),
])
def test_pack_grading(name: str, entity: str, grade: str | None) -> None:
    found = load_policy(name).grade_of(entity)
    assert (found.id if found else None) == grade


def test_readme_documents_every_policy_key() -> None:
    readme = (REPO / "policies" / "README.md").read_text("utf-8")
    documented = set(re.findall(r"^### `([a-z_.]+)`", readme, flags=re.MULTILINE))
    documented |= {part for heading in re.findall(r"^### (.+)$", readme, flags=re.MULTILINE)
                   for part in re.findall(r"`([a-z_]+)`", heading)}
    top = {key.split(".")[0] for key in documented}
    assert set(SCHEMA["properties"]) == top
    for pack in PACKS:
        assert f"`{pack}`" in readme


@pytest.mark.parametrize("rule_id", RULES.names())
def test_every_rule_names_its_obligation_and_fix(rule_id: str) -> None:
    meta = RULES.get(rule_id).metadata()
    assert meta.obligations and all(1 <= o <= 9 for o in meta.obligations)
    assert len(meta.help.split()) >= 8, f"{rule_id}: help must say how to fix it"
    assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", rule_id)
