"""Load YAML and validate it against a JSON Schema, reporting file, line and what was expected.

Policy packs, rule metadata and scan configs are all YAML written by people. A typo must be
rejected with a message a person can act on (``policy.yaml:12: rules.pii_in_log: unknown key
'levle'; expected one of: levels, enabled``), so validation keeps the line of every node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml


class ConfigError(ValueError):
    """A YAML document that does not fit its schema; ``errors`` holds one line per problem."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        super().__init__("\n".join(errors))


def _lines(node: yaml.Node, path: tuple = ()) -> dict[tuple, int]:
    """Map every node path (keys and list indexes) to its 1-based line."""
    found = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            found[child] = key.start_mark.line + 1
            found.update({k: v for k, v in _lines(value, child).items() if k != child})
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.update(_lines(item, (*path, index)))
    return found


def load_yaml(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    """Parse ``text``; return the data and the line map. Syntax errors become ConfigError."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [f"{where}: not valid YAML: {problem}"]) from None
    return data, (_lines(node) if node is not None else {})


def _describe(error: jsonschema.ValidationError) -> tuple[tuple, str]:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        patterns = error.schema.get("patternProperties")
        if patterns:
            return path, error.message
        key = extra[0] if extra else "?"
        return (*path, key), f"unknown key {key!r}; expected one of: {', '.join(allowed)}"
    if error.validator == "required":
        return path, error.message.replace("is a required property", "is required but missing")
    if error.validator == "enum":
        return path, f"{error.instance!r} is not one of: {', '.join(map(str, error.validator_value))}"
    if error.validator == "type":
        return path, f"expected {error.validator_value}, got {type(error.instance).__name__} {error.instance!r}"
    return path, error.message


def validate(data: Any, schema: dict, source: str, lines: dict[tuple, int] | None = None) -> None:
    """Raise :class:`ConfigError` listing every schema violation with file and line."""
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    messages = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path, message = _describe(error)
        line = None
        if lines:
            probe = path
            while probe not in lines and probe:
                probe = probe[:-1]
            line = lines.get(probe)
        dotted = ".".join(str(p) for p in path) or "(top level)"
        where = f"{source}:{line}" if line else source
        messages.append(f"{where}: {dotted}: {message}")
    if messages:
        raise ConfigError(source, messages)


def load_validated(path: Path, schema: dict) -> Any:
    """Read, parse and validate one YAML file."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"{path}: cannot be read: {exc.strerror or exc}"]) from None
    data, lines = load_yaml(text, str(path))
    validate(data, schema, str(path), lines)
    return data
