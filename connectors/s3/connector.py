"""The S3 connector: listing, sampling and reading objects, and gathering each bucket's posture; each
object says what identifies its version (``metadata["change"]``) so ``--state`` carries unchanged ones.
See the package docstring."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from connectors._remote import TruncatedTolerant, quote_path, zip_chunks
from connectors._streams import CappedStream, DecompressionLimits
from connectors.files import _chunks, _decompressing, _glob_match
from connectors.s3.calls import (
    _ABSENT,
    _DENIED,
    _THROTTLED,
    _UNSUPPORTED,
    OPERATION_PERMISSIONS,
    _CallFailed,
    _classify,
    _observe_call,
    _unreachable,
)
from connectors.s3.posture import (
    _BPA_FLAGS,
    ARCHIVED_CLASSES,
    acl_other_grantees,
    acl_public_permissions,
    analyze_policy,
    combine_bpa,
    encryption_label,
    object_encryption_label,
)
from scanner.connector import (
    POSITIVE,
    Connector,
    ContentSkipped,
    ReadError,
    ScanOptions,
    TargetOption,
    WorkPart,
    _sentence,
    detect_chunks,
)
from scanner.facts import BucketPosture, ObjectPosture
from scanner.model import Chunk, Level, Notification, Resource, ResourceScan
from scanner.registry import CONNECTORS

ENV_ENDPOINT = "PRIVAUDIT_S3_ENDPOINT_URL"
ENV_AWS_ENDPOINT = "AWS_ENDPOINT_URL_S3"  # the service-specific endpoint variable boto3 itself honours
ENV_AWS_ENDPOINT_ALL = "AWS_ENDPOINT_URL"  # boto3's endpoint for every service (MinIO/Ceph users set this one)
#: The only operations a target cannot do without; every other call (posture, account, ACLs) is optional:
#: its failure is a notification naming the permission or the endpoint, and listing and reading go on.
ESSENTIAL_OPERATIONS = frozenset({"ListBuckets", "ListObjectsV2", "GetObject"})
#: boto3's service-specific endpoint variables for the optional services (they beat the S3 endpoint)
SERVICE_ENDPOINT_ENV = {"sts": "AWS_ENDPOINT_URL_STS", "s3control": "AWS_ENDPOINT_URL_S3_CONTROL"}
DEFAULT_MAX_OBJECTS_PER_PREFIX = 20
DEFAULT_MAX_OBJECT_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_ZIP_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_OBJECTS_PER_BUCKET = 5000
#: why a config's ``state_file:`` and ``--s3-state-file`` are refused (exit 2): the S3-only state file is gone
STATE_FILE_REPLACED = (
    "the S3 state file was replaced by --state DIR (state: DIR in a scan config), one state for every "
    "connector, in which an object with the same ETag, size and version is not read again; remove the state "
    "file option and give --state DIR. The old file cannot be converted (it holds summaries, not what --state "
    "keeps): the first run with --state reads every sampled object once, after which the old file can be deleted")


def _aws_endpoint_env(variable: str) -> str | None:
    """An ``AWS_ENDPOINT_URL*`` variable, unless ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` is true (boto3's rule)."""
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true":
        return None
    return os.environ.get(variable) or None


class _ExpandedSample(io.RawIOBase):
    """The first ``cap`` bytes of a decompressed stream, then end of file; ``cut`` tells whether more followed.

    A byte-range sample bounds what is downloaded, not what it expands to: gzip reaches about 1,000:1,
    so the 4 MiB sample of a ``.log.gz`` could be 4 GiB of text. The sample is capped again after
    decompression, at the same size, so an object costs the same whatever its compression.
    """

    def __init__(self, inner: Any, cap: int) -> None:
        super().__init__()
        self.inner = inner
        self.left = cap
        self.cut = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.left <= 0:
            if not self.cut and self.inner.read(1):
                self.cut = True
            return 0
        data = self.inner.read(min(len(buffer), self.left))
        n = len(data)
        buffer[:n] = data
        self.left -= n
        return n


def parse_target(target: str) -> tuple[str | None, str]:
    """``s3://bucket/prefix`` → (bucket, prefix); ``s3://`` → (None, "")."""
    parts = urlsplit(target)
    if parts.scheme != "s3":
        raise ValueError(f"not an s3:// target: {target}")
    return (parts.netloc or None), parts.path.lstrip("/")


def object_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{quote_path(key)}"


@CONNECTORS.register
class S3Connector(Connector):
    """Samples objects of S3 buckets and reports each bucket's access and encryption posture."""

    name = "s3"

    store = "object-storage"

    labels = {"en": "S3 object storage", "zh": "S3 对象存储"}
    schemes = ("s3",)
    config_key = "s3"
    config_example = "s3://bucket or s3://bucket/prefix/"
    target_options = {
        "endpoint_url": TargetOption({"type": "string", "pattern": "^https?://"}, extra="s3_endpoint_url"),
        "region": TargetOption({"type": "string"}, extra="s3_region"),
        "max_objects_per_prefix": TargetOption(POSITIVE, extra="s3_max_objects_per_prefix"),
        "max_objects_per_bucket": TargetOption(POSITIVE, extra="s3_max_objects_per_bucket"),
        "max_object_bytes": TargetOption(POSITIVE, extra="s3_max_object_bytes"),
        "max_zip_bytes": TargetOption(POSITIVE, extra="s3_max_zip_bytes"),
        # refused with what replaced it (scanner.yamlschema: a "not {}" schema's description is the message)
        "state_file": TargetOption({"not": {}, "description": STATE_FILE_REPLACED}),
        "aws_profile": TargetOption({"type": "string", "pattern": r"^[A-Za-z0-9_.+=,@-]+$"}, extra="s3_profile",
                                    credential="profile"),
    }
    extra = "s3"
    requires = ("boto3",)
    permissions = (*sorted(set(OPERATION_PERMISSIONS.values())), "kms:Decrypt")
    description = "Amazon S3 and S3-compatible object stores (MinIO, Ceph RGW): posture and sampled content."

    def __init__(self, target: str, options: ScanOptions) -> None:
        super().__init__(target, options)
        self.bucket, self.prefix = parse_target(target)
        extra = options.extra
        self.endpoint_url: str | None = (extra.get("s3_endpoint_url") or os.environ.get(ENV_ENDPOINT)
                                         or _aws_endpoint_env(ENV_AWS_ENDPOINT)
                                         or _aws_endpoint_env(ENV_AWS_ENDPOINT_ALL) or None)
        self.region: str | None = extra.get("s3_region") or None
        self.profile: str | None = extra.get("s3_profile") or None
        self.max_per_prefix = int(extra.get("s3_max_objects_per_prefix", DEFAULT_MAX_OBJECTS_PER_PREFIX))
        self.max_object_bytes = int(extra.get("s3_max_object_bytes", DEFAULT_MAX_OBJECT_BYTES))
        self.max_zip_bytes = int(extra.get("s3_max_zip_bytes", DEFAULT_MAX_ZIP_BYTES))
        self.max_per_bucket = int(extra.get("s3_max_objects_per_bucket", DEFAULT_MAX_OBJECTS_PER_BUCKET))
        self.max_attempts = int(extra.get("s3_max_attempts", 5))
        self.posture_threads = int(extra.get("s3_posture_threads", 8))
        self.page_size = int(extra.get("s3_page_size", 1000))  # ListObjectsV2 MaxKeys (S3's maximum is 1,000)
        self._session: Any = None
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._client_lock = threading.Lock()
        self._facts: list[BucketPosture | Notification] = []
        self._own_account: str | None = None
        self._account_checked = False
        self._account_bpa: dict[str, bool] | None = None

    @property
    def display_target(self) -> str:
        return self.target

    # -- clients ------------------------------------------------------------------------------

    def _boto_session(self) -> Any:
        if self._session is None:
            import boto3

            session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
            session.events.register("before-call", _observe_call)
            if self.endpoint_for("s3control"):
                # before signing, so that the signature covers the host the request really goes to
                session.events.register("before-sign.s3-control", self._control_on_custom_endpoint)
            self._session = session
        return self._session

    def endpoint_for(self, service: str) -> str | None:
        """The endpoint a service's calls go to: its own variable (``AWS_ENDPOINT_URL_STS``, ...) if set,
        else the S3 endpoint (a MinIO/Ceph host serves them all), else AWS's default."""
        variable = SERVICE_ENDPOINT_ENV.get(service)
        return (_aws_endpoint_env(variable) if variable else None) or self.endpoint_url

    def _control_on_custom_endpoint(self, request: Any, **_: Any) -> None:
        """S3 Control's endpoint rules put the account ID in front of the host (``<account>.<host>``), even on
        a custom endpoint (``inject_host_prefix`` does not reach them); MinIO, Ceph or a test server has no
        such host name, so the request goes to the endpoint as configured."""
        want = urlsplit(self.endpoint_for("s3control") or "").netloc
        parts = urlsplit(request.url)
        if want and parts.netloc != want and parts.netloc.endswith("." + want):
            request.url = urlunsplit(parts._replace(netloc=want))

    def client(self, service: str = "s3", region: str | None = None) -> Any:
        """A cached client per (service, region); one per process (connectors live per worker)."""
        key = (service, region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._client_lock:
            if key in self._clients:
                return self._clients[key]
            from botocore.config import Config

            session = self._boto_session()
            config = Config(
                retries={"mode": "adaptive", "max_attempts": self.max_attempts},
                connect_timeout=10,
                read_timeout=60,
                max_pool_connections=16,
                s3={"addressing_style": "path"} if self.endpoint_url else None,
            )
            self._clients[key] = session.client(
                service,
                region_name=region or session.region_name or "us-east-1",
                endpoint_url=self.endpoint_for(service),
                config=config,
            )
        return self._clients[key]

    def _call(self, service: str, operation: str, method: str, region: str | None = None, **params: Any) -> Any:
        """Call one API operation; failures raise :class:`_CallFailed` with a classified status."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        try:
            client = self.client(service, region)
        except ValueError as exc:  # botocore: "Invalid endpoint: ..." (a malformed AWS_ENDPOINT_URL_*)
            if self._s3_itself_fails(service, operation, exc):
                raise ReadError(f"{self.endpoint_for(service) or 'S3'} cannot be used: {exc}",
                                kind="unreachable") from None
            raise _CallFailed("unreachable", "InvalidEndpoint", f"{self.endpoint_for(service)}: {exc}") from None
        try:
            return getattr(client, method)(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status_code = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            code = str(error.get("Code") or (f"HTTP {status_code}" if status_code else "unknown error"))
            if code in _ABSENT:
                raise _CallFailed("absent", code, str(exc)) from None
            if code in _DENIED or status_code == "403":
                raise _CallFailed("denied", code, str(exc)) from None
            if code in _THROTTLED or status_code in ("503", "429"):
                raise _CallFailed("throttled", code, str(exc)) from None
            if code in _UNSUPPORTED or status_code in ("501", "405"):
                raise _CallFailed("unsupported", code, str(exc)) from None
            if code in ("NoSuchBucket", "NoSuchKey") or (code == "404" and operation in ESSENTIAL_OPERATIONS):
                raise _CallFailed("missing", code, str(exc)) from None
            if code == "404":  # a bare 404 (no S3 error code) for an optional call: an API this endpoint lacks
                raise _CallFailed("unsupported", code, str(exc)) from None
            raise _CallFailed("error", code, str(exc)) from None
        except (EndpointConnectionError, ConnectTimeoutError, NoCredentialsError, PartialCredentialsError) as exc:
            if not self._s3_itself_fails(service, operation, exc):
                raise _CallFailed("unreachable", type(exc).__name__,
                                  f"{self.endpoint_for(service) or service}: {exc}") from None
            # no credentials, or the S3 endpoint itself is down: nothing else will work, one error for the target
            raise ReadError(f"{self.endpoint_url or 'S3'} cannot be used: {exc}", kind="unreachable") from None
        except BotoCoreError as exc:
            raise _CallFailed("error", type(exc).__name__, str(exc)) from None

    def _s3_itself_fails(self, service: str, operation: str, exc: Exception) -> bool:
        """Whether a connection or credential failure of one call means no S3 call can work.

        Missing credentials fail everything; so does an unreachable essential call, or any call to the
        S3 endpoint (a custom endpoint serving every service is one host). An STS or S3 Control endpoint
        of its own (AWS's, or ``AWS_ENDPOINT_URL_STS``/``AWS_ENDPOINT_URL_S3_CONTROL``) may be down or
        missing while S3 works: that only costs the posture it would have told.
        """
        from botocore.exceptions import NoCredentialsError, PartialCredentialsError

        if isinstance(exc, NoCredentialsError | PartialCredentialsError) or operation in ESSENTIAL_OPERATIONS:
            return True
        return service == "s3" or (self.endpoint_url is not None and self.endpoint_for(service) == self.endpoint_url)

    def _notify(self, failure: _CallFailed, service: str, operation: str, what: str, uri: str | None) -> Notification:
        permission = OPERATION_PERMISSIONS.get((service, operation), f"{service}:{operation}")
        if failure.status == "denied":
            text = f"{what} could not be checked: access denied ({failure.code}); grant {permission} to include it"
            kind, level = "permission", Level.WARNING
        elif failure.status == "throttled":
            text = f"{what} could not be checked: {operation} throttled by the server ({failure.code}) after retries"
            kind, level = "throttled", Level.WARNING
        elif failure.status == "unreachable":
            text = (f"{what} could not be checked: the {service} endpoint could not be reached for {operation} "
                    f"({failure.code}: {failure}); listing and reading went on")
            kind, level = "unreachable", Level.WARNING
        elif failure.status == "unsupported":
            text = f"{what} is not supported by this S3 endpoint ({operation}: {failure.code}); not checked"
            kind, level = "unsupported", Level.NOTE
        else:
            text = (f"{what} could not be checked ({operation}, permission {permission}, failed: "
                    f"{failure.code or failure})")
            kind, level = "unreadable", Level.WARNING
        return Notification(_sentence(text), uri, level=level, kind=kind, exception=failure.code or None)

    # -- discovery and posture ----------------------------------------------------------------

    def discover(self) -> Iterator[Resource | Notification]:
        yield from self._account_posture()
        buckets: list[str]
        if self.bucket:
            buckets = [self.bucket]
        else:
            try:
                buckets = self._list_buckets()
            except _CallFailed as exc:
                note = self._notify(exc, "s3", "ListBuckets", "The bucket list", self.target)
                if exc.status == "error":
                    raise ReadError(note.message.rstrip(".")) from None
                yield note
                return
        for bucket, region, (posture, notes) in self._postures(buckets):
            yield from notes
            yield from self._objects(bucket, posture, region)
            self._facts.append(BucketPosture.from_posture(posture))

    def _postures(self, buckets: list[str]) -> Iterator[tuple[str, str | None, tuple[dict[str, Any], list[Any]]]]:
        """Posture of each bucket, in bucket order; fetched by a few threads when there are many.

        Posture costs about seven small calls per bucket; for ``s3://`` on an account with hundreds
        of buckets doing them one after another dominates the scan. botocore clients are
        thread-safe (client *creation* is not: :meth:`client` holds a lock).
        """

        def one(bucket: str) -> tuple[str, str | None, tuple[dict[str, Any], list[Any]]]:
            region = self._region_of(bucket)
            return bucket, region, self._bucket_posture(bucket, region)

        if len(buckets) <= 1 or self.posture_threads <= 1:
            yield from map(one, buckets)
            return
        from concurrent.futures import ThreadPoolExecutor

        self.client("s3")
        with ThreadPoolExecutor(max_workers=self.posture_threads) as pool:
            yield from pool.map(one, buckets)

    def facts(self) -> Iterator[BucketPosture | Notification]:
        yield from self._facts

    def _list_buckets(self) -> list[str]:
        client = self.client()
        names: list[str] = []
        try:
            if client.can_paginate("list_buckets"):
                for page in client.get_paginator("list_buckets").paginate():
                    names.extend(b["Name"] for b in page.get("Buckets", []))
            else:
                names = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
        except Exception as exc:
            raise _classify(exc) from None
        return sorted(names)

    def _account_posture(self) -> Iterator[Notification]:
        """Account ID (for cross-account decisions) and account-level Block Public Access."""
        if self._account_checked:
            return
        self._account_checked = True
        try:
            self._own_account = self._call("sts", "GetCallerIdentity", "get_caller_identity").get("Account")
        except _CallFailed as exc:
            yield self._notify(exc, "sts", "GetCallerIdentity", "The scanning account (for account-level Block "
                               "Public Access and cross-account sharing)", self.target)
            return
        try:
            response = self._call("s3control", "GetPublicAccessBlock", "get_public_access_block",
                                  AccountId=self._own_account)
            self._account_bpa = {k: bool(v) for k, v in response.get("PublicAccessBlockConfiguration", {}).items()}
        except _CallFailed as exc:
            if exc.status == "absent":
                self._account_bpa = dict.fromkeys(_BPA_FLAGS, False)
            else:
                yield self._notify(exc, "s3control", "GetPublicAccessBlock",
                                   f"Account-level Block Public Access of account {self._own_account}", self.target)

    def _bucket_posture(self, bucket: str, region: str | None) -> tuple[dict[str, Any], list[Notification]]:
        """The bucket's posture in S3's own order of decision (see the package docstring); a denied or
        unsupported call leaves its part unknown with one notification, the rest is still decided."""
        uri = f"s3://{bucket}"
        notes: list[Notification] = []
        unknown: list[str] = []

        def get(operation: str, method: str, what: str, **params: Any) -> Any:
            try:
                return self._call("s3", operation, method, region, Bucket=bucket, **params)
            except _CallFailed as exc:
                if exc.status == "absent":
                    return None
                if exc.code == "NoSuchBucket":
                    raise
                if exc.status == "missing":  # NoSuchKey for a bucket sub-resource: a gateway that lacks the API
                    exc = _CallFailed("unsupported", exc.code, str(exc))
                unknown.append(OPERATION_PERMISSIONS[("s3", operation)])
                notes.append(self._notify(exc, "s3", operation, f"{what} of bucket {bucket}", uri))
                return False

        posture: dict[str, Any] = {"bucket": bucket, "uri": uri, "account": self._own_account, "region": region,
                                   "account_bpa": self._account_bpa}
        if self._account_bpa is None:
            unknown.append("s3:GetAccountPublicAccessBlock")
        try:
            bpa = get("GetPublicAccessBlock", "get_public_access_block", "Block Public Access")
        except _CallFailed:
            notes.append(Notification(f"Bucket {bucket} does not exist.", uri, level=Level.ERROR, kind="missing"))
            return {**posture, "missing": True}, notes
        posture.update(_block_public_access(self._account_bpa, bpa))
        posture.update(_ownership(get("GetBucketOwnershipControls", "get_bucket_ownership_controls",
                                      "Object Ownership")))
        acl = get("GetBucketAcl", "get_bucket_acl", "The ACL")
        policy = get("GetBucketPolicy", "get_bucket_policy", "The bucket policy")
        analysis: dict[str, Any] = {"public": [], "restricted": [], "cross_account": {}, "organizations": []}
        if policy:
            try:
                analysis = analyze_policy(json.loads(policy.get("Policy") or "{}"), self._own_account)
            except (ValueError, TypeError) as exc:
                notes.append(Notification(f"The bucket policy of {bucket} could not be parsed: {exc}.", uri,
                                          kind="corrupt"))
        posture.update(_exposure(posture, acl, analysis))
        posture.update(_default_encryption(get("GetBucketEncryption", "get_bucket_encryption",
                                               "Default encryption")))
        posture["unknown"] = sorted(set(unknown))
        return posture, notes

    def _region_of(self, bucket: str) -> str | None:
        """The bucket's region on AWS (clients are per region); custom endpoints have one."""
        if self.endpoint_url:
            return None
        try:
            location = self._call("s3", "GetBucketLocation", "get_bucket_location", Bucket=bucket)
        except _CallFailed:
            return None
        constraint = location.get("LocationConstraint") or "us-east-1"
        return "eu-west-1" if constraint == "EU" else constraint  # legacy value of GetBucketLocation

    def _objects(self, bucket: str, posture: dict[str, Any], region: str | None) -> Iterator[Resource | Notification]:
        if posture.get("missing"):
            return
        uri = f"s3://{bucket}"
        per_prefix: dict[str, int] = {}
        listed = sampled = beyond = archived = 0
        prefix = self.prefix if self.bucket else ""
        client = self.client("s3", region)
        try:
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": self.page_size})
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"]
                    listed += 1
                    if key.endswith("/") or not item.get("Size"):
                        continue
                    if self.options.include and not _glob_match(key, self.options.include):
                        continue
                    if self.options.exclude and _glob_match(key, self.options.exclude):
                        continue
                    if key.count("/") > self.options.max_depth:
                        continue
                    if item.get("StorageClass") in ARCHIVED_CLASSES:
                        archived += 1
                        continue
                    folder = key.rsplit("/", 1)[0] if "/" in key else ""
                    if per_prefix.get(folder, 0) >= self.max_per_prefix or sampled >= self.max_per_bucket:
                        beyond += 1
                        continue
                    per_prefix[folder] = per_prefix.get(folder, 0) + 1
                    sampled += 1
                    yield self._object_resource(bucket, key, item, posture, region)
        except Exception as exc:  # the paginator raises botocore errors directly
            if _unreachable(exc):  # listing is essential: an S3 that cannot be reached fails the target
                raise ReadError(f"{self.endpoint_url or 'S3'} cannot be used: {exc}", kind="unreachable") from None
            yield self._notify(_classify(exc), "s3", "ListObjectsV2", f"The object list of bucket {bucket}", uri)
        posture["objects_listed"] = listed
        posture["objects_sampled"] = sampled
        if beyond:
            yield Notification(
                f"Bucket {bucket}: {beyond} objects were not sampled (limit {self.max_per_prefix} per prefix, "
                f"{self.max_per_bucket} per bucket).",
                uri, level=Level.NOTE, kind="limit",
            )
        if archived:
            yield Notification(
                f"Bucket {bucket}: {archived} objects in archive storage classes (Glacier, Deep Archive) were not "
                "read.", uri, level=Level.NOTE, kind="archived",
            )

    def _object_resource(self, bucket: str, key: str, item: Mapping[str, Any], posture: Mapping[str, Any],
                         region: str | None) -> Resource:
        etag = str(item.get("ETag", "")).strip('"')
        modified = item.get("LastModified")
        size = int(item.get("Size") or 0)
        acls_enabled = posture.get("acls_enabled") is not False
        ignore_public_acls = bool(posture.get("effective_bpa", {}).get("IgnorePublicAcls"))
        metadata: dict[str, Any] = {
            "bucket": bucket,
            "key": key,
            "etag": etag,
            "storage_class": item.get("StorageClass"),
            "region": region,
            "acls_enabled": acls_enabled,
            "ignore_public_acls": ignore_public_acls,
        }
        if etag:
            metadata["change"] = self._change(etag, size, item, acls_enabled, ignore_public_acls)
        return Resource(
            uri=object_uri(bucket, key),
            kind="object",
            display_name=f"s3://{bucket}/{key}",
            connector=self.name,
            root_uri=f"s3://{bucket}/",
            relative_path=key,
            size=size,
            mtime=modified.timestamp() if isinstance(modified, dt.datetime) else None,
            metadata=metadata,
        )

    def _change(self, etag: str, size: int, item: Mapping[str, Any], acls_enabled: bool,
                ignore_public_acls: bool) -> tuple[Any, ...]:
        """What says an object's scan still holds (:func:`scanner.state.change_key`), never its key (the state
        hashes the URI): the version — ETag (the content's digest, or the parts' for a multipart upload), size,
        LastModified (an in-place copy that only changes encryption keeps the ETag of SSE-S3 objects) and the
        VersionId when the listing gives one (``ListObjectsV2`` on AWS does not) — and what decided how it was
        read and judged: the sample caps (a carried sample must be the one reading it now would take), whether
        the bucket's ACLs count and whether Block Public Access ignores public ACLs (the object fact's
        ``acl_public_effective``; those are read every run with the bucket's posture). An object's own ACL can
        change without a new version: it is carried from the run that read the object (until it changes)."""
        modified = item.get("LastModified")
        stamp = modified.isoformat() if isinstance(modified, dt.datetime) else str(modified or "")
        return ("s3", etag, size, stamp, item.get("VersionId") or "", self.max_object_bytes, self.max_zip_bytes,
                int(acls_enabled), int(ignore_public_acls))

    # -- content --------------------------------------------------------------------------------

    def read(self, resource: Resource, part: WorkPart | None = None) -> Iterator[Chunk]:
        yield from self._read(resource, {})

    def _read(self, resource: Resource, info: dict[str, Any]) -> Iterator[Chunk]:
        bucket, key = resource.metadata["bucket"], resource.metadata["key"]
        size = resource.size or 0
        is_zip = key.lower().endswith(".zip")
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if resource.metadata.get("etag"):
            params["IfMatch"] = f'"{resource.metadata["etag"]}"'
        truncated = False
        if is_zip:
            if size > self.max_zip_bytes:
                raise ContentSkipped("too-large")
        elif size > self.max_object_bytes:
            params["Range"] = f"bytes=0-{self.max_object_bytes - 1}"
            truncated = True
        try:
            response = self._call("s3", "GetObject", "get_object", resource.metadata.get("region"), **params)
        except _CallFailed as exc:
            if exc.status == "denied":
                hint = "kms:Decrypt on the object's KMS key" if "kms" in str(exc).lower() else "s3:GetObject"
                raise ReadError(f"access denied ({exc.code}); grant {hint} to scan it", kind="permission") from None
            if exc.status == "missing" or exc.code == "PreconditionFailed":
                raise ReadError("the object changed or was deleted during the scan", kind="vanished") from None
            if exc.code == "InvalidObjectState":
                raise ContentSkipped("archived") from None
            raise ReadError(f"GetObject failed ({exc.code or exc})", kind="throttled" if exc.status == "throttled"
                            else "unreadable") from None
        info["encryption"] = object_encryption_label(response.get("ServerSideEncryption"))
        info["kms_key"] = response.get("SSEKMSKeyId")
        info["truncated"] = truncated
        body = response["Body"]
        try:
            data = body.read()
        finally:
            body.close()
        info["bytes_read"] = len(data)
        if is_zip:
            yield from zip_chunks(io.BytesIO(data), key)
        else:
            yield from self._sample_chunks(io.BytesIO(data), key, truncated, info)

    def _sample_chunks(self, raw: io.BytesIO, key: str, truncated: bool, info: dict[str, Any]) -> Iterator[Chunk]:
        """Decode a sample as the file connector decodes a file, its decompressed size capped at the sample size."""
        stream, inner = _decompressing(raw, key, DecompressionLimits.of(self.options))
        if not isinstance(stream, CappedStream):  # not compressed
            yield from _chunks(stream, inner)
            return
        sample = _ExpandedSample(TruncatedTolerant(stream) if truncated else stream, self.max_object_bytes)
        yield from _chunks(io.BufferedReader(sample), inner, nested=True)
        if sample.cut:
            info["expanded_cut"] = self.max_object_bytes

    def scan_resource(self, resource: Resource, detector: Any, part: WorkPart | None = None) -> ResourceScan:
        """Read one sampled object and add its object-level facts (an unchanged one is carried by ``--state``
        before it gets here: :mod:`scanner.state`)."""
        scan = ResourceScan(resource=resource)
        info: dict[str, Any] = {}
        if not detect_chunks(scan, self._read(resource, info), detector):
            return scan
        if info.get("expanded_cut"):
            scan.notifications.append(Notification(
                f"{resource.display_name}: compressed; only the first {info['expanded_cut']} decompressed bytes were "
                "scanned, the rest was not (the sample size, s3_max_object_bytes, caps decompressed bytes too).",
                resource.uri, level=Level.NOTE, kind="limit"))
        scan.items_examined = 1
        object_fact: dict[str, Any] = {
            "bucket": resource.metadata["bucket"],
            "key": resource.metadata["key"],
            "encryption": info.get("encryption"),
            "kms_key": info.get("kms_key"),
            "truncated": bool(info.get("truncated") or info.get("expanded_cut")),
        }
        if scan.occurrences and resource.metadata.get("acls_enabled"):
            object_fact.update(self._object_acl(resource, scan))
        scan.facts.append(ObjectPosture.from_record(resource.uri, object_fact))
        return scan

    def _object_acl(self, resource: Resource, scan: ResourceScan) -> dict[str, Any]:
        """Public grants on the object itself (only worth a call when it holds personal data)."""
        try:
            acl = self._call("s3", "GetObjectAcl", "get_object_acl", resource.metadata.get("region"),
                             Bucket=resource.metadata["bucket"], Key=resource.metadata["key"])
        except _CallFailed as exc:
            scan.notifications.append(self._notify(exc, "s3", "GetObjectAcl", f"The ACL of {resource.display_name}",
                                                   resource.uri))
            return {"acl_public": None}
        public = acl_public_permissions(acl.get("Grants", []))
        return {
            "acl_public": public,
            "acl_public_effective": bool(public) and not resource.metadata.get("ignore_public_acls"),
        }

    def close(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()



def _block_public_access(account_bpa: dict[str, bool] | None, answer: Any) -> dict[str, Any]:
    """The bucket's Block Public Access (all off when it has none; None when it could not be read) and
    the effective combination with the account's (S3 applies the most restrictive)."""
    if answer:
        bucket_bpa = {k: bool(v) for k, v in answer.get("PublicAccessBlockConfiguration", {}).items()}
    else:
        bucket_bpa = dict.fromkeys(_BPA_FLAGS, False) if answer is None else None
    return {"bucket_bpa": bucket_bpa, "effective_bpa": combine_bpa(account_bpa, bucket_bpa)}


def _ownership(answer: Any) -> dict[str, Any]:
    """Object Ownership, and whether ACLs count (everything but BucketOwnerEnforced; unknown when unread)."""
    owner_setting = None
    if answer:
        rules = answer.get("OwnershipControls", {}).get("Rules", [])
        owner_setting = rules[0].get("ObjectOwnership") if rules else None
    elif answer is None:
        owner_setting = "ObjectWriter"  # no ownership controls: the pre-2023 default, ACLs enabled
    acls_enabled = owner_setting != "BucketOwnerEnforced"
    return {"object_ownership": owner_setting, "acls_enabled": acls_enabled if owner_setting is not None else None}


def _exposure(posture: dict[str, Any], acl: Any, analysis: dict[str, Any]) -> dict[str, Any]:
    """Public through an ACL grant (when ACLs count and BPA does not ignore them) or a policy statement
    (unless BPA restricts public buckets), each way named; other accounts the bucket is shared with."""
    effective, acls_enabled = posture["effective_bpa"], posture["acls_enabled"] is not False
    acl_public: list[str] = []
    acl_shared: list[str] = []
    if acl:
        grants = acl.get("Grants", [])
        acl_public = acl_public_permissions(grants)
        acl_shared = acl_other_grantees(grants, acl.get("Owner", {}).get("ID"))
    acl_effective = bool(acl_public) and acls_enabled and not effective["IgnorePublicAcls"]
    policy_effective = bool(analysis["public"]) and not effective["RestrictPublicBuckets"]
    public_via = [f"ACL grant {g}" for g in acl_public] if acl_effective else []
    public_via += [f"policy statement {s}" for s in analysis["public"]] if policy_effective else []
    cross: dict[str, list[str]] = {}
    if not (analysis["public"] and effective["RestrictPublicBuckets"]):
        for account, labels in analysis["cross_account"].items():
            cross.setdefault(account, []).extend(f"policy statement {s}" for s in labels)
    if acls_enabled:
        for grantee in acl_shared:
            cross.setdefault(grantee, []).append("ACL grant")
    return {
        "acl_public": acl_public, "acl_public_effective": acl_effective,
        "policy_public": analysis["public"], "policy_restricted": analysis["restricted"],
        "policy_organizations": analysis["organizations"], "policy_public_effective": policy_effective,
        "public": acl_effective or policy_effective, "public_via": public_via,
        "cross_account": {k: sorted(set(v)) for k, v in sorted(cross.items())},
    }


def _default_encryption(answer: Any) -> dict[str, Any]:
    if answer is False:
        return {"encryption": "unknown", "kms_key": None}
    if answer is None:
        return {"encryption": "none", "kms_key": None}
    encryption, key = encryption_label(answer.get("ServerSideEncryptionConfiguration", {}).get("Rules", []))
    return {"encryption": encryption, "kms_key": key}
