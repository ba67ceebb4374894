"""S3 for evidence and backups: uploads always encrypted at rest (SSE-S3 or SSE-KMS), with
S3's own SHA-256 check of the body, and under object lock when configured, so that a
drill's evidence cannot be altered or deleted before its retention ends.

The ``object_store`` role of a staging environment
(:class:`~drillbook.harness.environments.base.ObjectStoreRole`).
"""

from __future__ import annotations

import base64
import builtins
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drillbook.harness.calls.declared import AwsActions, declare
from drillbook.harness.environments.staging.aws.client import aws_call, client
from drillbook.harness.environments.staging.aws.errors import AwsNotFound
from drillbook.harness.environments.staging.settings import ObjectStoreSettings

CALLS = declare(
    __name__,
    "write evidence with SSE (and object lock), read it back, list it; check the bucket and its lock",
    aws=AwsActions(
        "s3",
        # IAM names: HeadObject is s3:GetObject, ListObjectsV2 and HeadBucket are s3:ListBucket.
        ("PutObject", "GetObject", "ListBucket", "GetBucketObjectLockConfiguration"),
        implied=(("PutObjectRetention", "evidence written with an object lock retention date is also "
                  "authorised as s3:PutObjectRetention"),),
    ),
)


@dataclass(frozen=True)
class Evidence:
    bucket: str
    key: str
    sha256: str
    size: int
    etag: str | None
    version_id: str | None
    sse: str | None
    kms_key_id: str | None
    lock_mode: str | None
    retain_until: datetime | None


class S3Store:
    def __init__(self, settings: ObjectStoreSettings, *, where: str = "[object_store]") -> None:
        self.settings = settings
        self.where = where
        self.api = client(settings.aws, "s3")

    def _call(self, what: str, bucket: str, fn: Any, **kwargs: Any) -> Any:
        hints = {
            "NoSuchBucket": f"no S3 bucket {bucket!r}: check {self.where} bucket",
            "AwsAccessDenied": f"the AWS credentials may not use bucket {bucket!r}: grant s3:PutObject, "
            "s3:GetObject, s3:ListBucket (and s3:PutObjectRetention for object lock)",
        }
        return aws_call(what, fn, hints=hints, **kwargs)

    def _sse(self, sse: bool) -> dict[str, str]:
        if not sse:
            return {}
        if self.settings.sse == "aws:kms":
            out = {"ServerSideEncryption": "aws:kms"}
            if self.settings.kms_key_id:
                out["SSEKMSKeyId"] = self.settings.kms_key_id
            return out
        return {"ServerSideEncryption": "AES256"}

    def default_bucket(self) -> str:
        return self.settings.bucket

    def put(self, bucket: str, key: str, body: bytes, *, sse: bool = True) -> dict[str, Any]:
        """The :class:`ObjectStoreRole` call."""
        out = self._call(
            f"put s3://{bucket}/{key}",
            bucket,
            self.api.put_object,
            Bucket=bucket,
            Key=key,
            Body=body,
            **self._sse(sse),
        )
        return {
            "etag": out.get("ETag"),
            "version_id": out.get("VersionId"),
            "sse": out.get("ServerSideEncryption"),
        }

    def upload_evidence(self, name: str, body: bytes | Path, *, retain_days: int | None = None) -> Evidence:
        """Upload under the configured bucket and prefix, SSE always on, S3 checking the SHA-256,
        and locked for ``retain_days`` (default: object_lock_days) when object lock is configured."""
        data = body.read_bytes() if isinstance(body, Path) else body
        digest = hashlib.sha256(data)
        bucket, key = self.settings.bucket, self.settings.prefix + name
        kwargs: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "Body": data,
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": base64.b64encode(digest.digest()).decode(),
            "Metadata": {"sha256": digest.hexdigest()},
            **self._sse(True),
        }
        days = retain_days if retain_days is not None else self.settings.object_lock_days
        retain_until: datetime | None = None
        if self.settings.object_lock_mode and days:
            retain_until = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
            kwargs["ObjectLockMode"] = self.settings.object_lock_mode
            kwargs["ObjectLockRetainUntilDate"] = retain_until
        out = self._call(f"upload evidence to s3://{bucket}/{key}", bucket, self.api.put_object, **kwargs)
        return Evidence(
            bucket,
            key,
            digest.hexdigest(),
            len(data),
            out.get("ETag"),
            out.get("VersionId"),
            out.get("ServerSideEncryption"),
            out.get("SSEKMSKeyId"),
            self.settings.object_lock_mode if retain_until else None,
            retain_until,
        )

    def head(self, bucket: str, key: str) -> dict[str, Any]:
        out = self._call(f"head s3://{bucket}/{key}", bucket, self.api.head_object, Bucket=bucket, Key=key)
        return dict(out)

    def get(self, bucket: str, key: str) -> bytes:
        out = self._call(f"get s3://{bucket}/{key}", bucket, self.api.get_object, Bucket=bucket, Key=key)
        return bytes(out["Body"].read())

    def list(self, bucket: str, prefix: str = "") -> builtins.list[str]:
        keys: builtins.list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            out = self._call(f"list s3://{bucket}/{prefix}", bucket, self.api.list_objects_v2, **kwargs)
            keys += [item["Key"] for item in out.get("Contents", [])]
            token = out.get("NextContinuationToken")
            if not token:
                return keys

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self._call(f"head bucket {bucket}", bucket, self.api.head_bucket, Bucket=bucket)
        except AwsNotFound:
            return False
        return True

    def object_lock_enabled(self, bucket: str) -> bool:
        try:
            out = self._call(
                f"object lock of {bucket}", bucket, self.api.get_object_lock_configuration, Bucket=bucket
            )
        except AwsNotFound:
            return False
        return bool(out.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled")
