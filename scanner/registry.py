"""The one plug-in mechanism: a named registry per kind of plug-in, filled by discovery.

Adding a recognizer, connector, rule or reporter means adding one module to the registry's
package and decorating the class with ``@REGISTRY.register``; nothing else is edited (the
detect-secrets model). Discovery imports every module below the package on first use, never at
import time of this module, so no plug-in does work before the user asks for it.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class RegistryError(LookupError):
    """An unknown plug-in name, or two plug-ins claiming one name."""


class Registry(Generic[T]):
    """Maps names to plug-in classes; ``package`` is scanned for modules on first lookup."""

    def __init__(self, kind: str, packages: tuple[str, ...], key: Callable[[T], str]) -> None:
        self.kind = kind
        self.packages = packages
        self._key = key
        self._items: dict[str, T] = {}
        self._loaded = False
        self._lock = threading.RLock()

    def register(self, item: T) -> T:
        """Class decorator: add ``item`` under its key (``id`` / ``name`` attribute)."""
        name = self._key(item)
        existing = self._items.get(name)
        if existing is not None and existing is not item:
            raise RegistryError(f"two {self.kind}s are named {name!r}: {existing!r} and {item!r}")
        self._items[name] = item
        return item

    def load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            for package_name in self.packages:
                package = importlib.import_module(package_name)
                for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
                    if info.name.rsplit(".", 1)[-1].startswith("_"):
                        continue
                    importlib.import_module(info.name)
            self._loaded = True

    def get(self, name: str) -> T:
        self.load()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise RegistryError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        self.load()
        return sorted(self._items)

    def __iter__(self) -> Iterator[T]:
        self.load()
        return iter([self._items[k] for k in sorted(self._items)])

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._items

    def __len__(self) -> int:
        self.load()
        return len(self._items)


def _id(item: object) -> str:
    return item.id  # type: ignore[attr-defined, no-any-return]


def _name(item: object) -> str:
    return item.name  # type: ignore[attr-defined, no-any-return]


RECOGNIZERS: Registry = Registry("recognizer", ("scanner.detection.recognizers",), _id)
CONNECTORS: Registry = Registry("connector", ("connectors",), _name)
RULES: Registry = Registry("rule", ("scanner.rules",), _id)
REPORTERS: Registry = Registry("report format", ("reports",), _name)


def report_format_for(path: str | None, default: str = "text") -> str:
    """The report format an output file name asks for (the reporter declaring the longest matching
    suffix: ``x.sarif.json`` is SARIF, ``x.json`` JSON), else ``default``: the one rule ``scan -o``,
    the scan config's ``outputs:``, ``report`` and ``check-migrations`` share."""
    if not path or path == "-":
        return default
    name = path.lower()
    found = [(len(suffix), reporter.name) for reporter in REPORTERS
             for suffix in getattr(reporter, "suffixes", ()) if name.endswith(suffix)]
    return max(found)[1] if found else default


class ReportFormats:
    """The registered report format names, loaded when first asked for (``click.Choice`` takes it at import
    time; the reporters are imported only when a command line is checked or help is shown)."""

    def __init__(self, *exclude: str, audit: bool = False) -> None:
        self.exclude = exclude
        self.audit = audit  # only the auditor-report formats (reporters that render a SARIF log)

    def _names(self) -> list[str]:
        return [n for n in REPORTERS.names() if n not in self.exclude
                and (not self.audit or hasattr(REPORTERS.get(n), "render_sarif"))]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __getitem__(self, index: int) -> str:
        return self._names()[index]

    def __contains__(self, name: object) -> bool:
        return name in self._names()
