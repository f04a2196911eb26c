"""House rules for plug-ins, checked over whatever is registered (so a new plug-in is checked too).

Rules: valid metadata, stable descriptive snake_case IDs equal to their file names, unique, each with
test cases somewhere under ``tests/``; connectors: URI schemes and the permissions they need;
recognizers: a docstring citing the format and fictitious test values, context words; reporters:
every module in ``reports/`` registers one; subcommands: every module exposes ``command``;
descriptions and help end with a period (finding messages are checked on real output in
tests/reports/test_sarif.py).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import reports
import scanner.commands
from reports._i18n import LANGUAGES
from scanner.connector import STORES, ScanOptions
from scanner.detection.recognizer import KINDS
from scanner.registry import CONNECTORS, RECOGNIZERS, REPORTERS, RULES
from scanner.rule import METADATA_SCHEMA, Rule
from scanner.yamlschema import load_validated

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
RULE_IDS = RULES.names()
RULE_YAMLS = sorted(p for p in (REPO / "scanner" / "rules").rglob("*.yaml"))


def test_registries_are_not_empty() -> None:
    assert len(RULES) >= 5 and len(CONNECTORS) >= 1 and len(RECOGNIZERS) >= 3 and len(REPORTERS) >= 3


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_metadata_is_valid_and_matches_the_module(rule_id: str) -> None:
    cls = RULES.get(rule_id)
    assert issubclass(cls, Rule)
    meta = cls.metadata()  # validates the YAML against METADATA_SCHEMA, checks id == class id == file name
    module_file = Path(sys.modules[cls.__module__].__file__ or "")
    assert module_file.stem == rule_id and module_file.with_suffix(".yaml").is_file()
    assert SNAKE_CASE.match(rule_id) and rule_id == rule_id.lower()
    assert 0.0 <= float(meta.security_severity) <= 10.0
    assert (sys.modules[cls.__module__].__doc__ or "").strip(), f"{rule_id}: module docstring says why"


@pytest.mark.parametrize("path", RULE_YAMLS, ids=[p.stem for p in RULE_YAMLS])
def test_every_metadata_file_belongs_to_a_registered_rule(path: Path) -> None:
    data = load_validated(path, METADATA_SCHEMA)
    assert data["id"] == path.stem and path.stem in RULE_IDS


def test_rule_ids_and_names_are_unique() -> None:
    stems = [p.stem for p in RULE_YAMLS]
    assert len(stems) == len(set(stems))
    names = [RULES.get(r).metadata().name for r in RULE_IDS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_descriptions_and_help_are_sentences(rule_id: str) -> None:
    meta = RULES.get(rule_id).metadata()
    for text in (meta.short_description, meta.full_description, meta.help):
        assert text.rstrip().endswith("."), f"{rule_id}: {text!r} should end with a period"
    assert meta.help_markdown.strip()


def _test_corpus() -> str:
    own = Path(__file__).resolve()
    texts = []
    for path in TESTS.rglob("*"):
        if path.is_file() and path.resolve() != own and path.suffix in (".py", ".yaml", ".yml", ".sarif", ".json",
                                                                         ".expected", ".sql"):
            texts.append(path.read_text("utf-8", errors="replace"))
    return "\n".join(texts)


@pytest.fixture(scope="module")
def test_corpus() -> str:
    return _test_corpus()


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_rule_has_test_cases(rule_id: str, test_corpus: str) -> None:
    assert re.search(rf"\b{rule_id}\b", test_corpus), f"no test under tests/ mentions rule {rule_id}"


@pytest.mark.parametrize("name", CONNECTORS.names())
def test_connectors_declare_schemes_and_permissions(name: str) -> None:
    cls = CONNECTORS.get(name)
    assert cls.schemes and all(isinstance(s, str) and s == s.lower() for s in cls.schemes)
    assert cls.permissions and all(isinstance(p, str) and p.strip() for p in cls.permissions)
    assert cls.description.strip() and (cls.__doc__ or "").strip()
    assert cls.store in STORES, f"{name}: store (one of {STORES}) selects the rules that judge its resources"
    assert set(cls.labels) == set(LANGUAGES), f"{name}: a label of its store in each report language {LANGUAGES}"
    assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.config_key), f"{name}: config_key names its targets in scan configs"
    fields = {f.name for f in dataclasses.fields(ScanOptions)}
    for key, option in cls.target_options.items():
        retired = option.schema.get("not") == {} and option.schema.get("description")  # refused, saying why
        assert option.extra or key in fields or retired, (
            f"{name}: target option {key} sets an extra or a ScanOptions field, or is a retired option refused "
            "with what replaced it")
        assert option.credential in (None, "env", "file", "profile", "flag")
    assert not inspect.isabstract(cls)


RULE_SOURCES = sorted((REPO / "scanner" / "rules").rglob("*.py"))


@pytest.mark.parametrize("path", RULE_SOURCES, ids=lambda p: p.name)
def test_rules_select_resources_by_store_or_facts_never_by_connector_name(path: Path) -> None:
    """A rule naming connectors silently skips the data of every connector added later."""
    source = path.read_text("utf-8")
    names = "|".join(CONNECTORS.names())
    assert not re.search(rf"connector\s*(==|!=|not in|in)\s*[(\[]?\s*[\"']({names})[\"']", source)
    assert not re.search(rf"connector=[\"']({names})[\"']", source)
    assert not re.search(r"^\s*(from|import) connectors\b", source, re.MULTILINE), "rules read facts"


def test_no_two_connectors_claim_a_scheme() -> None:
    claimed = [s for cls in CONNECTORS for s in cls.schemes]
    assert len(claimed) == len(set(claimed))


@pytest.mark.parametrize("name", RECOGNIZERS.names())
def test_recognizers_are_documented_and_have_context_words(name: str) -> None:
    cls = RECOGNIZERS.get(name)
    doc = (sys.modules[cls.__module__].__doc__ or "") + (cls.__doc__ or "")
    assert len(doc.strip()) > 80, f"{name}: docstring must cite the format's source"
    assert re.search(r"fictitious|test values?", doc, re.IGNORECASE), f"{name}: docstring gives fictitious values"
    assert cls.context_words, f"{name}: context words"
    assert any(re.fullmatch(r"[A-Za-z _-]+", w) for w in cls.context_words), f"{name}: English context words"
    if cls.entity_type.startswith(("CN_", "HK_")) or cls.kind == "contact":  # written in Chinese text too
        assert any(re.search(r"[\u4e00-\u9fff]", w) for w in cls.context_words), f"{name}: Chinese context words"
    assert cls.kind in KINDS and cls.description, f"{name}: kind (one of {KINDS}) and description"
    assert re.fullmatch(r"[A-Z][A-Z0-9_]+", cls.entity_type) and cls.id == cls.entity_type.lower() == name
    assert cls.candidates


@pytest.mark.parametrize("name", RECOGNIZERS.names())
def test_recognizer_examples_validate_and_are_found_masked(name: str) -> None:
    """Every recognizer documents fictitious valid ``examples`` (they also pre-load its reference
    data before workers fork); each passes validation and is found, masked, after a context word."""
    from scanner.detection.engine import Detector
    from scanner.model import Chunk

    recognizer = RECOGNIZERS.get(name)()
    assert recognizer.examples, f"{name}: give fictitious valid examples"
    detector = Detector()
    for example in recognizer.examples:
        assert recognizer.validate(recognizer.normalize(example)) is not False, example
        text = f"{recognizer.context_words[0]}: {example}\n"
        matches = detector.scan(Chunk(data=text.encode("utf-8"))).matches
        assert [m.entity_type for m in matches] == [recognizer.entity_type], (example, matches)
        assert matches[0].evidence != example and "*" in matches[0].evidence


def test_scanning_does_not_import_presidio_or_remote_clients() -> None:
    """Start-up cost and memory: a file scan must not pay for Presidio/spaCy (~0.7 s, ~75 MiB per
    process), the SQL parser of check-migrations or an HTTP client (~0.1 s each, serial before
    workers start), nor build database, S3 or SSH clients it does not use."""
    code = (
        "import sys; from scanner.scan import run_scan; from scanner.connector import ScanOptions; "
        "run_scan([sys.argv[1]], ScanOptions(jobs=1)); "
        "print(sorted(m for m in ('spacy', 'presidio_analyzer', 'boto3', 'paramiko', 'psycopg', 'pymysql', "
        "'sqlglot', 'requests', 'tldextract') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(REPO / "policies")], capture_output=True, text=True,
                          cwd=REPO, check=True)
    assert done.stdout.strip() == "[]"


def test_recognizers_convert_to_presidio_without_shadowing_its_classes() -> None:
    """Presidio's loader finds predefined recognizers by class name among every subclass of
    EntityRecognizer: our adapter class must not take one of their names."""
    import presidio_analyzer.predefined_recognizers as predefined

    converted = [cls().as_presidio() for cls in RECOGNIZERS]
    assert {type(r).__name__ for r in converted}.isdisjoint(dir(predefined))
    assert sorted(r.supported_entities[0] for r in converted) == sorted(cls.entity_type for cls in RECOGNIZERS)


def _plugin_modules(package) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(
        info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_")
    )


@pytest.mark.parametrize("module_name", _plugin_modules(reports))
def test_every_report_module_registers_a_reporter(module_name: str) -> None:
    module = importlib.import_module(f"reports.{module_name}")
    registered = [cls for cls in REPORTERS if cls.__module__ == module.__name__]
    assert len(registered) == 1, f"reports/{module_name}.py must register exactly one reporter"
    cls = registered[0]
    assert cls.name == cls.name.lower() and callable(getattr(cls, "render", None))
    assert cls.extension.startswith(".")
    assert (module.__doc__ or "").strip()


@pytest.mark.parametrize("module_name", _plugin_modules(scanner.commands))
def test_every_command_module_exposes_a_command(module_name: str) -> None:
    import click

    module = importlib.import_module(f"scanner.commands.{module_name}")
    assert isinstance(getattr(module, "command", None), click.Command)
