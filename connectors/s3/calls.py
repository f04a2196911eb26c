"""The S3 API calls the connector may make, the IAM action each needs, and what a failed call means
(denied, throttled, unsupported, absent, missing or an error), so a failure of one optional call is one
notification naming the permission while the scan goes on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OPERATION_PERMISSIONS: dict[tuple[str, str], str] = {
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

#: Observers of every API call (``(service, operation)``), e.g. the permission test or an audit
#: log. Called in the process that makes the call.
API_CALL_OBSERVERS: list[Callable[[str, str], None]] = []

_DENIED = {"AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidAccessKeyId", "SignatureDoesNotMatch",
           "UnauthorizedOperation", "AccessDeniedException", "InvalidToken", "ExpiredToken"}
_THROTTLED = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
              "RequestThrottled", "ServiceUnavailable", "503"}
_UNSUPPORTED = {"NotImplemented", "MethodNotAllowed", "XNotImplemented", "501", "405", "UnsupportedOperation"}
_ABSENT = {
    "NoSuchBucketPolicy",
    "NoSuchPublicAccessBlockConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "OwnershipControlsNotFoundError",
    "NoSuchOwnershipControls",
}


class _CallFailed(Exception):
    def __init__(self, status: str, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code



def _unreachable(exc: Exception) -> bool:
    """A failure to connect or to find credentials (as opposed to an answer from S3)."""
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    return isinstance(exc, EndpointConnectionError | ConnectTimeoutError | NoCredentialsError | PartialCredentialsError)


def _classify(exc: Exception) -> _CallFailed:
    from botocore.exceptions import ClientError

    if isinstance(exc, _CallFailed):
        return exc
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = ("denied" if code in _DENIED else "throttled" if code in _THROTTLED
                  else "missing" if code == "NoSuchBucket" else "error")
        return _CallFailed(status, code, str(exc))
    return _CallFailed("error", type(exc).__name__, str(exc))


def _observe_call(model: Any, **_: Any) -> None:
    if API_CALL_OBSERVERS:
        service = model.service_model.service_name
        for observer in list(API_CALL_OBSERVERS):
            observer(service, model.name)
