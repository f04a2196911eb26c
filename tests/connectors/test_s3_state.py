"""S3 objects under ``--state DIR`` (one state for every connector, :mod:`scanner.state`), against the moto
S3 server over HTTP on loopback: an unchanged rerun reads no object again and reports the same; an
overwritten object is read again and a deleted one leaves the findings; what says "unchanged" is the
object's version, never its key; the S3-only state file of earlier versions is refused (exit 2).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from connectors import s3 as s3c
from scanner.cli import main
from scanner.connector import ScanOptions
from scanner.model import ScanReport
from scanner.scan import run_scan
from tests.connectors.test_s3 import CUSTOMERS_CSV, HARMLESS, RESIDENT_ID, aws_env  # noqa: F401 (autouse fixture)
from tests.scanner.test_state import rendered, reused

if TYPE_CHECKING:
    from tests.servers import S3Server

pytest_plugins = ["tests.servers"]
pytestmark = pytest.mark.servers

PLANTED_ID = "110101199003070011"
MOBILE_NOTE = b"call back 13812345678 tomorrow\n"


@pytest.fixture
def calls() -> Iterator[list[tuple[str, str]]]:
    """Every API call the connector makes in this process (``jobs=1`` scans in-process)."""
    seen: list[tuple[str, str]] = []
    s3c.API_CALL_OBSERVERS.append(lambda service, op: seen.append((service, op)))
    try:
        yield seen
    finally:
        s3c.API_CALL_OBSERVERS.clear()


def new_bucket(s3_server: S3Server, objects: dict[str, bytes], prefix: str = "st") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    client = s3_server.client()
    client.create_bucket(Bucket=name)
    for key, body in objects.items():
        client.put_object(Bucket=name, Key=key, Body=body)
    return name


def scan(s3_server: S3Server, bucket: str, state: Path | None, jobs: int = 1, full: bool = False,
         **extra: Any) -> ScanReport:
    options = ScanOptions(jobs=jobs, extra={"s3_endpoint_url": s3_server.endpoint_url, **extra})
    return run_scan([f"s3://{bucket}"], options, command_line=["privaudit", "scan"], state=state, full=full)


def found(report: ScanReport) -> set[tuple[str, str, str | None]]:
    return {(f.rule_id, f.resource.uri, f.entity_type) for f in report.findings}


def object_uris(report: ScanReport, rule: str) -> set[str]:
    return {uri for f in report.findings if f.rule_id == rule for uri in f.properties.get("objects", [])}


# -- incremental --------------------------------------------------------------------------------


def test_an_unchanged_rerun_reads_no_object_and_reports_the_same(s3_server: S3Server, tmp_path: Path,
                                                                 calls: list[tuple[str, str]]) -> None:
    bucket = new_bucket(s3_server, {"a/customers.csv": CUSTOMERS_CSV, "a/notes.txt": HARMLESS,
                                    "b/calls.txt": MOBILE_NOTE})
    state = tmp_path / "state"
    first = scan(s3_server, bucket, state, jobs=2)
    assert reused(first) == 0 and first.targets[0].resources == 3 and first.findings
    calls.clear()
    second = scan(s3_server, bucket, state)
    assert ("s3", "GetObject") not in calls and ("s3", "GetObjectAcl") not in calls
    assert ("s3", "GetBucketAcl") in calls  # the bucket's posture is read every run
    assert reused(second) == 3 and second.targets[0].resources == 3
    assert rendered(second) == rendered(first)  # findings, fingerprints, counts, evidence
    assert [f.fingerprint for f in second.findings] == [f.fingerprint for f in first.findings]
    full = scan(s3_server, bucket, state, full=True)
    assert reused(full) == 0 and calls.count(("s3", "GetObject")) == 3 and rendered(full) == rendered(first)


def test_an_overwritten_object_is_read_again_and_a_deleted_one_leaves_the_findings(
        s3_server: S3Server, tmp_path: Path, calls: list[tuple[str, str]]) -> None:
    bucket = new_bucket(s3_server, {"a/customers.csv": CUSTOMERS_CSV, "a/notes.txt": HARMLESS,
                                    "b/calls.txt": MOBILE_NOTE})
    state = tmp_path / "state"
    first = scan(s3_server, bucket, state)
    assert f"s3://{bucket}/b/calls.txt" in object_uris(first, "s3_bucket_unencrypted_with_pii")
    assert f"s3://{bucket}/a/notes.txt" not in object_uris(first, "s3_bucket_unencrypted_with_pii")

    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="a/notes.txt", Body=HARMLESS + f"id {PLANTED_ID}\n".encode())  # new ETag
    client.delete_object(Bucket=bucket, Key="b/calls.txt")
    calls.clear()
    second = scan(s3_server, bucket, state)
    assert calls.count(("s3", "GetObject")) == 1  # only the overwritten object
    assert reused(second) == 1 and second.targets[0].resources == 2
    objects = object_uris(second, "s3_bucket_unencrypted_with_pii")
    assert f"s3://{bucket}/a/notes.txt" in objects and f"s3://{bucket}/b/calls.txt" not in objects
    assert not any(f.resource.uri == f"s3://{bucket}/b/calls.txt" for f in second.findings)

    fresh = scan(s3_server, bucket, None)  # what a scan without a state says of the bucket as it is now
    assert found(second) == found(fresh) and rendered(second)["findings"] == rendered(fresh)["findings"]
    calls.clear()
    third = scan(s3_server, bucket, state)
    assert ("s3", "GetObject") not in calls and reused(third) == 2 and rendered(third) == rendered(second)


def test_carried_objects_are_judged_with_this_runs_bucket_posture(s3_server: S3Server, tmp_path: Path,
                                                                  calls: list[tuple[str, str]]) -> None:
    """The posture is read every run: a bucket made public since the last run is reported although its
    objects are carried (the rules judge the carried results afresh)."""
    bucket = new_bucket(s3_server, {"exports/customers.csv": CUSTOMERS_CSV})
    state = tmp_path / "state"
    first = scan(s3_server, bucket, state)
    assert "s3_bucket_public_with_pii" not in {f.rule_id for f in first.findings}
    s3_server.client().put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    calls.clear()
    second = scan(s3_server, bucket, state)
    assert ("s3", "GetObject") not in calls and reused(second) == 1
    [public] = [f for f in second.findings if f.rule_id == "s3_bucket_public_with_pii"]
    assert "policy statement Open" in public.message and f"s3://{bucket}/exports/customers.csv" in public.message


def test_the_state_holds_no_object_key_and_keys_named_after_customers_are_carried_too(
        s3_server: S3Server, tmp_path: Path, calls: list[tuple[str, str]]) -> None:
    """The state hashes the URI, the change key is the version only, and an object's posture fact keeps
    no bucket or key (they come back from the URI): an object named after a customer (``kyc/<ID>.csv``)
    is carried like any other, and no key is in the state."""
    named = f"kyc/{PLANTED_ID}/13812345678.csv"
    bucket = new_bucket(s3_server, {named: CUSTOMERS_CSV, "exports/customers.csv": CUSTOMERS_CSV})
    state = tmp_path / "state"
    first = scan(s3_server, bucket, state)
    raw = b"".join(p.read_bytes() for p in state.iterdir())
    for secret in (PLANTED_ID, "13812345678", RESIDENT_ID, "kyc/", "customers.csv", bucket):
        assert secret.encode() not in raw, secret
    with sqlite3.connect(state / "state.sqlite") as db:
        changes = [row[0] for row in db.execute("SELECT change FROM resources")]
    assert len(changes) == 2 and all(c.startswith("s3:") and "customers" not in c for c in changes)
    calls.clear()
    second = scan(s3_server, bucket, state)
    assert calls.count(("s3", "GetObject")) == 0 and reused(second) == 2
    assert rendered(second) == rendered(first)


def test_sampling_is_the_same_whether_objects_are_carried_or_read(s3_server: S3Server, tmp_path: Path) -> None:
    """The first objects of each prefix in key order: a rerun with the state samples the same objects, and
    an object entering the sample (one before it was deleted) is read, the others carried."""
    objects = {f"logs/{i:02d}.txt": (MOBILE_NOTE if i % 2 else HARMLESS) for i in range(6)}
    bucket = new_bucket(s3_server, objects)
    state = tmp_path / "state"
    first = scan(s3_server, bucket, state, s3_max_objects_per_prefix=3)
    assert first.targets[0].resources == 3
    again = scan(s3_server, bucket, state, s3_max_objects_per_prefix=3)
    assert reused(again) == 3 and rendered(again) == rendered(first)
    s3_server.client().delete_object(Bucket=bucket, Key="logs/00.txt")
    shifted = scan(s3_server, bucket, state, s3_max_objects_per_prefix=3)
    assert reused(shifted) == 2 and shifted.targets[0].resources == 3
    fresh = scan(s3_server, bucket, None, s3_max_objects_per_prefix=3)
    assert rendered(shifted)["findings"] == rendered(fresh)["findings"]


# -- what says "unchanged" ----------------------------------------------------------------------

MODIFIED = dt.datetime(2026, 11, 2, 8, 30, tzinfo=dt.UTC)
ITEM = {"Key": "a/customers.csv", "ETag": '"9b2cf535f27731c974343645a3985328"', "Size": 120,
        "LastModified": MODIFIED, "StorageClass": "STANDARD"}
POSTURE = {"acls_enabled": True, "effective_bpa": {"IgnorePublicAcls": False}}


def change_of(item: dict[str, Any] = ITEM, posture: dict[str, Any] = POSTURE, **extra: Any) -> Any:
    connector = s3c.S3Connector("s3://bkt", ScanOptions(extra={"s3_endpoint_url": "http://127.0.0.1:1", **extra}))
    return connector._object_resource("bkt", item["Key"], item, posture, None).metadata.get("change")


@pytest.mark.parametrize(("case", "item", "posture", "extra", "same"), [
    ("nothing changed", ITEM, POSTURE, {}, True),
    ("another key, same version", {**ITEM, "Key": "b/other.csv"}, POSTURE, {}, True),  # the URI is keyed apart
    ("storage class only", {**ITEM, "StorageClass": "STANDARD_IA"}, POSTURE, {}, True),
    ("new ETag (overwritten)", {**ITEM, "ETag": '"0cc175b9c0f1b6a831c399e269772661"'}, POSTURE, {}, False),
    ("multipart ETag", {**ITEM, "ETag": '"9b2cf535f27731c974343645a3985328-2"'}, POSTURE, {}, False),
    ("size", {**ITEM, "Size": 121}, POSTURE, {}, False),
    ("rewritten in place (LastModified)", {**ITEM, "LastModified": MODIFIED + dt.timedelta(seconds=1)},
     POSTURE, {}, False),
    ("VersionId listed", {**ITEM, "VersionId": "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"}, POSTURE, {}, False),
    ("sample size", ITEM, POSTURE, {"s3_max_object_bytes": 1024}, False),
    ("ZIP cap", ITEM, POSTURE, {"s3_max_zip_bytes": 1024}, False),
    ("ACLs disabled (BucketOwnerEnforced)", ITEM, {**POSTURE, "acls_enabled": False}, {}, False),
    ("Block Public Access ignores public ACLs", ITEM, {**POSTURE, "effective_bpa": {"IgnorePublicAcls": True}},
     {}, False),
])
def test_what_says_an_object_is_unchanged(case: str, item: dict[str, Any], posture: dict[str, Any],
                                          extra: dict[str, Any], same: bool) -> None:
    assert (change_of(item, posture, **extra) == change_of()) is same, case


@pytest.mark.parametrize("key", ["a/customers.csv", f"kyc/{PLANTED_ID}.pdf", "客户/张三.csv"])
def test_the_change_key_holds_no_name(key: str) -> None:
    from scanner.model import Resource
    from scanner.state import change_key

    change = change_of({**ITEM, "Key": key})
    text = change_key(Resource(uri="s3://bkt/x", kind="object", display_name="x", connector="s3",
                               metadata={"change": change}))
    assert text is not None and "bkt" not in text
    assert not [part for part in key.split("/") if len(part) > 2 and part in text]
    assert change_of({**ITEM, "ETag": ""}) is None  # no ETag (some gateways): never carried


# -- the S3-only state file of earlier versions ---------------------------------------------------


def test_the_old_state_file_option_exits_2_with_how_to_move(tmp_path: Path) -> None:
    old = tmp_path / "s3-state.json"
    old.write_text("{}")
    result = CliRunner().invoke(main, ["scan", "s3://bucket", "--s3-state-file", str(old)], prog_name="privaudit")
    assert result.exit_code == 2
    for part in ("--s3-state-file", "replaced by --state DIR", "one state for every connector", "cannot be converted",
                 "reads every sampled object once"):
        assert part in result.stderr, part
    assert "--s3-state-file" not in CliRunner().invoke(main, ["scan", "--help"]).output


def test_the_old_state_file_key_in_a_config_exits_2_with_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "privaudit.yaml"
    config.write_text("version: 1\ntargets:\n  - s3: s3://exports\n    state_file: s3-state.json\n", "utf-8")
    result = CliRunner().invoke(main, ["scan", "--config", str(config)], prog_name="privaudit")
    assert result.exit_code == 2
    assert f"{config}:4: targets.0.state_file: the S3 state file was replaced by --state DIR" in result.stderr
    assert "state: DIR in a scan config" in result.stderr and "cannot be converted" in result.stderr
