"""Policy packs: the built-in packs load, and every mistake in a pack is reported with file:line.

Error cases are data: (name, pack text, the exact messages a person sees). A message must point at
the line to fix and say what was expected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.model import Level
from scanner.policy import DEFAULT_POLICY, builtin_policy_names, known_entity_types, load_policy
from scanner.yamlschema import ConfigError

BASE = """\
name: test-pack
grades:
  - id: C3
    title: Auth
    level: error
    security_severity: "9.0"
  - id: C2
    title: Identifying
    level: warning
    security_severity: "7.0"
entities:
  CN_RESIDENT_ID: C2
  PASSWORD: C3
"""
TOP_KEYS = "access, description, encryption, entities, exposure, grades, kinds, locations, name, obligations, " \
           "retention, rules, title, volume"

ERROR_CASES = [
    ("unknown-top-level-key", BASE + "grading: strict\n",
     [f"policy.yaml:14: grading: unknown key 'grading'; expected one of: {TOP_KEYS}"]),
    ("unknown-nested-key", BASE + "exposure:\n  world_readable: true\n  others: false\n",
     ["policy.yaml:16: exposure.others: unknown key 'others'; expected one of: group_readable, world_readable"]),
    ("undefined-entity-grade", BASE.replace("CN_RESIDENT_ID: C2", "CN_RESIDENT_ID: C9"),
     ["policy.yaml:12: entities.CN_RESIDENT_ID: grade 'C9' is not defined in grades (defined: C3, C2)"]),
    ("undefined-access-grades",
     BASE + "access:\n  public_grades: [C1]\n  roles:\n    - name: auditor\n      grades: [C2, top]\n",
     ["policy.yaml:15: access.public_grades: grade 'C1' is not defined in grades (defined: C3, C2)",
      "policy.yaml:18: access.roles.0.grades: grade 'top' is not defined in grades (defined: C3, C2)"]),
    ("yaml-syntax", BASE + "rules:\n  pii_in_log: [enabled\n",
     ["policy.yaml:16: not valid YAML: expected ',' or ']', but got '<stream end>'"]),
    ("missing-required", "name: x\n",
     ["policy.yaml:1: (top level): 'grades' is required but missing",
      "policy.yaml:1: (top level): 'entities' is required but missing"]),
    ("retention-limits", BASE + "retention:\n  - paths: []\n    max_age_days: 0\n",
     ["policy.yaml:16: retention.0.max_age_days: 0 is less than the minimum of 1",
      "policy.yaml:15: retention.0.paths: [] should be non-empty"]),
    ("rule-settings", BASE + "rules:\n  pii_in_log:\n    level: fatal\n    enable: false\n",
     ["policy.yaml:17: rules.pii_in_log.enable: unknown key 'enable'; expected one of: enabled, level",
      "policy.yaml:16: rules.pii_in_log.level: 'fatal' is not one of: error, warning, note, none"]),
    ("misspelt-rule-id", BASE + "rules:\n  pii_in_lgo:\n    enabled: false\n",
     ["policy.yaml:15: rules.pii_in_lgo: unknown rule; did you mean 'pii_in_log'?"]),
    ("grade-level", BASE.replace("level: warning", "level: fatal"),
     ["policy.yaml:9: grades.1.level: 'fatal' is not one of: error, warning, note"]),
    ("entities-not-a-mapping", BASE.split("entities:")[0] + "entities: [CN_RESIDENT_ID]\n",
     ["policy.yaml:11: entities: expected object, got list ['CN_RESIDENT_ID']"]),
    ("undefined-kind-grade", BASE + "kinds:\n  identity: C1\n",
     ["policy.yaml:15: kinds.identity: grade 'C1' is not defined in grades (defined: C3, C2)"]),
    ("unknown-kind", BASE + "kinds:\n  biometric: C3\n",
     ["policy.yaml:15: kinds.biometric: unknown key 'biometric'; expected one of: authentication, contact, "
      "financial, identity, location, network, organisation"]),
    ("bad-pack-name", BASE.replace("name: test-pack", "name: Test Pack"),
     ["policy.yaml:1: name: 'Test Pack' does not match '^[a-z0-9][a-z0-9-]*$'"]),
]


@pytest.mark.parametrize(("case", "text", "expected"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_policy_errors_name_file_line_and_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str,
                                              text: str, expected: list[str]) -> None:
    (tmp_path / "policy.yaml").write_text(text, "utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_policy("policy.yaml")
    assert raised.value.errors == expected
    assert str(raised.value) == "\n".join(expected)


def test_unknown_pack_lists_the_built_in_ones() -> None:
    with pytest.raises(ConfigError) as raised:
        load_policy("finacial-cn")
    (message,) = raised.value.errors
    assert message.startswith("unknown policy pack 'finacial-cn'; built-in packs: ")
    assert "financial-cn" in message


def test_unreadable_policy_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_policy(str(tmp_path / "missing.yaml"))
    (message,) = raised.value.errors
    assert message.startswith(str(tmp_path / "missing.yaml") + ": cannot be read: ")


@pytest.mark.parametrize("name", builtin_policy_names())
def test_built_in_packs_load(name: str) -> None:
    policy = load_policy(name)
    assert policy.name == name and policy.grades and policy.source == f"policies/{name}.yaml"
    ranks = [g.rank for g in policy.grades.values()]
    assert ranks == sorted(ranks, reverse=True) and len(set(ranks)) == len(ranks)
    assert all(policy.grade_of(e) is not None for e, g in policy.entities.items() if g is not None)


def test_default_pack_is_financial_grading() -> None:
    policy = load_policy()
    assert policy.name == DEFAULT_POLICY == "financial-cn"
    assert list(policy.grades) == ["C3", "C2", "C1"]
    assert policy.grade_of("CN_RESIDENT_ID").id == "C2"
    assert policy.grade_of("PASSWORD").id == "C3"
    assert policy.grade_of("IP_ADDRESS").id == "C1"
    assert policy.grade_of("CN_USCC") is None  # organisations' codes are not personal data
    assert policy.grade_of("NOT_A_TYPE") is None
    assert policy.highest_grade(["IP_ADDRESS", "CN_MOBILE_NUMBER"]).id == "C2"
    assert policy.encryption_required == ("C3", "C2")
    assert policy.world_readable and not policy.group_readable


@pytest.mark.parametrize(
    ("path", "is_log"),
    [("app.log", True), ("logs/app.txt", True), ("srv/logs/x/y.json", True), ("var/log/messages", True),
     ("app.log.1", True), ("app.log.2.gz", True), ("app.log.gz", True), ("x/app.log.xz", True),
     ("exports/customers.csv", False), ("catalog/readme.md", False), ("blog/post.md", False),
     ("batch.zip!/logs/app.txt", True)],
)
def test_log_locations(path: str, is_log: bool) -> None:
    assert load_policy().is_log(path) is is_log


def test_rule_switches_and_levels(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(BASE + "rules:\n  pii_in_log:\n    level: note\n  pii_in_file:\n    enabled: false\n", "utf-8")
    policy = load_policy(str(path))
    assert not policy.rule_enabled("pii_in_file") and policy.rule_enabled("pii_in_log")
    assert policy.rule_level("pii_in_log", policy.grades["C3"], Level.ERROR) is Level.NOTE
    assert policy.rule_level("pii_retention_exceeded", policy.grades["C2"], Level.ERROR) is Level.WARNING
    assert policy.rule_level("pii_retention_exceeded", None, Level.ERROR) is Level.ERROR
    assert policy.source == str(path)


@pytest.mark.parametrize("name", builtin_policy_names())
def test_shipped_packs_decide_on_every_entity_type(name: str) -> None:
    """No registered entity type is dropped silently: each is graded, or declined by name or by kind."""
    assert load_policy(name).ungraded(known_entity_types()) == []


GRADING_CASES = [
    # (pack text, entity type, grade id): an entities entry wins over its kind's grade
    (BASE + "kinds:\n  identity: C2\n  contact: null\n", "US_SSN", "C2"),
    (BASE + "kinds:\n  identity: C3\n", "CN_RESIDENT_ID", "C2"),
    (BASE + "kinds:\n  contact: C2\n", "EMAIL_ADDRESS", "C2"),
    (BASE + "kinds:\n  contact: null\n", "EMAIL_ADDRESS", None),
    (BASE.replace("  PASSWORD: C3\n", "  PASSWORD: C3\n  EMAIL_ADDRESS: null\n") + "kinds:\n  contact: C2\n",
     "EMAIL_ADDRESS", None),
    (BASE + "kinds:\n  authentication: C3\n", "CREDENTIAL", "C3"),  # a name-only type's kind
    (BASE, "EMAIL_ADDRESS", None),
]


@pytest.mark.parametrize(("text", "entity", "grade"), GRADING_CASES)
def test_entities_override_the_grade_of_their_kind(tmp_path: Path, text: str, entity: str, grade: str | None) -> None:
    (tmp_path / "policy.yaml").write_text(text, "utf-8")
    found = load_policy(str(tmp_path / "policy.yaml")).grade_of(entity)
    assert (found.id if found else None) == grade


def test_a_pack_names_what_it_would_drop(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(BASE + "kinds:\n  contact: null\n", "utf-8")
    dropped = load_policy(str(tmp_path / "policy.yaml")).ungraded(known_entity_types())
    assert "US_SSN" in dropped and "EMAIL_ADDRESS" not in dropped and "CN_RESIDENT_ID" not in dropped
