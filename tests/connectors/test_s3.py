"""The S3 connector against a real S3 API (moto in server mode over HTTP on loopback).

Nothing is patched in-process: the connector builds its own boto3 clients from the standard
credential chain (dummy credentials in the environment) and talks HTTP to the server, exactly
as it would to AWS or MinIO. Every test uses its own uniquely named buckets.
"""

from __future__ import annotations

import gzip
import http.client
import http.server
import json
import re
import secrets
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from stdnum.cn import ric

from connectors import s3 as s3c
from reports.sarif import build_sarif
from scanner.connector import ScanOptions
from scanner.facts import BucketPosture
from scanner.model import ScanReport
from scanner.scan import run_scan

if TYPE_CHECKING:
    from tests.servers import S3Server

pytest_plugins = ["tests.servers"]
pytestmark = pytest.mark.servers

P17 = "11010519491231002"
RESIDENT_ID = P17 + ric.calc_check_digit(P17 + "0")  # fictitious, valid check character
CUSTOMERS_CSV = f"name,id_no,mobile\n张三,{RESIDENT_ID},13812345678\n李四,{RESIDENT_ID},13912345678\n".encode()
HARMLESS = b"release notes\nnothing personal here\n"
REPO = Path(__file__).resolve().parents[2]
PARTNER_CANONICAL = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials through the standard chain; no developer profile leaks in."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", s3c.ENV_ENDPOINT, s3c.ENV_AWS_ENDPOINT, "AWS_ENDPOINT_URL",
                 *s3c.SERVICE_ENDPOINT_ENV.values()):
        monkeypatch.delenv(name, raising=False)


def new_bucket(s3_server: S3Server, prefix: str = "bkt") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


def scan(s3_server: S3Server, *targets: str, endpoint: str | None = None, jobs: int = 1, **extra: Any) -> ScanReport:
    options = ScanOptions(jobs=jobs, extra={"s3_endpoint_url": endpoint or s3_server.endpoint_url, **extra})
    return run_scan(list(targets), options, command_line=["privaudit", "scan", *targets])


def rule_ids(report: ScanReport, bucket: str) -> set[str]:
    return {f.rule_id for f in report.findings if f.resource.uri.startswith(f"s3://{bucket}")}


def bucket_posture(s3_server: S3Server, bucket: str) -> dict[str, Any]:
    connector = s3c.S3Connector(f"s3://{bucket}", ScanOptions(extra={"s3_endpoint_url": s3_server.endpoint_url}))
    list(connector.discover())
    facts = [f for f in connector.facts() if isinstance(f, BucketPosture)]
    connector.close()
    assert len(facts) == 1
    return facts[0].properties()


def put_policy(s3_server: S3Server, bucket: str, *statements: dict[str, Any]) -> None:
    s3_server.client().put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17",
                                                                           "Statement": list(statements)}))


def star(sid: str, bucket: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                 "Resource": f"arn:aws:s3:::{bucket}/*"}
    if condition:
        statement["Condition"] = condition
    return statement


# -- posture ----------------------------------------------------------------------------------


def test_public_acl_bucket_with_personal_data(s3_server: S3Server) -> None:
    bucket = new_bucket(s3_server, "acl")
    client = s3_server.client()
    client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    client.put_object(Bucket=bucket, Key="exports/customers.csv", Body=CUSTOMERS_CSV, ACL="private")
    client.put_object(Bucket=bucket, Key="docs/readme.txt", Body=HARMLESS)

    report = scan(s3_server, f"s3://{bucket}")

    public = [f for f in report.findings if f.rule_id == "s3_bucket_public_with_pii"]
    assert len(public) == 1
    assert public[0].resource.uri == f"s3://{bucket}"
    assert "AllUsers:READ" in public[0].message and f"s3://{bucket}/exports/customers.csv" in public[0].message
    assert public[0].message.endswith(".")
    assert public[0].grade == "C2"
    assert RESIDENT_ID not in json.dumps(public[0].properties, ensure_ascii=False)
    assert "s3_acls_enabled" in rule_ids(report, bucket)
    assert "s3_object_public_acl_with_pii" not in rule_ids(report, bucket)  # the object itself is private


