"""Scan config validation: golden error messages (file:line, key, what was expected), credential
references instead of secrets, per-target options and path resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.review.config import EXAMPLE, load_config
from scanner.yamlschema import ConfigError
from tests.review.estate import golden_errors

DATA = Path(__file__).parent / "data"
CONFIG_CASES = sorted((DATA / "config_errors").glob("*.yaml"))


@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda p: p.stem)
def test_config_errors_match_golden_messages(case: Path) -> None:
    got, expected = golden_errors(case, load_config)
    assert got == expected


def test_example_from_config_init_validates(tmp_path: Path) -> None:
    path = tmp_path / "privaudit.yaml"
    path.write_text(EXAMPLE, encoding="utf-8")
    config = load_config(path)
    assert [t.kind for t in config.targets] == ["path"]
    assert config.targets[0].target == str(tmp_path / "exports")
    assert [(o.path, o.format) for o in config.outputs] == [(tmp_path / "reviews/latest.sarif", "sarif"),
                                                           (tmp_path / "reviews/latest.txt", "text")]


def test_every_commented_target_in_the_example_validates_too(tmp_path: Path) -> None:
    """The commented database/S3/SFTP examples must stay valid when a user uncomments them."""
    uncommented = "\n".join(line.replace("  # - ", "  - ", 1).replace("  #   ", "    ", 1)
                            if line.startswith(("  # - ", "  #   ")) and "# pgpass" not in line else line
                            for line in EXAMPLE.splitlines())
    path = tmp_path / "privaudit.yaml"
    path.write_text(uncommented, encoding="utf-8")
    config = load_config(path)
    assert [t.kind for t in config.targets] == ["path", "database", "s3", "sftp", "smb"]


def test_targets_get_their_own_options_and_credential_references(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "privaudit.yaml"
    path.parent.mkdir()
    path.write_text("""\
version: 1
policy: ../packs/bank.yaml
waivers: waivers.yaml
concurrency: 3
targets:
  - path: ../share
    include: ["*.csv"]
    exclude: ["tmp/*"]
    max_file_size: 1000
    follow_symlinks: true
  - database: postgresql://auditor@db.internal:5432/core
    include: ["public.*"]
    sample_rows: 50
    credentials:
      password_env: CORE_DB_PASSWORD
      pgpass: secrets/pgpass
  - s3: s3://bank-exports/daily/
    region: cn-north-1
    credentials: {aws_profile: privaudit-audit}
  - sftp: sftp://scanner@files.internal:2222/share
    timeout: 5
    credentials: {ssh_key: ~/.ssh/id_ed25519, known_hosts: known_hosts, ssh_agent: false}
  - database: sqlite:///srv/app/app.db
""", encoding="utf-8")
    config = load_config(path)
    files, pg, s3, sftp, sqlite = config.targets
    assert config.policy == str(tmp_path / "conf/../packs/bank.yaml")
    assert config.waivers == tmp_path / "conf/waivers.yaml"
    assert config.concurrency == 3
    options = files.options(jobs=3, min_score=0.7)
    assert (options.include, options.exclude, options.max_file_size, options.follow_symlinks, options.jobs,
            options.min_score) == (("*.csv",), ("tmp/*",), 1000, True, 3, 0.7)
    assert files.target == str(tmp_path / "conf/../share")
    assert pg.options().extra == {"sample_rows": 50, "password_env": "CORE_DB_PASSWORD",
                                  "pgpass": str(tmp_path / "conf/secrets/pgpass")}
    assert pg.options().include == ("public.*",)
    assert s3.options().extra == {"s3_region": "cn-north-1", "s3_profile": "privaudit-audit"}
    assert sftp.options().extra == {"sftp_timeout": 5, "ssh_key": str(Path.home() / ".ssh/id_ed25519"),
                                    "known_hosts": str(tmp_path / "conf/known_hosts"), "ssh_agent": False}
    assert sqlite.target == "sqlite:///srv/app/app.db"
    refs = {(r.kind, r.value) for t in config.targets for r in t.references}
    assert ("env", "CORE_DB_PASSWORD") in refs and ("profile", "privaudit-audit") in refs
    assert ("file", str(tmp_path / "conf/secrets/pgpass")) in refs


def test_unresolvable_references_are_reported_with_file_and_line(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIVAUDIT_TEST_UNSET", raising=False)
    monkeypatch.setenv("PRIVAUDIT_TEST_SET", "x")
    (tmp_path / "known_hosts").write_text("", encoding="utf-8")
    path = tmp_path / "privaudit.yaml"
    path.write_text("""\
