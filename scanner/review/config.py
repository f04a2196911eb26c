"""Scheduled scan configuration (``privaudit.yaml``): what a semiannual review scans, and how.

A security team keeps one file per review under version control and runs it on a schedule
(``privaudit scan --config privaudit.yaml``): the targets (paths, database URIs, S3 buckets, SFTP
and SMB shares) with their own include/exclude and limits, the policy pack, the waivers file, the previous
review's SARIF as baseline, where the results go, how many workers, and what fails the run.

The file is reviewed like code and archived with the evidence (obligation 9), so it must never hold
a secret: credentials are only *references* — the name of an environment variable that holds a
password, an AWS profile name, the path of a pgpass / MySQL option file, an SSH key or known_hosts
file. A literal password (in a URI or under a ``password:`` key) is rejected with file, line and how
to fix it, as is every unknown key: a typo must not silently widen or narrow a review.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

from scanner.connector import Connector, ScanOptions, TargetOption
from scanner.review._messages import by_line, friendly
from scanner.yamlschema import ConfigError, load_yaml, read_yaml_file, validate

FAIL_ON = ("error", "warning", "note", "none")

#: keys that would hold a secret; never accepted anywhere in a scan config
SECRET_KEYS = frozenset({
    "password", "passwd", "pwd", "pass", "secret", "secret_key", "secret_access_key", "aws_secret_access_key",
    "aws_access_key_id", "access_key", "token", "session_token", "aws_session_token", "api_key", "passphrase",
    "private_key", "sslpassword",
})
#: URI query parameters that would carry a secret (libpq ``password``/``sslpassword``, MySQL ``password``)
_SECRET_QUERY = frozenset({"password", "pwd", "sslpassword", "passwd", "token"})

_ENV_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
_FILE = {"type": "string", "minLength": 1}
_GLOBS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_COMMON = {"include": _GLOBS, "exclude": _GLOBS}
#: a Dask worker resource name (``privaudit worker --resources NAME=N``)
_RESOURCE_NAME = "^[A-Za-z_][A-Za-z0-9_.-]*$"


@dataclass(frozen=True)
class _TargetKind:
    """A key naming a target in a scan config (``path``, ``database``, ``s3``, ...) and what the
    connectors that take it declare: their URI forms and the other keys such a target may carry."""

    key: str
    connectors: tuple[type[Connector], ...]
    options: dict[str, TargetOption]

    def schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {self.key: {"type": "string", "minLength": 1}, **_COMMON}
        properties.update({n: o.schema for n, o in self.options.items() if not o.credential})
        credentials = {n: o.schema for n, o in self.options.items() if o.credential}
        if credentials:
            properties["credentials"] = {"type": "object", "additionalProperties": False, "properties": credentials}
        return {"type": "object", "additionalProperties": False, "properties": properties}

    def uri_form(self) -> str:
        examples = [c.config_example for c in self.connectors if c.config_example]
        if len(examples) <= 1:
            return examples[0] if examples else "a path"
        return f"a {self.key} URI such as {', '.join(examples[:-1])} or {examples[-1]}"

    def accepts(self, value: str) -> bool:
        if not any(c.config_example for c in self.connectors):
            return True  # a path
        parts = _split(value) if "://" in value else None
        return parts is not None and any(c.accepts_config_uri(parts.scheme, parts.netloc) for c in self.connectors)


@lru_cache(maxsize=1)
def target_kinds() -> dict[str, _TargetKind]:
    """The target keys of a scan config, from the registered connectors (the files connector's ``path``
    first); a connector added later brings its key and options with no edit here."""
    from scanner.registry import CONNECTORS

    grouped: dict[str, list[type[Connector]]] = {}
    for connector in sorted(CONNECTORS, key=lambda c: (c.config_key != "path", c.name)):
        grouped.setdefault(connector.config_key, []).append(connector)
    return {key: _TargetKind(key, tuple(group), {n: o for c in group for n, o in c.target_options.items()})
            for key, group in grouped.items()}


SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "targets"],
    "properties": {
        "version": {"const": 1},
        "policy": {"type": "string", "minLength": 1},
        "waivers": _FILE,
        "baseline": _FILE,
        "fail_on": {"enum": list(FAIL_ON)},
        "fail_on_new_only": {"type": "boolean"},
        "concurrency": {"type": "integer", "minimum": 0},
        # the scan's state directory (--state): resume an interrupted run, re-read only what changed
        "state": {"type": "string", "minLength": 1},
        "min_score": {"type": "number", "minimum": 0, "maximum": 1},
        "ner_model": {"type": "string", "minLength": 1},
        "outputs": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["path"],
                "properties": {"path": _FILE, "format": {"type": "string"}},
            },
        },
        "targets": {"type": "array", "minItems": 1, "items": {"type": "object"}},
        # a Dask cluster (--cluster, docs/cluster.md): the command line wins, then this, then PRIVAUDIT_CLUSTER
        "cluster": {
            "type": "object",
            "additionalProperties": False,
            "required": ["address"],
            "properties": {
                "address": {"type": "string", "minLength": 1},
                "tls": {"type": "object", "additionalProperties": False,
                        "properties": {"ca": _FILE, "cert": _FILE, "key": _FILE}},
                "insecure": {"type": "boolean"},
            },
        },
        # targets whose URI matches a glob run on workers offering these resources (their network zone)
        "placement": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["targets", "resources"],
                "properties": {
                    "targets": {"type": "string", "minLength": 1},
                    "resources": {"type": "object", "minProperties": 1,
                                  "propertyNames": {"pattern": _RESOURCE_NAME},
                                  "additionalProperties": {"type": "number", "exclusiveMinimum": 0}},
                },
            },
        },
        # seconds to wait for a worker offering a placement's resources before its items are not scanned
        "placement_timeout": {"type": "number", "exclusiveMinimum": 0},
        # concurrent sessions per database across the cluster (a distributed.Semaphore)
        "database_sessions": {"type": "integer", "minimum": 1},
    },
}
@dataclass(frozen=True)
class Reference:
    """A credential reference: an environment variable, a file or an AWS profile, and where it was named."""

    kind: str  # "env", "file" or "profile"
    value: str
    where: str  # "privaudit.yaml:12: targets.1.credentials.password_env"

    def problem(self) -> str | None:
        """Why the reference cannot be used on this machine, or None."""
        if self.kind == "env" and not os.environ.get(self.value):
            return f"environment variable {self.value} is not set; export it (from your secret store) before the scan"
        if self.kind == "file" and not Path(self.value).is_file():
            return f"file {self.value} does not exist"
        if self.kind == "profile":
            try:
                import boto3

                profiles = boto3.session.Session().available_profiles
            except Exception:  # botocore config errors: the scan will report the target
                return None
            if self.value not in profiles:
                return f"AWS profile {self.value!r} is not configured (~/.aws/config or ~/.aws/credentials)"
        return None


@dataclass(frozen=True)
class TargetConfig:
    """One target of the config, with its own scan options (jobs and min_score are per scan)."""

    kind: str
    target: str
    line: int
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    limits: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    references: tuple[Reference, ...] = ()

    def options(self, jobs: int = 0, min_score: float = 0.5, ner_model: str | None = None) -> ScanOptions:
        extra = {**self.extra, "ner_model": ner_model} if ner_model else dict(self.extra)
        return ScanOptions(include=self.include, exclude=self.exclude, jobs=jobs, min_score=min_score,
                           extra=extra, **self.limits)


@dataclass(frozen=True)
class OutputConfig:
    path: Path
    format: str


@dataclass(frozen=True)
class ClusterConfig:
    """``cluster:``, ``placement:``, ``placement_timeout:`` and ``database_sessions:`` of a config
    (TLS files resolved against the config's directory); see docs/cluster.md."""

    address: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    insecure: bool = False
    placement: tuple[tuple[str, dict[str, float]], ...] = ()
    placement_timeout: float | None = None
    database_sessions: int | None = None
    references: tuple[Reference, ...] = ()


@dataclass
class ScanConfig:
    """A validated ``privaudit.yaml``; relative paths are resolved against the file's directory."""

    source: Path
    targets: list[TargetConfig]
    policy: str | None = None
    waivers: Path | None = None
    baseline: Path | None = None
    outputs: list[OutputConfig] = field(default_factory=list)
    concurrency: int | None = None
    state: Path | None = None
    min_score: float | None = None
    fail_on: str | None = None
    fail_on_new_only: bool = False
    ner_model: str | None = None
    ner_model_where: str = ""
    cluster: ClusterConfig = field(default_factory=ClusterConfig)

    def ner_model_problem(self) -> str | None:
        """Why the configured NER model cannot be loaded here (not installed, no metadata), or None.

        Checked when the config is validated or scanned, not when it is parsed: it imports spaCy."""
        if not self.ner_model:
            return None
        from scanner.detection.presidio import ModelNotInstalled, ner_model_language

        try:
            ner_model_language(self.ner_model)
        except ModelNotInstalled as exc:
            return f"{self.ner_model_where}: {exc}."
        return None

    def reference_problems(self) -> list[str]:
        """Credential references that cannot be resolved here (unset variables, missing files)."""
        problems = []
        for target in (*self.targets, self.cluster):
            for ref in target.references:
                problem = ref.problem()
                if problem:
                    problems.append(f"{ref.where}: {problem}.")
        return problems


def infer_format(path: str) -> str:
    """Output format from a file name, as ``privaudit scan --output`` does (:func:`report_format_for`)."""
    from scanner.registry import report_format_for

    return report_format_for(path)


def load_config(path: str | Path) -> ScanConfig:
    """Read and validate a scan config; raise :class:`ConfigError` listing every problem with file:line."""
    path = Path(path)
    source = str(path)
    text = read_yaml_file(path, "scan config")
    problems: list[str] = []
    data, lines = load_yaml(text, source, problems)
    if data is None:
        raise ConfigError(source, [f"{source}: the file is empty; `privaudit config init` writes an example"])
    return parse_config(data, lines, source, base=path.absolute().parent, problems=problems)


def parse_config(data: Any, lines: dict[tuple, int], source: str, base: Path,
                 problems: list[str] | None = None) -> ScanConfig:
    """Validate parsed YAML; every problem (with ``problems`` the YAML loader collected) in one ConfigError."""
    errors = [*(problems or ()), *_secret_errors(data, lines, source)]
    cleaned = _without_secret_keys(data)
    if isinstance(cleaned, dict) and isinstance(cleaned.get("targets"), list):
        errors += _kind_errors(cleaned["targets"], lines, source)
    parts: list[tuple[Any, dict, tuple]] = [(cleaned, SCHEMA, ())]
    if isinstance(cleaned, dict) and isinstance(cleaned.get("targets"), list):
        kinds = target_kinds()
        parts += [(item, kinds[keys[0]].schema(), ("targets", index))
                  for index, item in enumerate(cleaned["targets"])
                  if isinstance(item, dict) and len(keys := [k for k in kinds if k in item]) == 1]
    for part, schema, prefix in parts:
        try:
            validate(part, schema, source, lines, prefix)
        except ConfigError as exc:
            errors += [friendly(e, _PATTERN_MEANINGS) for e in exc.errors]
    if isinstance(cleaned, dict):
        errors += _output_errors(cleaned, lines, source)
        errors += _cluster_errors(cleaned, lines, source)
    if errors:
        raise ConfigError(source, by_line(errors, source))
    return _build(cleaned, lines, source, base)


_PATTERN_MEANINGS = {
    _ENV_NAME["pattern"]: "expected the name of an environment variable (letters, digits and _, not starting "
                          "with a digit), e.g. PRIVAUDIT_DB_PASSWORD",
    _RESOURCE_NAME: "expected a worker resource name (letters, digits, _, . and -), e.g. zone-core",
}


def _where(lines: dict[tuple, int], source: str, path: tuple) -> str:
    probe = path
    while probe not in lines and probe:
        probe = probe[:-1]
    line = lines.get(probe)
    dotted = ".".join(str(p) for p in path) or "(top level)"
    return f"{source}:{line}: {dotted}" if line else f"{source}: {dotted}"


def _walk(data: Any, path: tuple = ()) -> Any:
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _walk(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _walk(value, (*path, index))


#: ``scheme://user:password@`` found by hand when the URI does not parse (``mysql://u:pw@[::1``)
_USERINFO_PASSWORD = re.compile(r"://[^/?#@]*:[^/?#@]*@")


def _split(value: str) -> SplitResult | None:
    """The parts of a URI, or None when it does not parse (an unclosed IPv6 bracket raises ValueError)."""
    try:
        return urlsplit(value)
    except ValueError:
        return None


def _secret_errors(data: Any, lines: dict[tuple, int], source: str) -> list[str]:
    errors = []
    for path, value in _walk(data):
        if path and isinstance(path[-1], str) and path[-1].lower() in SECRET_KEYS:
            errors.append(
                f"{_where(lines, source, path)}: literal secrets are not accepted in a scan config (it is archived "
                "with the review evidence); store the secret outside it and reference it: credentials.password_env "
                "(name of an environment variable), credentials.pgpass / mysql_option_file / ssh_key (file paths) "
                "or credentials.aws_profile"
            )
        elif isinstance(value, str) and "://" in value and len(path) >= 2 and path[0] == "targets":
            parts = _split(value)
            try:
                has_password = parts.password is not None if parts else bool(_USERINFO_PASSWORD.search(value))
            except ValueError:
                has_password = False
            query = parts.query if parts else value.partition("?")[2].partition("#")[0]
            secret_params = sorted({k for k, _ in parse_qsl(query)} & _SECRET_QUERY)
            if has_password or secret_params:
                what = "a password" if has_password else f"a secret query parameter ({', '.join(secret_params)})"
                errors.append(
                    f"{_where(lines, source, path)}: the URI contains {what}; remove it and reference the password "
                    "instead: credentials.password_env (name of an environment variable holding it), or "
                    "credentials.pgpass (PostgreSQL password file) / credentials.mysql_option_file (MySQL ~/.my.cnf)"
                )
    return errors


def _without_secret_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_secret_keys(v) for k, v in data.items()
                if not (isinstance(k, str) and k.lower() in SECRET_KEYS)}
    if isinstance(data, list):
        return [_without_secret_keys(v) for v in data]
    return data


def _kind_errors(targets: list, lines: dict[tuple, int], source: str) -> list[str]:
    """Each target has exactly one kind key, a URI of that kind, and appears once."""
    errors = []
    seen: dict[str, int] = {}
    known = target_kinds()
    for index, item in enumerate(targets):
        if not isinstance(item, dict):
            continue
        kinds = [k for k in known if k in item]
        where = _where(lines, source, ("targets", index))
        if not kinds:
            errors.append(f"{where}: a target needs exactly one of: {', '.join(known)} "
                          f"(got keys: {', '.join(map(str, item)) or 'none'})")
        elif len(kinds) > 1:
            errors.append(f"{where}: a target is one of {', '.join(known)}, not several "
                          f"(got {' and '.join(kinds)}); split it into one target each")
        else:
            kind, value = known[kinds[0]], item[kinds[0]]
            if isinstance(value, str) and not kind.accepts(value):
                errors.append(f"{_where(lines, source, ('targets', index, kind.key))}: expected {kind.uri_form()}, "
                              f"got {value!r}")
            if isinstance(value, str):
                if value in seen:
                    errors.append(f"{where}: {value!r} is already target {seen[value]}; list each target once")
                seen.setdefault(value, index)
    return errors


def _output_errors(data: dict, lines: dict[tuple, int], source: str) -> list[str]:
    from scanner.registry import REPORTERS

    known = REPORTERS.names()
    errors = []
    outputs = data.get("outputs")
    for index, output in enumerate(outputs if isinstance(outputs, list) else []):
        if not isinstance(output, dict) or not isinstance(output.get("path", ""), str):
            continue
        fmt = output.get("format") or infer_format(output.get("path", ""))
        if isinstance(fmt, str) and fmt not in known:
            errors.append(f"{_where(lines, source, ('outputs', index, 'format'))}: {fmt!r} is not one of: "
                          f"{', '.join(known)}")
    return errors


def _cluster_errors(data: dict, lines: dict[tuple, int], source: str) -> list[str]:
    """What the schema cannot say about ``cluster:``: the address form, TLS files for ``tls://``,
    ``insecure: true`` for ``tcp://`` (task payloads are pickles), no credentials in the address."""
    from scanner.executor_dask import CONFIG_NAMES, ClusterSpec

    cluster = data.get("cluster")
    if not isinstance(cluster, dict) or not isinstance(cluster.get("address"), str):
        return []
    tls = cluster.get("tls") if isinstance(cluster.get("tls"), dict) else {}
    spec = ClusterSpec(cluster["address"], tls.get("ca"), tls.get("cert"), tls.get("key"),
                       cluster.get("insecure") is True)
    problem = spec.problem(CONFIG_NAMES)
    return [f"{_where(lines, source, ('cluster', 'address'))}: {problem}"] if problem else []


def _build_cluster(data: dict, lines: dict[tuple, int], source: str, base: Path) -> ClusterConfig:
    cluster = data.get("cluster") or {}
    tls = cluster.get("tls") or {}
    files = {name: _resolve(base, tls[name]) for name in ("ca", "cert", "key") if name in tls}
    references = tuple(Reference("file", path, _where(lines, source, ("cluster", "tls", name)))
                       for name, path in files.items())
    return ClusterConfig(
        address=cluster.get("address"), tls_ca=files.get("ca"), tls_cert=files.get("cert"),
        tls_key=files.get("key"), insecure=bool(cluster.get("insecure", False)),
        placement=tuple((p["targets"], dict(p["resources"])) for p in data.get("placement", ())),
        placement_timeout=data.get("placement_timeout"), database_sessions=data.get("database_sessions"),
        references=references,
    )


def _resolve(base: Path, value: str) -> str:
    expanded = Path(os.path.expanduser(value))
    return str(expanded if expanded.is_absolute() else (base / expanded))


def _build(data: dict, lines: dict[tuple, int], source: str, base: Path) -> ScanConfig:
    targets = []
    for index, item in enumerate(data["targets"]):
        target_kind = next(k for k in target_kinds().values() if k.key in item)
        kind = target_kind.key
        target = _resolve(base, item[kind]) if kind == "path" else item[kind]
        limits: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        references: list[Reference] = []
        for key, value in {**item, **item.get("credentials", {})}.items():
            option = target_kind.options.get(key)
            if option is None:
                continue
            where = _where(lines, source, ("targets", index, *(("credentials",) if option.credential else ()), key))
            value = _resolve(base, value) if option.path else value
            if option.credential in ("env", "file", "profile"):
                references.append(Reference(option.credential, value, where))
            if option.extra is None:
                limits[key] = value
            else:
                extra[option.extra] = value
        targets.append(TargetConfig(
            kind=kind, target=target, line=lines.get(("targets", index), 0),
            include=tuple(item.get("include", ())), exclude=tuple(item.get("exclude", ())),
            limits=limits, extra=extra, references=tuple(references),
        ))
    ner_model = data.get("ner_model")
    if ner_model and ("/" in ner_model or ner_model.startswith((".", "~"))):  # a saved pipeline, not a package
        ner_model = _resolve(base, ner_model)
    policy = data.get("policy")
    if policy and (policy.endswith((".yaml", ".yml")) or "/" in policy):
        policy = _resolve(base, policy)
    return ScanConfig(
        source=Path(source),
        targets=targets,
        policy=policy,
        waivers=Path(_resolve(base, data["waivers"])) if "waivers" in data else None,
        baseline=Path(_resolve(base, data["baseline"])) if "baseline" in data else None,
        outputs=[OutputConfig(Path(_resolve(base, o["path"])), o.get("format") or infer_format(o["path"]))
                 for o in data.get("outputs", [])],
        concurrency=data.get("concurrency"),
        state=Path(_resolve(base, data["state"])) if "state" in data else None,
        min_score=data.get("min_score"),
        fail_on=data.get("fail_on"),
        fail_on_new_only=bool(data.get("fail_on_new_only", False)),
        ner_model=ner_model,
        ner_model_where=_where(lines, source, ("ner_model",)),
        cluster=_build_cluster(data, lines, source, base),
    )


EXAMPLE = """\
# privaudit scan configuration — run with `privaudit scan --config privaudit.yaml`.
# Check it with `privaudit config validate privaudit.yaml`. Relative paths are relative to this file.
# Never put a secret here: credentials are references (environment variable names, AWS profile
# names, pgpass / my.cnf / SSH key / known_hosts files). Unknown keys are rejected.
version: 1

# Policy pack (financial-cn, gdpr, pci-dss; `privaudit policies list`) or a policy YAML file.
policy: financial-cn

# Accepted risks with owner, reason, ticket and expiry (see `waivers.example.yaml` in the docs).
# waivers: waivers.yaml

# The previous review's SARIF: every result gets baselineState new / unchanged / updated / absent.
# baseline: reviews/2026-H1.sarif

# Exit 1 when an unwaived finding at or above this level exists (error, warning, note, none);
# with fail_on_new_only, only findings that are new since the baseline count.
fail_on: error
fail_on_new_only: false

# Worker processes (0 = all cores).
concurrency: 2

# Optional: run on a Dask cluster (docs/cluster.md); --cluster and PRIVAUDIT_CLUSTER also name one.
# cluster:
#   address: tls://scheduler.internal:8786
#   tls: {ca: tls/ca.pem, cert: tls/client.pem, key: tls/client.key}
# placement:                        # a database's tables sampled by workers in its network zone
#   - targets: "postgresql://*@db.internal*"
#     resources: {zone-core: 1}     # privaudit worker ADDRESS --resources zone-core=1
# placement_timeout: 300
# database_sessions: 2              # sessions per database from the whole cluster

# Optional: an installed spaCy model (package name, or the path of a saved pipeline) that adds
# PERSON/LOCATION findings. It is never downloaded; text is analysed in the model's language.
# ner_model: zh_core_web_lg

# Where results go; the format is inferred from the extension (.sarif, .json, .txt) or given.
outputs:
  - path: reviews/latest.sarif
  - path: reviews/latest.txt
    format: text

targets:
  # A local or mounted directory tree; globs with "/" match the path below the target.
  - path: exports
    include: ["*.csv", "*.xlsx", "**/*.log"]
    exclude: ["tmp/*"]
    max_file_size: 268435456
    follow_symlinks: false

  # A database: the password comes from the named environment variable (or a pgpass file).
  # - database: postgresql://auditor@db.internal:5432/core?sslmode=verify-full
  #   include: ["public.*"]
  #   sample_rows: 200
  #   credentials:
  #     password_env: PRIVAUDIT_CORE_DB_PASSWORD
  #     # pgpass: /etc/privaudit/pgpass

  # An S3 bucket (or prefix); credentials from a named AWS profile.
  # - s3: s3://bank-exports/daily/
  #   region: cn-north-1
  #   credentials:
  #     aws_profile: privaudit-audit

  # An SFTP share; the host key must be in the known_hosts file.
  # - sftp: sftp://scanner@files.internal/share
  #   credentials:
  #     ssh_key: /etc/privaudit/id_ed25519
  #     known_hosts: /etc/privaudit/known_hosts

  # A Windows file share (SMB 2/3, signing required); the password comes from the named variable.
  # - smb: smb://CORP;svc-privaudit@files.corp.internal/exports
  #   exclude: ["~$*"]
  #   credentials:
  #     password_env: PRIVAUDIT_SMB_PASSWORD
"""
