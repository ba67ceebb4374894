"""Recording boto3 calls through botocore's event system, on each driver's client.

``before-parameter-build`` sees the caller's parameters (before serialisation) and is where
the call starts; ``after-call`` has the parsed answer (the request id, the error code of a
4xx/5xx), ``after-call-error`` a call that got no answer. Retries happen between the two, so
one recorded call is one API call as the driver made it, its duration including retries.
"""

from __future__ import annotations

import time
from typing import Any

from drillbook.harness.calls.params import aws_params
from drillbook.harness.calls.scope import current, now_iso, record

_STATE = "drillbook_call"
#: S3 operations whose IAM action has another name (the rest are ``s3:<Operation>``).
_S3_ACTIONS = {
    "HeadObject": "GetObject",
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListBuckets": "ListAllMyBuckets",
    "DeleteObjects": "DeleteObject",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
}


def iam_action(service: str, operation: str) -> str:
    """The IAM action an operation needs: ``rds:StopDBInstance``, ``s3:ListBucket`` for
    ListObjectsV2. RDS, Route 53 and Secrets Manager name their actions after the operations."""
    if service == "s3":
        return f"s3:{_S3_ACTIONS.get(operation, operation)}"
    return f"{service}:{operation}"


def instrument(client: Any) -> Any:
    """Record every call ``client`` makes while a call scope is open; returns the client."""
    service = str(client.meta.service_model.service_name)
    events = client.meta.events
    events.register("before-parameter-build", _started, unique_id="drillbook-calls-start")
    events.register("after-call", _finished(service), unique_id="drillbook-calls-done")
    events.register("after-call-error", _failed(service), unique_id="drillbook-calls-error")
    return client


class _Started(tuple[Any, ...]):
    """(recorder, monotonic start, start time, operation, parameters), kept in the request's
    context. Copied as itself: botocore deep-copies the whole request, context included, to
    presign a cross-region call (CreateDBInstanceReadReplica with SourceRegion), and the
    recorder holds a lock."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Started:
        return self


def _started(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    target = current()
    if target is not None:
        context[_STATE] = _Started((target, time.monotonic(), now_iso(), str(model.name), aws_params(params)))


def _finished(service: str) -> Any:
    def handler(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        state = context.pop(_STATE, None)
        if state is None:
            return
        target, started, at, operation, params = state
        meta = parsed.get("ResponseMetadata") or {}
        status = int(getattr(http_response, "status_code", 0) or meta.get("HTTPStatusCode") or 0)
        error = parsed.get("Error") or {}
        outcome = "ok" if status < 300 else str(error.get("Code") or status)
        record(target, service=service, operation=operation, permission=iam_action(service, operation),
               params=params, started=started, at=at, outcome=outcome,
               request_id=_request_id(meta))

    return handler


def _failed(service: str) -> Any:
    def handler(exception: BaseException, context: dict[str, Any], **_: Any) -> None:
        state = context.pop(_STATE, None)
        if state is None:
            return
        target, started, at, operation, params = state
        record(target, service=service, operation=operation, permission=iam_action(service, operation),
               params=params, started=started, at=at, outcome=type(exception).__name__, request_id=None)

    return handler


def _request_id(meta: dict[str, Any]) -> str | None:
    headers = meta.get("HTTPHeaders") or {}
    value = meta.get("RequestId") or headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
    return str(value) if value else None
