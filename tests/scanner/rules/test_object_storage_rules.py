"""The S3 posture analysis and the object-storage rules, on synthetic facts (no server needed).

The end-to-end behaviour against a real S3 API is in ``tests/connectors/test_s3.py``; these tests
pin the decision logic (condition awareness, cross-account detection, BPA combination) and the
rules' messages, levels and fingerprints.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.s3 import (
    acl_other_grantees,
    acl_public_permissions,
    analyze_policy,
    combine_bpa,
    encryption_label,
    object_uri,
)
from scanner.facts import BucketPosture, ObjectPosture
from scanner.model import Level, Match, Resource, ResourceScan
from scanner.policy import load_policy
from scanner.registry import RULES
from scanner.rule import RuleContext, TargetScan

OWN = "123456789012"
RULE_IDS = {
    "s3_acls_enabled",
    "s3_bucket_kms_required",
    "s3_bucket_public_with_pii",
    "s3_bucket_shared_cross_account",
    "s3_bucket_unencrypted_with_pii",
    "s3_object_public_acl_with_pii",
}


def statement(principal: Any = "*", condition: dict[str, Any] | None = None, action: Any = "s3:GetObject",
              effect: str = "Allow", sid: str = "S") -> dict[str, Any]:
    st: dict[str, Any] = {"Sid": sid, "Effect": effect, "Principal": principal, "Action": action, "Resource": "*"}
    if condition:
        st["Condition"] = condition
    return st


@pytest.mark.parametrize(
    ("condition", "public"),
    [
        (None, True),
        ({"StringEquals": {"aws:SourceVpce": "vpce-1"}}, False),
        ({"StringEquals": {"aws:sourcevpc": ["vpc-1", "vpc-2"]}}, False),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}, False),
        ({"StringEquals": {"aws:PrincipalAccount": OWN}}, False),
        ({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.1.0/24"]}}, False),
        ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, True),
        ({"IpAddress": {"aws:SourceIp": "2001:db8::/16"}}, True),
        ({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}, True),
        ({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}, True),
        ({"StringLike": {"aws:SourceVpce": "vpce-*"}}, True),
        ({"StringEquals": {"aws:SourceVpce": "*"}}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, True),
    ],
)
def test_star_statements_are_condition_aware(condition: dict[str, Any] | None, public: bool) -> None:
    result = analyze_policy({"Statement": [statement(condition=condition)]}, OWN)
    assert (result["public"] == ["S"]) is public
    assert bool(result["restricted"]) is not public


def test_principal_forms_and_cross_account() -> None:
    doc = {"Statement": [
        statement({"AWS": ["arn:aws:iam::111122223333:role/etl", f"arn:aws:iam::{OWN}:root"]}, sid="A"),
        statement({"AWS": "444455556666"}, sid="B"),
        statement({"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"}, sid="C"),
        statement({"Service": "logging.s3.amazonaws.com"}, sid="D"),
        statement({"AWS": ["*"]}, sid="E"),
        statement("*", condition={"StringEquals": {"aws:PrincipalAccount": ["777788889999"]}}, sid="F"),
        statement("*", effect="Deny", sid="G"),
        statement("*", action="s3:PutObject", sid="H"),
    ]}
    result = analyze_policy(doc, OWN)
    assert result["public"] == ["E"]  # Deny and write-only statements do not expose data
    assert result["cross_account"] == {
        "111122223333": ["A"], "444455556666": ["B"], "canonical:79a59df900b949e55d96a1e698fbaced": ["C"],
        "777788889999": ["F"],
    }
    assert analyze_policy({"Statement": {"Effect": "Allow", "NotPrincipal": {"AWS": OWN}, "Action": "s3:*"}},
                          OWN)["public"] == ["statement 1"]


def test_acl_grants_bpa_and_encryption_helpers() -> None:
    grants = [
        {"Grantee": {"Type": "CanonicalUser", "ID": "owner"}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"},
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
         "Permission": "READ_ACP"},
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"}, "Permission": "WRITE"},
        {"Grantee": {"Type": "CanonicalUser", "ID": "partner"}, "Permission": "READ"},
    ]
    assert acl_public_permissions(grants) == ["AllUsers:READ", "AuthenticatedUsers:READ_ACP"]
    assert acl_other_grantees(grants, "owner") == ["canonical:partner"]
    combined = combine_bpa({"IgnorePublicAcls": True}, None, {"RestrictPublicBuckets": True})
    assert combined == {"BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
                        "RestrictPublicBuckets": True}
    assert encryption_label([]) == ("none", None)
    assert encryption_label([{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]) == ("SSE-S3", None)
    assert encryption_label([{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms:dsse",
                                                                     "KMSMasterKeyID": "k"}}]) == ("SSE-KMS", "k")
    assert object_uri("b", "a dir/x#1.csv") == "s3://b/a%20dir/x%231.csv"


# -- rules -------------------------------------------------------------------------------------


def posture(bucket: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "bucket": bucket, "uri": f"s3://{bucket}", "account": OWN, "public": False, "public_via": [],
        "cross_account": {}, "encryption": "SSE-S3", "acls_enabled": False, "object_ownership": "BucketOwnerEnforced",
    }
    base.update(overrides)
    return base


def object_scan(bucket: str, key: str, *, pii: bool = True, encryption: str = "SSE-S3",
                acl_public: list[str] | None = None) -> ResourceScan:
    uri = object_uri(bucket, key)
    resource = Resource(uri=uri, kind="object", display_name=f"s3://{bucket}/{key}", connector="s3",
                        root_uri=f"s3://{bucket}/", relative_path=key, metadata={"bucket": bucket, "key": key})
    scan = ResourceScan(resource=resource)
    if pii:
        scan.occurrences = {"CN_RESIDENT_ID": 3}
        scan.matches = [Match("CN_RESIDENT_ID", 0, 18, 2, 0.9, "110105********002X", "h")]
    fact: dict[str, Any] = {"bucket": bucket, "key": key, "encryption": encryption}
    if acl_public is not None:
        fact.update(acl_public=acl_public, acl_public_effective=bool(acl_public))
    scan.facts.append(ObjectPosture.from_record(uri, fact))
    return scan


def evaluate(facts: list[dict[str, Any]], scans: list[ResourceScan], policy: Any = None, **options: Any) -> list[Any]:
    ctx = RuleContext(policy=policy or load_policy(), options=options)
    target = TargetScan("s3://", "s3", scans, [BucketPosture.from_posture(p) for p in facts])
    findings = []
    for cls in RULES:
        if cls.id in RULE_IDS:
            rule = cls()
            findings.extend(rule.evaluate_target(target, ctx))
            for scan in scans:
                findings.extend(rule.evaluate(scan, ctx))
    return findings


def test_rule_ids_are_registered_with_metadata() -> None:
    assert set(RULES.names()) >= RULE_IDS
    for rule_id in RULE_IDS:
        meta = RULES.get(rule_id).metadata()
        assert meta.id == rule_id and meta.short_description.endswith(".")


def test_public_bucket_rule_needs_public_and_personal_data() -> None:
    findings = evaluate(
        [posture("pub", public=True, public_via=["ACL grant AllUsers:READ"]), posture("priv"),
         posture("pubclean", public=True, public_via=["policy statement Web"])],
        [object_scan("pub", "x/a.csv"), object_scan("priv", "x/a.csv"), object_scan("pubclean", "i.txt", pii=False)],
    )
    public = [f for f in findings if f.rule_id == "s3_bucket_public_with_pii"]
    assert [f.resource.uri for f in public] == ["s3://pub"]
    assert public[0].message == (
        "Bucket s3://pub is publicly readable (ACL grant AllUsers:READ) and 1 sampled object holds C2 personal data "
        "(CN_RESIDENT_ID), e.g. s3://pub/x/a.csv."
    )
    assert public[0].level is Level.ERROR and public[0].occurrences == 3
    assert public[0].locations == [] and public[0].properties["evidence"] == ["110105********002X"]


def test_cross_account_one_finding_per_account() -> None:
    facts = [posture("share", cross_account={"111122223333": ["policy statement A"], "canonical:abc": ["ACL grant"]}),
             posture("empty", cross_account={"444455556666": ["policy statement B"]})]
    findings = [f for f in evaluate(facts, [object_scan("share", "a.csv")]) if f.rule_id ==
                "s3_bucket_shared_cross_account"]
    levels = {f.properties["account"]: f.level for f in findings}
    assert levels == {"111122223333": Level.ERROR, "canonical:abc": Level.ERROR, "444455556666": Level.NOTE}
    assert len({f.fingerprint for f in findings}) == 3
    assert all(f.message.endswith(".") and "s3://" in f.message for f in findings)


def test_encryption_rules() -> None:
    facts = [posture("plain", encryption="none"), posture("s3", encryption="SSE-S3"),
             posture("kms", encryption="SSE-KMS")]
    scans = [object_scan("plain", "a.csv", encryption="none"), object_scan("s3", "a.csv", encryption="SSE-S3"),
             object_scan("kms", "a.csv", encryption="SSE-KMS"), object_scan("plain", "b.txt", pii=False,
                                                                            encryption="none")]
    without = {(f.rule_id, f.resource.uri) for f in evaluate(facts, scans)}
    assert ("s3_bucket_unencrypted_with_pii", "s3://plain") in without
    assert not any(r == "s3_bucket_kms_required" for r, _ in without)  # financial-cn: KMS for C3 only
    configured = {(f.rule_id, f.resource.uri) for f in evaluate(facts, scans, s3_kms_required_grades=["C2"])}
    assert {u for r, u in configured if r == "s3_bucket_kms_required"} == {"s3://s3"}
    assert {u for r, u in configured if r == "s3_bucket_unencrypted_with_pii"} == {"s3://plain"}


def test_object_acl_and_acls_enabled_rules() -> None:
    facts = [posture("acl", acls_enabled=True, object_ownership="ObjectWriter")]
    scans = [object_scan("acl", "pub.csv", acl_public=["AllUsers:READ"]), object_scan("acl", "priv.csv", acl_public=[])]
    findings = evaluate(facts, scans)
    objects = [f for f in findings if f.rule_id == "s3_object_public_acl_with_pii"]
    assert [f.resource.uri for f in objects] == ["s3://acl/pub.csv"]
    assert objects[0].message.startswith("Object s3://acl/pub.csv holds C2") and objects[0].locations[0].line == 2
    [enabled] = [f for f in findings if f.rule_id == "s3_acls_enabled"]
    assert enabled.level is Level.WARNING and "ObjectWriter" in enabled.message
    clean = evaluate([posture("acl2", acls_enabled=True)], [])
    assert [f.level for f in clean if f.rule_id == "s3_acls_enabled"] == [Level.NOTE]


def test_rules_judge_bucket_facts_not_other_stores() -> None:
    """Object-storage rules select by the facts they judge: a file share's target (its files with personal
    data, no bucket posture) gets none of their findings, whatever the connector is called."""
    resource = Resource(uri="file:///data/export.csv", kind="file", display_name="export.csv", connector="files",
                        root_uri="file:///data/", relative_path="export.csv")
    scan = ResourceScan(resource=resource, occurrences={"CN_RESIDENT_ID": 3},
                        matches=[Match("CN_RESIDENT_ID", 0, 18, 2, 0.9, "110105********002X", "h")])
    target = TargetScan("/data", "files", [scan], [])
    ctx = RuleContext(policy=load_policy())
    for cls in RULES:
        if cls.id in RULE_IDS:
            assert list(cls().evaluate_target(target, ctx)) == []
            assert list(cls().evaluate(scan, ctx)) == []


def test_kms_required_grades_come_from_the_policy(tmp_path: Any) -> None:
    import dataclasses

    import pytest

    from scanner.yamlschema import ConfigError

    assert load_policy().kms_required_grades == ("C3",)
    facts = [posture("s3", encryption="SSE-S3")]
    scans = [object_scan("s3", "a.csv", encryption="SSE-S3")]
    wants_c2 = dataclasses.replace(load_policy(), kms_required_grades=("C2",))
    assert [f.resource.uri for f in evaluate(facts, scans, wants_c2) if f.rule_id == "s3_bucket_kms_required"] == [
        "s3://s3"]
    # a per-scan option overrides the policy, an empty list turns the rule off
    assert not [f for f in evaluate(facts, scans, wants_c2, s3_kms_required_grades=[])
                if f.rule_id == "s3_bucket_kms_required"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ngrades:\n  - {id: C2, title: C2, level: error, security_severity: '7.5'}\n"
                   "entities: {CN_RESIDENT_ID: C2}\nencryption:\n  kms_required_grades: [C9]\n")
    with pytest.raises(ConfigError) as excinfo:
        load_policy(str(bad))
    assert any("encryption.kms_required_grades" in e and "'C9'" in e for e in excinfo.value.errors)
