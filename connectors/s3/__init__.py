"""Amazon S3 and S3-compatible object stores (MinIO, Ceph RGW, ...) through boto3.

Targets: ``s3://bucket``, ``s3://bucket/prefix`` and ``s3://`` (every bucket the credentials can
list). The endpoint of an S3-compatible store comes from ``ScanOptions.extra["s3_endpoint_url"]``
(``--s3-endpoint-url``), ``PRIVAUDIT_S3_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``
(boto3's variable for every service, which MinIO and Ceph users set); the STS and S3 Control calls go
to ``AWS_ENDPOINT_URL_STS`` / ``AWS_ENDPOINT_URL_S3_CONTROL`` when set, else to that same endpoint, and
``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`` turns the ``AWS_ENDPOINT_URL*`` variables off as in boto3
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html). Credentials come from the
standard boto3 chain (environment, shared config/profile via ``extra["s3_profile"]``,
instance/container roles). Retries are botocore's
*adaptive* mode, which adds client-side rate limiting on top of exponential back-off, so a scan
backs off instead of feeding S3 ``SlowDown`` responses.

Posture (the target-level fact :class:`~scanner.facts.BucketPosture`) is gathered in the order
in which S3 itself decides whether a request from the public is allowed:

1. **Block Public Access**, account level (``s3control:GetPublicAccessBlock``) and bucket level
   (``s3:GetPublicAccessBlock``). S3 "uses the most restrictive combination of the bucket-level
   and account-level settings" and BPA settings "override" ACLs and policies
   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html).
   ``IgnorePublicAcls`` makes public ACLs ineffective; ``RestrictPublicBuckets`` limits a bucket
   with a public policy to AWS service principals and the owner's own account (so it also cuts
   cross-account access granted by that policy). ``BlockPublicAcls``/``BlockPublicPolicy`` only
   reject *new* public ACLs and policies; existing ones stay in force, so they do not count.
2. **Object Ownership**: with ``BucketOwnerEnforced`` ACLs are disabled and "no longer affect
   permissions" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html),
   so ACL grants are then ignored.
3. **ACL grants** to the ``AllUsers`` / ``AuthenticatedUsers`` groups (public) and to other
   canonical users (cross-account).
4. **Bucket policy** ``Allow`` statements whose principal is ``*``. Following "The meaning of
   public" (same BPA page) a statement restricted by a *fixed* value of ``aws:SourceIp`` (a CIDR no
   wider than /8), ``aws:SourceVpc``, ``aws:SourceVpce``, ``aws:SourceArn``, ``aws:SourceAccount``,
   ``aws:SourceOwner``, ``aws:userid``, ``aws:PrincipalOrgID``, ``aws:PrincipalAccount`` or
   ``aws:PrincipalArn`` is *not* public — the false positive Prowler users complain about. Negated
   operators (``StringNotEquals``), ``...IfExists`` and wildcards in values do not restrict.
   Principals (and ``aws:PrincipalAccount``/``aws:SourceAccount`` values) of other accounts are
   third-party sharing and reported with the account IDs.
5. **Default encryption** (``none`` / ``SSE-S3`` / ``SSE-KMS``); per object, the encryption S3
   reports on ``GetObject`` is recorded too (AWS applies SSE-S3 to new objects by default since
   January 2023, S3-compatible stores often do not).

Content: objects are listed with pagination and *sampled* — at most
``extra["s3_max_objects_per_prefix"]`` objects per key prefix ("directory") and at most
``extra["s3_max_object_bytes"]`` bytes per object, read with a byte-range ``GetObject`` so a 5 GB
export costs one bounded request. Decoding (gzip/bz2/xz, encodings, CSV headers, binary and
encrypted content) is the file connector's, with its decompression caps; a compressed object's sample
is also capped *after* decompression at the same ``s3_max_object_bytes`` (a 4 MiB range of a ``.gz``
would otherwise expand to hundreds of MiB), with a notification when the cap cuts it. ZIP objects up
to ``extra["s3_max_zip_bytes"]`` are read whole and scanned member by member.

Incremental scans: with ``--state DIR`` (:mod:`scanner.state`, one state for every connector) an object
whose version is unchanged since the last run is not read again; its results are carried and the rules
judge them afresh with the bucket's posture, which is read every run. What says "unchanged" is the
object's ``metadata["change"]`` (:meth:`S3Connector._change`: ETag, size, LastModified, VersionId when
listed, the sample caps and the bucket's ACL switches), never its key: the state hashes the URI, since
keys are named after customers too (``kyc/<ID number>.pdf``). Sampling is deterministic (the first
objects of each prefix in the listing's key order), so a carried object and a re-read one are the same
sample. The S3-only state file of earlier versions (``--s3-state-file``, ``state_file:``) is refused
with how to move to ``--state`` (:data:`STATE_FILE_REPLACED`).

Nothing here writes: only ``List*``/``Get*``/``Head*`` calls are made, and :attr:`permissions`
lists exactly the IAM actions needed (``docs/s3-iam-policy.json``); ``tests/connectors/test_s3.py``
records every API call of a full scan and checks it against that list. Only ``ListObjectsV2`` and
``GetObject`` (and ``ListBuckets`` for ``s3://``) are essential: every posture or account call
(STS, S3 Control, ACLs, policy, Block Public Access, ownership, encryption) is optional, and a denied,
throttled, unsupported (``501 NotImplemented``, as MinIO and Ceph answer for S3 Control) or unreachable
call becomes one notification naming the permission or the endpoint while listing and reading go on.
"""

from connectors.s3.calls import API_CALL_OBSERVERS, OPERATION_PERMISSIONS
from connectors.s3.connector import (
    ENV_AWS_ENDPOINT,
    ENV_ENDPOINT,
    SERVICE_ENDPOINT_ENV,
    STATE_FILE_REPLACED,
    S3Connector,
    object_uri,
    parse_target,
)
from connectors.s3.posture import (
    acl_other_grantees,
    acl_public_permissions,
    analyze_policy,
    combine_bpa,
    encryption_label,
    object_encryption_label,
)

__all__ = [
    "API_CALL_OBSERVERS", "ENV_AWS_ENDPOINT", "ENV_ENDPOINT", "OPERATION_PERMISSIONS", "SERVICE_ENDPOINT_ENV",
    "STATE_FILE_REPLACED", "S3Connector", "acl_other_grantees", "acl_public_permissions", "analyze_policy",
    "combine_bpa", "encryption_label", "object_encryption_label", "object_uri", "parse_target",
]
