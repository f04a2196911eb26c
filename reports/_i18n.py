"""Report labels in English and Chinese, from the message catalogue ``reports/i18n.yaml``.

The users are Chinese financial institutions and their auditors (``--lang zh``); the scanner's own
messages (finding text, rule help) stay in English, the language of the rule metadata. Lookups are
strict: a key missing from the catalogue is a bug and fails rendering (and the catalogue test),
rather than showing a raw key to an auditor. Values that come from the data (a grade of another
policy pack, a connector's notification kind) use :meth:`Translator.maybe`, which falls back to
the value itself.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE = Path(__file__).with_name("i18n.yaml")
LANGUAGES = ("en", "zh")


@cache
def catalogue() -> dict[str, dict[str, str]]:
    with CATALOGUE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {lang: {str(k): str(v) for k, v in (data.get(lang) or {}).items()} for lang in data}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Translator:
    """``t("key", name=value)``: the label for ``key`` in one language, with ``{name}`` filled in."""

    def __init__(self, lang: str, extra: dict[str, str] | None = None) -> None:
        """``extra``: labels plug-ins declare (a connector's store name); the catalogue's win."""
        if lang not in LANGUAGES:
            raise ValueError(f"unknown report language {lang!r}; use one of {', '.join(LANGUAGES)}")
        self.lang = lang
        self.messages = {**(extra or {}), **catalogue()[lang]}

    def __call__(self, key: str, **values: Any) -> str:
        try:
            text = self.messages[key]
        except KeyError:
            raise KeyError(f"message catalogue {CATALOGUE.name} has no {self.lang!r} label {key!r}") from None
        return text.format(**values) if values else text

    def maybe(self, key: str, default: str) -> str:
        """The label for ``key`` if the catalogue has one, else ``default`` (data-driven keys)."""
        return self.messages.get(key, default)
