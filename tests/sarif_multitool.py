"""Validate SARIF logs with the Microsoft SARIF Multitool, for the test suite.

The Multitool (npm package ``@microsoft/sarif-multitool``, a self-contained .NET executable,
no .NET runtime needed) is installed by ``.ci/install-sarif-multitool.sh`` into
``<repo>/.tools/sarif-multitool``. If it is missing, the first call here runs that script
once; if the tool is still unavailable a ``RuntimeError`` is raised: a SARIF check is never
skipped silently.

Typical use::

    from tests.sarif_multitool import validate_sarif, sarif_warnings

    assert validate_sarif(path) == []          # errors only, as "RULEID: message (location)"
    report = run_validation(path)              # everything: report.errors / .warnings / .findings

The validator runs with rule kinds ``Sarif;Gh`` (``Gh`` is the Multitool's alias for
``Ghas``, GitHub Advanced Security code scanning). On top of the rules enabled by default,
the GitHub rules that this Multitool version ships *disabled* by default (GH1001-GH1007:
required locations and regions, file-path-only URIs, no absolute file URIs without a
checkout path, fully formatted message text, array size limits) are switched on at level
error, because GitHub code scanning rejects or hides such results; pass
``github_legacy_rules=False`` to get the Multitool's defaults. SARIF2006
(UrisShouldBeReachable, which makes HTTP requests) is switched off: there is no network.

The Multitool's exit code is 0 whatever it finds; what it finds is read from the SARIF log
it writes (``--output``): each result is one finding, its level is ``result.level``, else
the rule's ``defaultConfiguration.level``, else ``warning``. Tool failures (for example
ERR999.UnhandledEngineException, which this version raises from GH1001 on a location that
has no ``physicalLocation.artifactLocation.uri``) are error-level tool notifications and are
reported as errors too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOL_DIR = Path(os.environ.get("SARIF_MULTITOOL_DIR", REPO_ROOT / ".tools" / "sarif-multitool"))
BINARY = TOOL_DIR / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"
INSTALL_SCRIPT = REPO_ROOT / ".ci" / "install-sarif-multitool.sh"

RULE_KINDS = "Sarif;Gh"
DEFAULT_TIMEOUT = 120.0  # seconds for one validate call (it takes about 1 s)
INSTALL_TIMEOUT = 600.0

# Rules that Multitool 5.7.0 ships disabled by default although GitHub code scanning
# enforces what they check (key = "<id>.<name>", as in `Sarif.Multitool export-validation-config`).
GITHUB_LEGACY_RULES = (
    "GH1001.ProvideRequiredLocationProperties",
    "GH1002.InlineThreadFlowLocations",
    "GH1003.ProvideRequiredRegionProperties",
    "GH1004.ReviewArraysThatExceedConfigurableDefaults",
    "GH1005.LocationsMustBeRelativeUrisOrFilePaths",
    "GH1006.ProvideCheckoutPath",
    "GH1007.ProvideFullyFormattedMessageStrings",
)
DISABLED_RULES = ("SARIF2006.UrisShouldBeReachable",)  # would make HTTP requests

_LEVELS = ("error", "warning", "note", "none")
_install_lock = threading.Lock()
_install_attempted = False


@dataclass(frozen=True)
class Finding:
    """One problem the Multitool reported about the validated log."""

    rule_id: str  # e.g. "GH1005", "SARIF1004", "JSON1002", or a notification id like "ERR999..."
    rule_name: str  # e.g. "LocationsMustBeRelativeUrisOrFilePaths" ("" for notifications)
    level: str  # "error", "warning", "note" or "none"
    message: str  # fully formatted; usually starts with the JSON path, e.g. "runs[0].results[0]: ..."
    location: str  # "<validated file>:<line>:<column>" in the validated log, or the file alone

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.message} ({self.location})"


@dataclass
class ValidationReport:
    path: Path
    findings: list[Finding]
    returncode: int
    stdout: str
    stderr: str
    log: dict[str, Any] = field(repr=False)  # the Multitool's own SARIF output, parsed

    def strings(self, level: str) -> list[str]:
        return [str(f) for f in self.findings if f.level == level]

    @property
    def errors(self) -> list[str]:
        return self.strings("error")

    @property
    def warnings(self) -> list[str]:
        return self.strings("warning")

    @property
    def notes(self) -> list[str]:
        return self.strings("note")


def find_multitool(*, install: bool = True) -> Path:
    """Path of the Multitool executable; runs the install script once if it is missing."""
    global _install_attempted
    if _usable(BINARY):
        return BINARY
    if install:
        with _install_lock:
            if not _usable(BINARY) and not _install_attempted:
                _install_attempted = True
                _run_install_script()
    if _usable(BINARY):
        return BINARY
    raise RuntimeError(
        f"SARIF Multitool not available at {BINARY}. Install it with `bash {INSTALL_SCRIPT}` "
        "(needs npm and the npm registry: package @microsoft/sarif-multitool, Linux x86-64)."
    )


def run_validation(
    path: os.PathLike[str] | str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    github_legacy_rules: bool = True,
    include_notes: bool = False,
) -> ValidationReport:
    """Run `Sarif.Multitool validate --rule-kind "Sarif;Gh"` on one SARIF file and parse what it found.

    Raises RuntimeError if the tool is unavailable, times out or writes no output log.
    """
    target = Path(path).resolve()
    if not target.is_file():
        raise FileNotFoundError(f"no SARIF file to validate at {target}")
    binary = find_multitool()
    with tempfile.TemporaryDirectory(prefix="sarif-multitool-") as tmp:
        out = Path(tmp) / "validation.sarif"
        config = Path(tmp) / "config.xml"
        config.write_text(_config_xml(github_legacy_rules), encoding="utf-8")
        cmd = [
            str(binary),
            "validate",
            str(target),
            "--rule-kind",
            RULE_KINDS,  # passed as one argv item, no shell: the ';' must not reach a shell
            "--config",
            str(config),
            "--output",
            str(out),
            "--log",
            "ForceOverwrite",
            "--level",
            "Error;Warning;Note" if include_notes else "Error;Warning",
        ]
        env = dict(os.environ)
        env.setdefault("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")  # no libicu needed
        env.setdefault("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=tmp, env=env, check=False)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"SARIF Multitool timed out after {timeout} s validating {target}") from exc
        if not out.is_file():
            raise RuntimeError(
                f"SARIF Multitool wrote no output validating {target} (exit {proc.returncode}).\n"
                f"command: {cmd}\nstdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
            )
        log = json.loads(out.read_text(encoding="utf-8-sig"))
    findings = _findings(log, target)
    if proc.returncode != 0 and not any(f.level == "error" for f in findings):
        # Never let a failed run pass as "no errors".
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
        findings.append(
            Finding("MULTITOOL", "", "error", f"exit code {proc.returncode}: {' | '.join(tail)}", str(target))
        )
    return ValidationReport(target, findings, proc.returncode, proc.stdout, proc.stderr, log)


def validate_sarif(path: os.PathLike[str] | str, *, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    """Error-level findings for a SARIF file, as "RULEID: message (location)"; [] means valid."""
    return run_validation(path, timeout=timeout).errors


def sarif_warnings(path: os.PathLike[str] | str, *, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    """Warning-level findings for a SARIF file, as "RULEID: message (location)"."""
    return run_validation(path, timeout=timeout).warnings


# --- internals ---------------------------------------------------------------------------------


def _usable(binary: Path) -> bool:
    return binary.is_file() and os.access(binary, os.X_OK)


def _run_install_script() -> None:
    if not INSTALL_SCRIPT.is_file():
        raise RuntimeError(f"SARIF Multitool missing and install script not found: {INSTALL_SCRIPT}")
    env = dict(os.environ, SARIF_MULTITOOL_DIR=str(TOOL_DIR))
    try:
        proc = subprocess.run(
            ["bash", str(INSTALL_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{INSTALL_SCRIPT} timed out after {INSTALL_TIMEOUT} s") from exc
    if proc.returncode != 0:
        raise RuntimeError(
            f"SARIF Multitool install failed ({INSTALL_SCRIPT}, exit {proc.returncode}):\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )


def _config_xml(github_legacy_rules: bool) -> str:
    entries = []
    if github_legacy_rules:
        entries += [(rule, "Error") for rule in GITHUB_LEGACY_RULES]
    entries += [(rule, "Disabled") for rule in DISABLED_RULES]
    body = "".join(
        f'  <Properties Key="{rule}.Options">\n'
        f'    <Property Key="RuleEnabled" Value="{state}" Type="Driver.RuleEnabledState" />\n'
        "  </Properties>\n"
        for rule, state in entries
    )
    return f'<?xml version="1.0" encoding="utf-8"?>\n<Properties>\n{body}</Properties>\n'


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\d+)\}")


def _format(template: str, arguments: list[Any]) -> str:
    """.NET String.Format subset used by SARIF message strings: {0}, {1}, ... and {{ }} escapes."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return m.group(0)[0]
        i = int(m.group(1))
        return str(arguments[i]) if i < len(arguments) else m.group(0)

    return _PLACEHOLDER.sub(sub, template)