version: 1
targets:
  - database: mysql://auditor@db.internal/core
    credentials:
      password_env: PRIVAUDIT_TEST_UNSET
  - sftp: sftp://scanner@files.internal/share
    credentials:
      password_env: PRIVAUDIT_TEST_SET
      known_hosts: known_hosts
      ssh_key: missing_key
""", encoding="utf-8")
    problems = load_config(path).reference_problems()
    assert problems == [
        f"{path}:5: targets.0.credentials.password_env: environment variable PRIVAUDIT_TEST_UNSET is not set; "
        "export it (from your secret store) before the scan.",
        f"{path}:10: targets.1.credentials.ssh_key: file {tmp_path}/missing_key does not exist.",
    ]


@pytest.mark.parametrize("text, expected", [
    ("", "the file is empty"),
    ("version: 1\ntargets: [\n", "not valid YAML"),
    ("- just\n- a list\n", "(top level): expected object"),
])
def test_unusable_files_say_what_is_wrong(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "privaudit.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert expected in caught.value.errors[0]
    assert caught.value.errors[0].startswith(str(path))


@pytest.mark.parametrize(("value", "expected"), [
    ("zh_core_web_lg", "zh_core_web_lg"),  # an installed package name stays a name
    ("models/zh_names", "{base}/models/zh_names"),  # a saved pipeline is relative to the config file
    ("/opt/models/en_names", "/opt/models/en_names"),
])
def test_ner_model_goes_to_every_target(tmp_path: Path, value: str, expected: str) -> None:
    path = tmp_path / "privaudit.yaml"
    path.write_text(f"version: 1\nner_model: {value}\ntargets:\n  - path: share\n  - database: sqlite:///x.db\n",
                    encoding="utf-8")
    config = load_config(path)
    assert config.ner_model == expected.format(base=tmp_path)
    assert config.ner_model_where == f"{path}:2: ner_model"
    assert [t.options(ner_model=config.ner_model).extra["ner_model"] for t in config.targets] == [config.ner_model] * 2
    assert "ner_model" not in config.targets[0].options().extra


def test_the_examples_commented_cluster_section_validates(tmp_path: Path) -> None:
    """Uncommenting the example's cluster:, placement:, placement_timeout: and database_sessions: gives a
    valid config whose TLS files are resolved against the config's directory and checked like credentials."""
    import re

    lines = EXAMPLE.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# cluster:"))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("#"))
    text = "\n".join([*lines[:start], *(re.sub(r"^# ?", "", line) for line in lines[start:end]), *lines[end:]])
    path = tmp_path / "privaudit.yaml"
    path.write_text(text, encoding="utf-8")
    cluster = load_config(path).cluster
    assert cluster.address == "tls://scheduler.internal:8786"
    assert cluster.tls_ca == str(tmp_path / "tls/ca.pem") and cluster.tls_key == str(tmp_path / "tls/client.key")
    assert cluster.placement == (("postgresql://*@db.internal*", {"zone-core": 1}),)
    assert (cluster.placement_timeout, cluster.database_sessions) == (300, 2)
    problems = load_config(path).reference_problems()
    assert [p.split(": ", 2)[1] for p in problems] == ["cluster.tls.ca", "cluster.tls.cert", "cluster.tls.key"]