def test_public_bucket_without_personal_data_is_not_reported(s3_server: S3Server) -> None:
    bucket = new_bucket(s3_server, "site")
    s3_server.client().put_object(Bucket=bucket, Key="index.txt", Body=HARMLESS)
    put_policy(s3_server, bucket, star("Website", bucket))
    assert bucket_posture(s3_server, bucket)["public"] is True
    report = scan(s3_server, f"s3://{bucket}")
    assert "s3_bucket_public_with_pii" not in rule_ids(report, bucket)


@pytest.mark.parametrize(
    ("condition", "public"),
    [
        (None, True),
        ({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, False),
        ({"StringEquals": {"aws:SourceVpc": "vpc-111bbb22"}}, False),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}, False),
        ({"IpAddress": {"aws:SourceIp": "10.20.0.0/16"}}, False),
        ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, True),
        ({"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, True),
        ({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, True),
        ({"StringLike": {"aws:SourceVpce": "vpce-*"}}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, True),
    ],
)
def test_star_policy_condition_awareness(s3_server: S3Server, condition: dict[str, Any] | None, public: bool) -> None:
    bucket = new_bucket(s3_server, "pol")
    put_policy(s3_server, bucket, star("Read", bucket, condition))
    result = bucket_posture(s3_server, bucket)
    assert result["public"] is public
    assert result["policy_public"] == (["Read"] if public else [])
    if not public:
        assert result["policy_restricted"][0]["statement"] == "Read"


def test_cross_account_principals_and_account_conditions(s3_server: S3Server) -> None:
    bucket = new_bucket(s3_server, "share")
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="partner/customers.csv", Body=CUSTOMERS_CSV)
    owner = client.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    client.put_bucket_acl(Bucket=bucket, GrantFullControl=f'id="{owner}"', GrantRead=f'id="{PARTNER_CANONICAL}"')
    put_policy(
        s3_server,
        bucket,
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/etl"},
         "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
        {"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        star("Auditor", bucket, {"StringEquals": {"aws:PrincipalAccount": ["444455556666"]}}),
    )
    report = scan(s3_server, f"s3://{bucket}")
    shared = sorted((f.properties["account"], f.level.value) for f in report.findings
                    if f.rule_id == "s3_bucket_shared_cross_account")
    assert shared == [("111122223333", "error"), ("444455556666", "error"), (f"canonical:{PARTNER_CANONICAL}", "error")]
    # the own account (123456789012) is not third-party sharing
    assert "s3_bucket_public_with_pii" not in rule_ids(report, bucket)
    messages = [f.message for f in report.findings if f.rule_id == "s3_bucket_shared_cross_account"]
    assert any("account 111122223333 (policy statement Partner)" in m for m in messages)


def test_block_public_access_overrides_acl_and_policy(s3_server: S3Server) -> None:
    bucket = new_bucket(s3_server, "bpa")
    client = s3_server.client()
    client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    put_policy(s3_server, bucket, star("Read", bucket))
    before = bucket_posture(s3_server, bucket)
    assert before["public"] and len(before["public_via"]) == 2
    client.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": True})
    after = bucket_posture(s3_server, bucket)
    assert after["acl_public"] == ["AllUsers:READ"]  # still there, but ignored
    assert after["public"] is False and after["public_via"] == []


def test_account_level_block_public_access(s3_server: S3Server) -> None:
    bucket = new_bucket(s3_server, "acct")
    put_policy(s3_server, bucket, star("Read", bucket))
    control = s3_server.client("s3control")
    control.meta.events.register("before-send.s3-control", _strip_account_host(s3_server.endpoint_url))
    control.put_public_access_block(AccountId="123456789012", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    try:
        result = bucket_posture(s3_server, bucket)
        assert result["account_bpa"]["RestrictPublicBuckets"] is True
        assert result["bucket_bpa"] == dict.fromkeys(result["effective_bpa"], False)
        assert result["public"] is False  # the most restrictive combination wins
    finally:
        control.delete_public_access_block(AccountId="123456789012")


def _strip_account_host(endpoint: str) -> Any:
    from urllib.parse import urlsplit, urlunsplit

    want = urlsplit(endpoint).netloc

    def handler(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        if parts.netloc.endswith("." + want):
            request.url = urlunsplit(parts._replace(netloc=want))

    return handler


def test_object_public_acl_in_private_bucket(s3_server: S3Server) -> None:
    bucket = new_bucket(s3_server, "obj")
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="leak/customers.csv", Body=CUSTOMERS_CSV, ACL="public-read")
    client.put_object(Bucket=bucket, Key="leak/notes.txt", Body=HARMLESS, ACL="public-read")
    report = scan(s3_server, f"s3://{bucket}")
    objects = [f for f in report.findings if f.rule_id == "s3_object_public_acl_with_pii"]
    assert [f.resource.uri for f in objects] == [f"s3://{bucket}/leak/customers.csv"]
    assert "s3_bucket_public_with_pii" not in rule_ids(report, bucket)


def test_encryption_none_sse_s3_and_kms(s3_server: S3Server) -> None:
    client = s3_server.client()
    plain, sse_s3, kms = (new_bucket(s3_server, p) for p in ("plain", "sses3", "kms"))
    client.put_bucket_encryption(Bucket=sse_s3, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    client.put_bucket_encryption(Bucket=kms, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/pii"}}]})
    for bucket in (plain, sse_s3, kms):
        client.put_object(Bucket=bucket, Key="data/customers.csv", Body=CUSTOMERS_CSV)

    assert [bucket_posture(s3_server, b)["encryption"] for b in (plain, sse_s3, kms)] == ["none", "SSE-S3", "SSE-KMS"]
    report = scan(s3_server, f"s3://{plain}", f"s3://{sse_s3}", f"s3://{kms}", s3_kms_required_grades=["C2", "C3"])
    assert "s3_bucket_unencrypted_with_pii" in rule_ids(report, plain)
    assert "s3_bucket_kms_required" not in rule_ids(report, plain)
    assert rule_ids(report, sse_s3) & {"s3_bucket_unencrypted_with_pii", "s3_bucket_kms_required"} == {
        "s3_bucket_kms_required"}
    assert not rule_ids(report, kms) & {"s3_bucket_unencrypted_with_pii", "s3_bucket_kms_required"}


def test_ownership_enforced_disables_acls(s3_server: S3Server) -> None:
    bucket = new_bucket(s3_server, "own")
    s3_server.client().put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    result = bucket_posture(s3_server, bucket)
    assert result["acls_enabled"] is False
    report = scan(s3_server, f"s3://{bucket}")
    assert "s3_acls_enabled" not in rule_ids(report, bucket)


# -- content: sampling, ranges, archives --------------------------------------------------------


def test_sampling_per_prefix_and_byte_ranges(s3_server: S3Server) -> None:
    bucket = new_bucket(s3_server, "sample")
    client = s3_server.client()
    for i in range(12):
        client.put_object(Bucket=bucket, Key=f"logs/app-{i:02d}.log", Body=f"user 13812345{i:03d} logged in\n".encode())
    filler = "\n".join(secrets.token_hex(50) for _ in range(3000)).encode()  # ~300 KB, incompressible
    big = b"mobile 13812345678\n" + filler + f"\nid {RESIDENT_ID}\n".encode()
    client.put_object(Bucket=bucket, Key="dumps/big.txt", Body=big)
    client.put_object(Bucket=bucket, Key="dumps/big.txt.gz", Body=gzip.compress(big))
    client.put_object(Bucket=bucket, Key="dumps/empty-dir/", Body=b"")

    calls: list[tuple[str, str]] = []
    s3c.API_CALL_OBSERVERS.append(lambda service, op: calls.append((service, op)))
    try:
        report = scan(s3_server, f"s3://{bucket}", s3_max_objects_per_prefix=5, s3_max_object_bytes=64 * 1024)
    finally:
        s3c.API_CALL_OBSERVERS.clear()
    [summary] = report.targets
    assert summary.resources == 5 + 2
    assert any(n.kind == "limit" and "7 objects were not sampled" in n.message for n in report.notifications)
    assert not [n for n in report.notifications if n.kind in ("corrupt", "unreadable")]  # truncated gzip is fine
    assert calls.count(("s3", "GetObject")) == 7
    logs = [f for f in report.findings if f.rule_id == "pii_in_log"]
    assert len(logs) == 5 and all(f.entity_type == "CN_MOBILE_NUMBER" for f in logs)
    [unencrypted] = [f for f in report.findings if f.rule_id == "s3_bucket_unencrypted_with_pii"]
    assert {f"s3://{bucket}/dumps/big.txt", f"s3://{bucket}/dumps/big.txt.gz"} <= set(unencrypted.properties["objects"])
    assert "CN_RESIDENT_ID" not in unencrypted.properties["entityTypes"]  # only beyond the sampled byte range
    assert summary.bytes_scanned <= 5 * 100 + 2 * 64 * 1024 + 1024


def test_zip_object_scanned_member_by_member(s3_server: S3Server) -> None:
    import io
    import zipfile

    bucket = new_bucket(s3_server, "zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/readme.txt", HARMLESS)
        archive.writestr("a/image.png", b"\x89PNG\r\n\x1a\n" + bytes(200))
        archive.writestr("b/customers.csv", CUSTOMERS_CSV)
    s3_server.client().put_object(Bucket=bucket, Key="exports/2024.zip", Body=buffer.getvalue())
    report = scan(s3_server, f"s3://{bucket}")
    assert "s3_bucket_unencrypted_with_pii" in rule_ids(report, bucket)


def test_object_age_feeds_retention(s3_server: S3Server, tmp_path: Path) -> None:
    import datetime as dt

    from scanner.policy import load_policy

    bucket = new_bucket(s3_server, "age")
    s3_server.client().put_object(Bucket=bucket, Key="exports/2023/customers.csv", Body=CUSTOMERS_CSV)
    policy_file = tmp_path / "retention.yaml"
    policy_file.write_text(
        "name: retention-test\n"
        "grades:\n  - {id: C2, title: C2, level: error, security_severity: '7.5'}\n"
        "entities: {CN_RESIDENT_ID: C2, CN_MOBILE_NUMBER: C2}\n"
        "retention:\n  - {paths: ['exports/**'], max_age_days: 180}\n"
    )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    options = ScanOptions(jobs=1, extra={"s3_endpoint_url": s3_server.endpoint_url})
    report = run_scan([f"s3://{bucket}"], options, load_policy(str(policy_file)), now=later, command_line=["t"])
    [old] = [f for f in report.findings if f.rule_id == "pii_retention_exceeded"]
    assert old.resource.uri == f"s3://{bucket}/exports/2023/customers.csv"
    assert old.properties["ageDays"] >= 399


# -- permissions: minimal read-only policy, and denied calls never abort --------------------------

#: IAM action for each API operation, from the AWS Service Authorization Reference (kept here,
#: independent of the connector's own table, so a new call without a documented action fails).
IAM_ACTION = {
    ("sts", "GetCallerIdentity"): "sts:GetCallerIdentity",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketLocation"): "s3:GetBucketLocation",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetBucketOwnershipControls"): "s3:GetBucketOwnershipControls",
    ("s3", "GetBucketAcl"): "s3:GetBucketAcl",
    ("s3", "GetBucketPolicy"): "s3:GetBucketPolicy",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "GetObject"): "s3:GetObject",
    ("s3", "GetObjectAcl"): "s3:GetObjectAcl",
}


def test_every_api_call_is_in_the_declared_read_only_policy(s3_server: S3Server) -> None:
    bucket = new_bucket(s3_server, "perm")
    client = s3_server.client()
    client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    client.put_object(Bucket=bucket, Key="x/customers.csv", Body=CUSTOMERS_CSV, ACL="public-read")
    put_policy(s3_server, bucket, star("Read", bucket))
    calls: list[tuple[str, str]] = []
    s3c.API_CALL_OBSERVERS.append(lambda service, op: calls.append((service, op)))
    try:
        scan(s3_server, "s3://")  # every bucket: ListBuckets too
    finally:
        s3c.API_CALL_OBSERVERS.clear()
    called = set(calls)
    assert {("s3", "ListBuckets"), ("s3", "GetObject"), ("s3", "GetObjectAcl"), ("s3", "GetBucketPolicy")} <= called
    documented = json.loads((REPO / "docs" / "s3-iam-policy.json").read_text())
    allowed = {a for st in documented["Statement"] for a in ([st["Action"]] if isinstance(st["Action"], str)
                                                             else st["Action"])}
    for service, operation in sorted(called):
        assert not operation.startswith(("Put", "Delete", "Create", "Restore")), operation
        action = IAM_ACTION.get((service, operation))
        assert action is not None, f"{service}:{operation} has no documented IAM action"
        assert action in s3c.S3Connector.permissions
        assert action in allowed
    assert set(s3c.S3Connector.permissions) == allowed


class _DenyingProxy(http.server.BaseHTTPRequestHandler):
    """Forwards to moto, but answers some calls like AWS does when a permission is missing.

    ``deny``/``throttle`` are regular expressions searched in ``"<METHOD> <path?query>"``.
    """

    upstream: tuple[str, int]
    deny: tuple[str, ...] = ()
    throttle: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()
    custom: tuple[tuple[str, ...], int, str] = ((), 0, "")  # markers, HTTP status, error code ("" = empty body)

    def log_message(self, *args: Any) -> None:
        return None

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        for markers, status, code in ((self.deny, 403, "AccessDenied"), (self.throttle, 503, "SlowDown"),
                                      (self.unsupported, 501, "NotImplemented"), self.custom):
            if any(re.search(m, f"{self.command} {self.path}") for m in markers):
                payload = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                           f"<Message>{code}</Message></Error>").encode() if code else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        response = conn.getresponse()
        data = response.read()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle


@pytest.fixture
def denying_endpoint(s3_server: S3Server) -> Iterator[type[_DenyingProxy]]:
    handler = type("Handler", (_DenyingProxy,), {"upstream": (s3_server.host, s3_server.port)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.endpoint = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def test_access_denied_and_throttling_never_abort(s3_server: S3Server,
                                                  denying_endpoint: type[_DenyingProxy]) -> None:
    bucket = new_bucket(s3_server, "deny")
    client = s3_server.client()
    client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    client.put_object(Bucket=bucket, Key="ok/customers.csv", Body=CUSTOMERS_CSV)
    client.put_object(Bucket=bucket, Key="secret/customers.csv", Body=CUSTOMERS_CSV)
    denying_endpoint.deny = (r"\?policy", "/secret/")
    denying_endpoint.throttle = (r"\?encryption",)

    report = scan(s3_server, f"s3://{bucket}", endpoint=denying_endpoint.endpoint,  # type: ignore[attr-defined]
                  s3_max_attempts=1)
    texts = [n.message for n in report.notifications]
    assert any("s3:GetBucketPolicy" in t and n.kind == "permission" for t, n in zip(texts, report.notifications,
                                                                                    strict=True))
    assert any("secret/customers.csv" in t and "s3:GetObject" in t for t in texts)
    assert any(n.kind == "throttled" and "Default encryption" in n.message for n in report.notifications)
    assert not report.targets[0].failed
    assert "s3_bucket_public_with_pii" in rule_ids(report, bucket)  # the rest of the scan went on


def test_denied_bucket_listing_and_account_checks(s3_server: S3Server, denying_endpoint: type[_DenyingProxy]) -> None:
    new_bucket(s3_server, "nolist")
    denying_endpoint.deny = (r"^GET /(\?[^/]*)?$", r"/v20180820/configuration/publicAccessBlock")
    report = scan(s3_server, "s3://", endpoint=denying_endpoint.endpoint,  # type: ignore[attr-defined]
                  s3_max_attempts=1)
    kinds = {(n.kind, n.message) for n in report.notifications}
    assert any(k == "permission" and "s3:ListAllMyBuckets" in m for k, m in kinds)
    assert any(k == "permission" and "s3:GetAccountPublicAccessBlock" in m for k, m in kinds)
    assert not report.targets[0].failed


def test_unreachable_endpoint_fails_the_target_once(s3_server: S3Server) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    report = scan(s3_server, "s3://anything", endpoint=f"http://127.0.0.1:{port}", s3_max_attempts=1)
    assert report.targets[0].failed
    assert [n.kind for n in report.notifications] == ["target-failed"]


def test_missing_credentials_fail_the_target_once(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without credentials no call can work: one clear error for the target, not one per posture call."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata probe on a developer machine
    report = scan(s3_server, f"s3://{new_bucket(s3_server, 'nocreds')}", s3_max_attempts=1)
    assert report.targets[0].failed
    assert [n.kind for n in report.notifications] == ["target-failed"]
    assert "Unable to locate credentials" in report.notifications[0].message


def closed_port() -> int:
    import socket

    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def public_bucket_with_customers(s3_server: S3Server, prefix: str) -> str:
    bucket = new_bucket(s3_server, prefix)
    s3_server.client().put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3_server.client().put_object(Bucket=bucket, Key="exports/customers.csv", Body=CUSTOMERS_CSV)
    return bucket


def test_aws_endpoint_url_alone_is_honoured_for_every_call(s3_server: S3Server,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """MinIO/Ceph users set only boto3's AWS_ENDPOINT_URL: the account-level Block Public Access call
    must go there too, not to ``<account-id>.<host>``."""
    bucket = public_bucket_with_customers(s3_server, "envurl")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint_url)
    report = run_scan([f"s3://{bucket}"], ScanOptions(jobs=1, extra={"s3_max_attempts": 1}))
    assert not report.targets[0].failed and not report.notifications
    assert "s3_bucket_public_with_pii" in rule_ids(report, bucket)


UNREACHABLE = "http://127.0.0.1:{port}"


@pytest.mark.parametrize(("environment", "expected"), [
    # STS down: the account is unknown, so the account-level BPA call is not even tried
    ({"AWS_ENDPOINT_URL_STS": UNREACHABLE, "AWS_ENDPOINT_URL_S3_CONTROL": UNREACHABLE},
     ["The scanning account", "sts endpoint could not be reached"]),
    ({"AWS_ENDPOINT_URL_S3_CONTROL": UNREACHABLE},
     ["Account-level Block Public Access", "s3control endpoint could not be reached"]),
    ({"AWS_ENDPOINT_URL_S3_CONTROL": "not a URL"}, ["Account-level Block Public Access", "InvalidEndpoint"]),
    # boto3's switch that turns every AWS_ENDPOINT_URL* off: S3 Control then goes to the S3 endpoint
    ({"AWS_ENDPOINT_URL_S3_CONTROL": UNREACHABLE, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, []),
], ids=["sts-and-control-refused", "control-refused", "control-invalid-url", "ignored-by-boto3-switch"])
def test_unreachable_optional_endpoints_are_one_notification_and_the_scan_goes_on(
        s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected: list[str]) -> None:
    bucket = public_bucket_with_customers(s3_server, "optional")
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value.format(port=closed_port()))
    report = scan(s3_server, f"s3://{bucket}", s3_max_attempts=1)
    if expected:
        assert len(report.notifications) == 1 and report.notifications[0].kind == "unreachable", report.notifications
        assert all(part in report.notifications[0].message for part in expected), report.notifications[0].message
        assert report.notifications[0].message.endswith(".")
    else:
        assert report.notifications == []
    assert not report.targets[0].failed
    assert "s3_bucket_public_with_pii" in rule_ids(report, bucket)


@pytest.mark.parametrize(("markers", "status", "code"), [
    ((r"/v20180820/configuration/publicAccessBlock", r"\?ownershipControls", r"\?encryption"), 501,
     "NotImplemented"),
    ((r"/v20180820/configuration/publicAccessBlock", r"\?ownershipControls", r"\?publicAccessBlock"), 404, ""),
    ((r"\?acl", r"\?policy", r"\?publicAccessBlock", r"\?ownershipControls", r"\?encryption", r"/v20180820/",
      r"^POST /$"), 400, "InvalidRequest"),
], ids=["501-not-implemented", "bare-404", "every-optional-call-400"])
def test_a_posture_api_the_endpoint_lacks_is_a_notification_and_listing_goes_on(
        s3_server: S3Server, denying_endpoint: type[_DenyingProxy], markers: tuple[str, ...], status: int,
        code: str) -> None:
    """MinIO and Ceph answer 501 for S3 Control, some gateways a bare 404 for a sub-resource they lack
    (which is not "no such bucket"), others 400: none of these may stop listing and reading."""
    bucket = public_bucket_with_customers(s3_server, "nosupport")
    denying_endpoint.custom = (markers, status, code)
    report = scan(s3_server, f"s3://{bucket}", endpoint=denying_endpoint.endpoint,  # type: ignore[attr-defined]
                  s3_max_attempts=1)
    assert report.notifications
    assert all(n.level.value in ("note", "warning") and n.kind != "missing" for n in report.notifications)
    if status in (501, 404):
        assert all("not supported by this S3 endpoint" in n.message for n in report.notifications)
    else:  # every optional call failed, each named with the permission it needs
        named = [m.group(1) for n in report.notifications if (m := re.search(r"permission (\w+:\w+)", n.message))]
        assert len(named) == len(report.notifications)
        assert {"s3:GetBucketPolicy", "s3:GetBucketAcl", "sts:GetCallerIdentity"} <= set(named)
    assert not report.targets[0].failed
    assert report.targets[0].bytes_scanned == len(CUSTOMERS_CSV)  # the object was listed and read
    assert "CN_RESIDENT_ID" in {f.entity_type for f in report.findings}


def csv_lines(count: int) -> bytes:
    """A customer, then varied rows (a few to one under gzip, far below the 200:1 bomb ratio)."""
    rows = [f"name,id_no,mobile\n张三,{RESIDENT_ID},13812345678\n"]
    rows += [f"{i},{i * 7919 % 100000:05d},status ok {i % 13}\n" for i in range(count)]
    return "".join(rows).encode()


@pytest.mark.parametrize(("rows", "cut"), [
    (2_000, False),    # expands to about 50 KiB: read whole, no notification
    (40_000, True),    # under the sample size as gzip, expands to about 1 MiB: cut at the sample size
    (400_000, True),   # over the sample size as gzip (range-read), and what was read expands past it
], ids=["small", "expands-past-the-sample", "range-read-and-expands"])
def test_a_compressed_sample_is_capped_after_decompression(s3_server: S3Server, rows: int, cut: bool) -> None:
    sample = 64 * 1024
    bucket = new_bucket(s3_server, "gzcap")
    plain = csv_lines(rows)
    s3_server.client().put_object(Bucket=bucket, Key="logs/app.log.gz", Body=gzip.compress(plain))
    report = scan(s3_server, f"s3://{bucket}", s3_max_object_bytes=sample)
    limits = [n for n in report.notifications if n.kind == "limit"]
    assert {"CN_RESIDENT_ID", "CN_MOBILE_NUMBER"} <= {f.entity_type for f in report.findings if f.entity_type}
    if cut:
        assert len(limits) == 1 and f"first {sample} decompressed bytes" in limits[0].message, limits
        assert limits[0].message.endswith(".")
        assert sample // 2 < report.targets[0].bytes_scanned <= sample
    else:
        assert limits == []
        assert report.targets[0].bytes_scanned == len(plain)


# -- SARIF ------------------------------------------------------------------------------------------


def test_sarif_locates_objects_by_uri(s3_server: S3Server, tmp_path: Path) -> None:
    bucket = new_bucket(s3_server, "sarif")
    s3_server.client().put_object(Bucket=bucket, Key="logs/app #1.log", Body=b"login 13812345678\n")
    report = scan(s3_server, f"s3://{bucket}")
    sarif = build_sarif(report)
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "pii_in_log"]
    assert len(results) == 1
    location = results[0]["locations"][0]
    assert location["logicalLocations"][0]["fullyQualifiedName"] == f"s3://{bucket}/logs/app%20%231.log"
    assert location["physicalLocation"]["artifactLocation"]["uri"].startswith(f".privaudit/s3/{bucket}/logs/")
    assert results[0]["partialFingerprints"]
    bucket_results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "s3_bucket_unencrypted_with_pii"]
    assert bucket_results[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == f"s3://{bucket}"
    assert "13812345678" not in json.dumps(sarif)
    from tests.sarif_multitool import validate_sarif

    path = tmp_path / "s3.sarif"
    path.write_text(json.dumps(sarif, ensure_ascii=False), "utf-8")
    assert validate_sarif(path) == []


# -- listing and per-object facts -------------------------------------------------------------------


def test_listing_follows_every_page(s3_server: S3Server) -> None:
    bucket = new_bucket(s3_server, "pages")
    client = s3_server.client()
    for i in range(25):
        client.put_object(Bucket=bucket, Key=f"p{i % 5}/obj-{i:02d}.txt", Body=HARMLESS)
    calls: list[tuple[str, str]] = []
    s3c.API_CALL_OBSERVERS.append(lambda service, op: calls.append((service, op)))
    try:
        report = scan(s3_server, f"s3://{bucket}", s3_page_size=10)
    finally:
        s3c.API_CALL_OBSERVERS.clear()
    assert calls.count(("s3", "ListObjectsV2")) == 3  # 10 + 10 + 5 keys
    assert report.targets[0].resources == 25


def test_per_object_encryption_is_recorded(s3_server: S3Server) -> None:
    from scanner.detection.engine import Detector

    bucket = new_bucket(s3_server, "objenc")
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="plain.csv", Body=CUSTOMERS_CSV)
    client.put_object(Bucket=bucket, Key="sse-s3.csv", Body=CUSTOMERS_CSV, ServerSideEncryption="AES256")
    connector = s3c.S3Connector(f"s3://{bucket}", ScanOptions(extra={"s3_endpoint_url": s3_server.endpoint_url}))
    detector = Detector()
    try:
        resources = [r for r in connector.discover() if not hasattr(r, "level")]
        recorded = {}
        for resource in resources:
            scan_ = connector.scan_resource(resource, detector)
            [fact] = [f for f in scan_.facts if f.kind == "s3_object"]
            recorded[resource.metadata["key"]] = fact.encryption
    finally:
        connector.close()
    assert recorded == {"plain.csv": "none", "sse-s3.csv": "SSE-S3"}


def test_fingerprints_follow_the_resource_not_the_content(s3_server: S3Server) -> None:
    """A finding keeps its fingerprint when the object is rewritten (a review diffs by identity)."""
    bucket = new_bucket(s3_server, "ident")
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="logs/app.log", Body=b"login 13812345678\n")
    first = {(f.rule_id, f.resource.uri): f.fingerprint for f in scan(s3_server, f"s3://{bucket}").findings}
    client.put_object(Bucket=bucket, Key="logs/app.log", Body=b"other line\nlogout 13987654321\n")
    second = {(f.rule_id, f.resource.uri): f.fingerprint for f in scan(s3_server, f"s3://{bucket}").findings}
    assert first == second and (("pii_in_log", f"s3://{bucket}/logs/app.log") in first)