def _message_text(message: dict[str, Any], rule: dict[str, Any]) -> str:
    if message.get("text") is not None:
        return str(message["text"])
    msg_id = message.get("id")
    template = rule.get("messageStrings", {}).get(msg_id, {}).get("text")
    arguments = message.get("arguments", [])
    if template is None:
        return f"[{msg_id}] {arguments}"
    return _format(template, arguments)


def _location(result: dict[str, Any], target: Path) -> str:
    for loc in result.get("locations") or []:
        region = (loc.get("physicalLocation") or {}).get("region") or {}
        if "startLine" in region:
            return f"{target.name}:{region['startLine']}:{region.get('startColumn', 1)}"
    return target.name


def _findings(log: dict[str, Any], target: Path) -> list[Finding]:
    findings: list[Finding] = []
    for run in log.get("runs") or []:
        rules = run.get("tool", {}).get("driver", {}).get("rules") or []
        by_id = {r.get("id"): r for r in rules}
        for res in run.get("results") or []:
            rule_index = res.get("ruleIndex")
            rule = rules[rule_index] if isinstance(rule_index, int) and 0 <= rule_index < len(rules) else None
            rule = rule or by_id.get(res.get("ruleId")) or {}
            level = res.get("level") or rule.get("defaultConfiguration", {}).get("level") or "warning"
            findings.append(
                Finding(
                    rule_id=str(res.get("ruleId") or rule.get("id") or "?"),
                    rule_name=str(rule.get("name", "")),
                    level=level if level in _LEVELS else "warning",
                    message=_message_text(res.get("message") or {}, rule),
                    location=_location(res, target),
                )
            )
        for inv in run.get("invocations") or []:
            notes = (inv.get("toolExecutionNotifications") or []) + (inv.get("toolConfigurationNotifications") or [])
            for note in notes:
                desc_id = (note.get("descriptor") or {}).get("id", "NOTIFICATION")
                text = str((note.get("message") or {}).get("text", "")).strip()
                if desc_id == "WRN999.RuleExplicitlyDisabled" and any(
                    f"'{rule.split('.')[0]}'" in text for rule in DISABLED_RULES
                ):
                    continue  # our own deliberate SARIF2006 switch-off
                level = note.get("level") or "warning"
                first_line = text.splitlines()[0] if text else ""
                findings.append(
                    Finding(desc_id, "", level if level in _LEVELS else "warning", first_line, f"{target.name}: tool")
                )
    return findings
