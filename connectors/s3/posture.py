"""S3 access posture as pure functions (no client, no server): what an ACL grants the public, what a
bucket policy opens and to whom (condition-aware), how account and bucket Block Public Access combine,
and what default encryption a bucket has. Table-tested in ``tests/scanner/rules/test_object_storage_rules.py``.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
PUBLIC_GROUPS = {ALL_USERS: "AllUsers", AUTHENTICATED_USERS: "AuthenticatedUsers"}
ARCHIVED_CLASSES = {"GLACIER", "DEEP_ARCHIVE"}

#: Condition keys whose *fixed* values make a ``*``-principal statement non-public
#: ("The meaning of public", S3 Block Public Access documentation; IAM Access Analyzer adds the
#: principal-organization and principal-account keys).
LIMITING_CONDITION_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceIp",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:userid",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
    )
)
#: Condition keys whose values name the accounts a restricted ``*`` statement shares with.
ACCOUNT_CONDITION_KEYS = frozenset({"aws:principalaccount", "aws:sourceaccount", "s3:dataaccesspointaccount"})

#: Every API operation the connector may call, with the IAM action that authorizes it. This is
#: the single source of :attr:`S3Connector.permissions` and of ``docs/s3-iam-policy.json``.
_BPA_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


# -- posture analysis (pure functions, unit-tested without a server) ------------------------------


def acl_public_permissions(grants: list[Mapping[str, Any]]) -> list[str]:
    """``Group:Permission`` for each grant to AllUsers/AuthenticatedUsers (e.g. ``AllUsers:READ``)."""
    out = []
    for grant in grants:
        grantee = grant.get("Grantee", {})
        group = PUBLIC_GROUPS.get(grantee.get("URI", ""))
        if grantee.get("Type") == "Group" and group:
            out.append(f"{group}:{grant.get('Permission')}")
    return sorted(set(out))


def acl_other_grantees(grants: list[Mapping[str, Any]], owner_id: str | None) -> list[str]:
    """Canonical user IDs / e-mail grantees other than the owner (ACL sharing with other accounts)."""
    out = set()
    for grant in grants:
        grantee = grant.get("Grantee", {})
        if grantee.get("Type") == "CanonicalUser" and grantee.get("ID") and grantee.get("ID") != owner_id:
            out.add(f"canonical:{grantee['ID']}")
        elif grantee.get("Type") == "AmazonCustomerByEmail" and grantee.get("EmailAddress"):
            out.add(f"email:{grantee['EmailAddress']}")
    return sorted(out)


_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _principal_accounts(principal: Any) -> tuple[bool, set[str]]:
    """(is_wildcard, accounts) of a policy ``Principal`` element; service principals are ignored."""
    if principal == "*":
        return True, set()
    wildcard = False
    accounts: set[str] = set()
    if isinstance(principal, Mapping):
        for kind, values in principal.items():
            if kind not in ("AWS", "CanonicalUser"):
                continue
            for value in _as_list(values):
                value = str(value)
                if value == "*":
                    wildcard = True
                elif re.fullmatch(r"\d{12}", value):
                    accounts.add(value)
                elif (m := _ACCOUNT_IN_ARN.match(value)) is not None:
                    accounts.add(m.group(1))
                elif kind == "CanonicalUser":
                    accounts.add(f"canonical:{value}")
    return wildcard, accounts


def _limiting_conditions(condition: Mapping[str, Any] | None) -> tuple[list[str], set[str]]:
    """Condition keys that make a ``*`` statement non-public, and the accounts they name."""
    keys: list[str] = []
    accounts: set[str] = set()
    for operator, block in (condition or {}).items():
        op = operator.lower()
        if "not" in op.replace("forallvalues:", "").replace("foranyvalue:", "") or op.endswith("ifexists"):
            continue  # a negated or optional test does not narrow who may call
        if op.startswith("forallvalues:"):
            continue  # vacuously true when the key is absent
        if not isinstance(block, Mapping):
            continue
        for key, raw in block.items():
            lower = key.lower()
            if lower not in LIMITING_CONDITION_KEYS:
                continue
            values = [str(v) for v in _as_list(raw)]
            if not values or any(v == "*" for v in values):
                continue
            if "like" not in op and any(ch in v for v in values for ch in "*?") and lower != "aws:sourceip":
                continue
            if "like" in op and any(ch in v for v in values for ch in "*?"):
                continue
            if lower == "aws:sourceip" and not _narrow_cidrs(values):
                continue
            keys.append(key)
            if lower in ACCOUNT_CONDITION_KEYS:
                accounts.update(v for v in values if re.fullmatch(r"\d{12}", v))
    return sorted(set(keys)), accounts


def _narrow_cidrs(values: list[str]) -> bool:
    """True when every CIDR is a fixed range narrower than /8 (IPv4) or /32 (IPv6)."""
    try:
        nets = [ipaddress.ip_network(v, strict=False) for v in values]
    except ValueError:
        return False
    return all(n.prefixlen >= (8 if n.version == 4 else 32) for n in nets)


def _grants_read(actions: Any) -> bool:
    """Whether a statement's actions can read data (the "bad actions" ``s3:Get*`` and ``s3:List*``).

    Public *write* (``s3:Put*``) is also public to AWS, but what exposes customer data is reading.
    """
    for action in _as_list(actions):
        pattern = str(action).lower()
        if any(fnmatch.fnmatchcase(op, pattern) for op in ("s3:getobject", "s3:listbucket", "s3:getobjectversion")):
            return True
    return False


def analyze_policy(document: Mapping[str, Any], own_account: str | None) -> dict[str, Any]:
    """Classify a bucket policy's ``Allow`` statements as public, restricted or cross-account.

    Returns ``public`` (statement labels granting ``*`` without a limiting condition),
    ``restricted`` (``*`` statements narrowed by conditions, with the keys), ``cross_account``
    (account → statement labels) and ``organizations`` (org IDs a statement is limited to).
    Deny statements are not subtracted: a Deny narrowing a public Allow is rare and the scanner
    prefers reporting to missing an exposure.
    """
    public: list[str] = []
    restricted: list[dict[str, Any]] = []
    cross: dict[str, list[str]] = {}
    orgs: set[str] = set()
    for index, statement in enumerate(_as_list(document.get("Statement"))):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        label = str(statement.get("Sid") or f"statement {index + 1}")
        if "NotPrincipal" in statement:
            public.append(label)  # Allow to everyone except ... is public
            continue
        wildcard, accounts = _principal_accounts(statement.get("Principal"))
        condition = statement.get("Condition") or {}
        if wildcard:
            keys, condition_accounts = _limiting_conditions(condition)
            if keys:
                restricted.append({"statement": label, "conditions": keys})
                accounts |= condition_accounts
                for block in condition.values():
                    if isinstance(block, Mapping):
                        for key, raw in block.items():
                            if key.lower() == "aws:principalorgid":
                                orgs.update(str(v) for v in _as_list(raw))
            elif _grants_read(statement.get("Action")) or "NotAction" in statement:
                public.append(label)
        for account in accounts:
            if account != own_account:
                cross.setdefault(account, []).append(label)
    return {"public": public, "restricted": restricted, "cross_account": cross, "organizations": sorted(orgs)}


def combine_bpa(*configs: Mapping[str, bool] | None) -> dict[str, bool]:
    """The most restrictive combination of BPA settings (unknown levels count as off)."""
    return {flag: any(bool(c and c.get(flag)) for c in configs) for flag in _BPA_FLAGS}


def encryption_label(rules: list[Mapping[str, Any]]) -> tuple[str, str | None]:
    """("SSE-KMS" | "SSE-S3" | "none", KMS key) from a bucket's default-encryption rules."""
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        algorithm = str(default.get("SSEAlgorithm", ""))
        if algorithm.startswith("aws:kms"):
            return "SSE-KMS", default.get("KMSMasterKeyID")
        if algorithm == "AES256":
            return "SSE-S3", None
    return "none", None


def object_encryption_label(header: str | None) -> str:
    if not header:
        return "none"
    return "SSE-KMS" if header.startswith("aws:kms") else "SSE-S3" if header == "AES256" else header
