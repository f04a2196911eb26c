"""The GitHub Action (``action.yml``) and the example workflow, checked the way GitHub reads them.

Both files are validated against the GitHub Actions and workflow JSON schemas that check-jsonschema
ships (no network); every action they use is pinned by a full commit SHA; the action's shell steps
take inputs only through environment variables (an input interpolated into a script is code
injection: https://docs.github.com/en/actions/security-guides/security-hardening-for-github-actions).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


@pytest.mark.parametrize(("path", "schema"), [(REPO / "action.yml", "vendor.github-actions"),
                                              *((w, "vendor.github-workflows") for w in WORKFLOWS)],
                         ids=lambda v: v.name if isinstance(v, Path) else v)
def test_valid_for_github(path: Path, schema: str) -> None:
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _uses(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "uses" and isinstance(v, str)] + [
            u for v in node.values() for u in _uses(v)]
    if isinstance(node, list):
        return [u for v in node for u in _uses(v)]
    return []


@pytest.mark.parametrize("path", [REPO / "action.yml", *WORKFLOWS], ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha(path: Path) -> None:
    for uses in _uses(yaml.safe_load(path.read_text("utf-8"))):
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), f"{path.name}: {uses} is not pinned by SHA"


def test_inputs_reach_scripts_only_through_the_environment() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text("utf-8"))
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), f"step {step.get('name')!r} interpolates an expression into a script"
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"command", "args", "category", "upload"}


def test_the_upload_is_skipped_on_forks_and_the_exit_status_still_gates() -> None:
    steps = {s["name"]: s for s in yaml.safe_load((REPO / "action.yml").read_text("utf-8"))["runs"]["steps"]}
    upload = steps["Upload to code scanning"]
    assert "head.repo.full_name == github.repository" in upload["if"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "head.repo.full_name != github.repository" in steps["Upload skipped on a fork"]["if"]
    assert steps["Exit with privaudit's status"]["if"] == "always()"
