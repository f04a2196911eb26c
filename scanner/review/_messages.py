"""Error messages of the review's YAML files (scan configs, waivers): plain words, sorted by line."""

from __future__ import annotations

from collections.abc import Mapping


def friendly(message: str, meanings: Mapping[str, str]) -> str:
    """Say what a schema pattern means instead of quoting the regular expression."""
    for pattern, meaning in meanings.items():
        quoted = f" does not match {pattern!r}"
        if message.endswith(quoted):
            head, _, value = message[: -len(quoted)].rpartition(": ")
            return f"{head}: {meaning}; got {value}"
    return message


def by_line(errors: list[str], source: str) -> list[str]:
    """Errors once each, in file order (messages start with ``source:line:``)."""

    def line(message: str) -> int:
        number = message[len(source) + 1:].split(":", 1)[0] if message.startswith(source + ":") else ""
        return int(number) if number.isdigit() else 0

    return sorted(dict.fromkeys(errors), key=line)
