"""``privaudit scan`` on remote targets: the S3 and SFTP options, against the real servers.

The moto S3 server and the OpenSSH sshd of ``tests/servers.py`` run on loopback; the command line
is driven through click's CliRunner exactly as a user types it. Secrets never appear as options:
only the endpoint and file paths do.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result
from stdnum.cn import ric

from scanner.cli import main
from tests.sarif_multitool import validate_sarif

if TYPE_CHECKING:
    from tests.servers import S3Server, SSHServer

pytest_plugins = ["tests.servers"]
pytestmark = pytest.mark.servers

P17 = "11010519491231002"
RESIDENT_ID = P17 + ric.calc_check_digit(P17 + "0")  # fictitious, valid check character
CUSTOMERS = f"name,id_no,mobile\n张三,{RESIDENT_ID},13812345678\n".encode()


def run(args: list[str], env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(main, ["scan", *args], prog_name="privaudit", env=env, catch_exceptions=False)


def results(sarif_path: Path) -> list[dict]:
    return json.loads(sarif_path.read_text("utf-8"))["runs"][0]["results"]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_CONFIG_FILE", str(tmp_path / "aws-config")),
                        ("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))):
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "PRIVAUDIT_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                 "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def public_bucket(s3_server: S3Server, aws_env: None) -> str:
    bucket = f"cli-{uuid.uuid4().hex[:10]}"
    client = s3_server.client()
    client.create_bucket(Bucket=bucket)
    client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    client.put_object(Bucket=bucket, Key="exports/customers.csv", Body=CUSTOMERS)
    return bucket


# -- S3 -----------------------------------------------------------------------------------------


def test_s3_endpoint_url_and_state_options(s3_server: S3Server, public_bucket: str, tmp_path: Path) -> None:
    out, state = tmp_path / "s3.sarif", tmp_path / "state"
    args = [f"s3://{public_bucket}", "--s3-endpoint-url", s3_server.endpoint_url, "--state", str(state),
            "-j", "1", "-o", str(out)]
    first = run(args)
    assert first.exit_code == 1, first.stderr  # a public bucket with C2 data is an error-level finding
    rule_ids = {r["ruleId"] for r in results(out)}
    assert {"s3_bucket_public_with_pii", "s3_bucket_unencrypted_with_pii"} <= rule_ids
    assert RESIDENT_ID.encode() not in (state / "state.sqlite").read_bytes()
    assert validate_sarif(out) == []
    logical = {loc["fullyQualifiedName"] for r in results(out) for loc in r["locations"][0]["logicalLocations"]}
    assert f"s3://{public_bucket}" in logical
    fingerprints = {json.dumps(r["partialFingerprints"], sort_keys=True) for r in results(out)}

    second = run(args)  # the unchanged object is carried from the state: same findings, same fingerprints
    assert second.exit_code == 1
    assert "1 unchanged resource carried from the state" in second.stderr
    assert {json.dumps(r["partialFingerprints"], sort_keys=True) for r in results(out)} == fingerprints


@pytest.mark.parametrize("variable", ["PRIVAUDIT_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"])
def test_s3_endpoint_from_the_environment(s3_server: S3Server, public_bucket: str, tmp_path: Path,
                                          variable: str) -> None:
    out = tmp_path / "s3.sarif"
    result = run([f"s3://{public_bucket}", "-j", "1", "-o", str(out)], env={variable: s3_server.endpoint_url})
    assert result.exit_code == 1, result.stderr
    assert "s3_bucket_public_with_pii" in {r["ruleId"] for r in results(out)}


@pytest.mark.parametrize(("args", "message"), [
    (["--s3-endpoint-url", "minio.internal:9000"], "is not an endpoint URL"),
    (["--s3-endpoint-url", "https://key:secret@minio.internal"], "without credentials"),
    (["--s3-state-file", "/var/lib/privaudit/s3-state.json"], "was replaced by --state DIR"),
])
def test_s3_option_mistakes_exit_2(args: list[str], message: str, aws_env: None) -> None:
    result = run(["s3://bucket", *args])
    assert result.exit_code == 2
    assert message in result.stderr


# -- SFTP ---------------------------------------------------------------------------------------


@pytest.fixture
def share(sshd_server: SSHServer) -> Path:
    path = sshd_server.root / f"cli-{uuid.uuid4().hex[:8]}"
    path.mkdir(mode=0o755)
    (path / "customers.csv").write_bytes(CUSTOMERS)
    os.chmod(path / "customers.csv", 0o644)
    return path


def sftp_target(srv: SSHServer, path: Path) -> str:
    return f"sftp://{srv.username}@{srv.host}:{srv.port}{path}"


def test_sftp_known_hosts_and_ssh_key_options(sshd_server: SSHServer, share: Path, tmp_path: Path) -> None:
    out = tmp_path / "sftp.sarif"
    result = run([sftp_target(sshd_server, share), "--known-hosts", str(sshd_server.known_hosts_path),
                  "--ssh-key", str(sshd_server.private_key_path), "-j", "1", "-o", str(out)],
                 env={"SSH_AUTH_SOCK": None})
    assert result.exit_code == 1, result.stderr
    [exposure] = [r for r in results(out) if r["ruleId"] == "file_world_readable_with_pii"]
    uri = exposure["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
    assert uri == f"{sftp_target(sshd_server, share)}/customers.csv"
    assert validate_sarif(out) == []
    assert RESIDENT_ID not in out.read_text("utf-8")


def test_sftp_unknown_host_key_is_refused(sshd_server: SSHServer, share: Path, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    result = run([sftp_target(sshd_server, share), "--known-hosts", str(empty),
                  "--ssh-key", str(sshd_server.private_key_path), "-j", "1", "--format", "json"],
                 env={"SSH_AUTH_SOCK": None})
    assert "not in known_hosts" in result.stderr and "refusing to connect" in result.stderr
    assert empty.read_text() == ""  # never learned


def test_sftp_missing_key_file_exits_2(sshd_server: SSHServer, share: Path, tmp_path: Path) -> None:
    result = run([sftp_target(sshd_server, share), "--ssh-key", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "--ssh-key" in result.stderr and "does not exist" in result.stderr
