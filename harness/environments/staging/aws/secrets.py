"""Secrets Manager: read, put and rotate secrets. Every value read or written is registered
for redaction; records of what changed carry version ids, never values.

The ``secrets`` role of a staging environment (:class:`~drillbook.harness.environments.base.SecretsRole`).
"""

from __future__ import annotations

import secrets as token_source
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drillbook.harness.calls.declared import AwsActions, declare
from drillbook.harness.environments.staging.aws.client import aws_call, client
from drillbook.harness.environments.staging.settings import AwsSettings
from drillbook.harness.environments.staging.waiting import Progress, wait_until
from drillbook.harness.redact import register_secret

CALLS = declare(
    __name__,
    "read, write and rotate secrets (values are never journaled)",
    aws=AwsActions("secretsmanager", ("GetSecretValue", "PutSecretValue", "DescribeSecret", "RotateSecret")),
)


@dataclass(frozen=True)
class SecretInfo:
    id: str
    arn: str
    rotation_enabled: bool
    rotation_lambda: str | None
    current_version: str | None


@dataclass(frozen=True)
class Rotation:
    secret_id: str
    previous_version: str | None
    current_version: str
    #: "lambda" (Secrets Manager ran the rotation function) or "put" (a new value was written).
    method: str
    seconds: float


class SecretsManager:
    def __init__(
        self,
        aws: AwsSettings,
        *,
        where: str = "[secrets]",
        poll_interval: float = 5.0,
        progress: Progress | None = None,
    ) -> None:
        self.aws = aws
        self.where = where
        self.poll_interval = poll_interval
        self.progress = progress
        self.api = client(aws, "secretsmanager")

    def _call(self, what: str, secret_id: str, fn: Any, **kwargs: Any) -> Any:
        hints = {
            "AwsNotFound": f"no secret {secret_id!r} in Secrets Manager ({self.aws.region}): check the "
            f"secret id referenced in {self.where} (or the *_secret keys of this environment)",
            "AwsAccessDenied": f"the AWS credentials may not use secret {secret_id!r}: grant "
            "secretsmanager:GetSecretValue/PutSecretValue/RotateSecret on it",
        }
        return aws_call(what, fn, hints=hints, **kwargs)

    def get(self, secret_id: str) -> str:
        out = self._call(f"read secret {secret_id}", secret_id, self.api.get_secret_value, SecretId=secret_id)
        value = out.get("SecretString")
        if value is None:
            raise ValueError(f"secret {secret_id!r} holds binary data, not a string")
        register_secret(str(value))
        return str(value)

    def put(self, secret_id: str, value: str) -> None:
        self.put_version(secret_id, value)

    def put_version(self, secret_id: str, value: str) -> str:
        """Write a new current version; its version id."""
        register_secret(value)
        out = self._call(
            f"put secret {secret_id}",
            secret_id,
            self.api.put_secret_value,
            SecretId=secret_id,
            SecretString=value,
            ClientRequestToken=str(uuid.uuid4()),
        )
        return str(out["VersionId"])

    def describe(self, secret_id: str) -> SecretInfo:
        out = self._call(
            f"describe secret {secret_id}", secret_id, self.api.describe_secret, SecretId=secret_id
        )
        current = next(
            (
                version
                for version, stages in (out.get("VersionIdsToStages") or {}).items()
                if "AWSCURRENT" in stages
            ),
            None,
        )
        return SecretInfo(
            str(out.get("Name", secret_id)),
            str(out.get("ARN", "")),
            bool(out.get("RotationEnabled", False)),
            out.get("RotationLambdaARN") or None,
            current,
        )

    def rotate(
        self, secret_id: str, *, new_value: str | Callable[[], str] | None = None, timeout: float = 300.0
    ) -> Rotation:
        """Rotate now. With ``new_value`` (a value, or a function making one) that value becomes
        current; without it, a secret with a rotation function is rotated by Secrets Manager
        (RotateSecret) and we wait until AWSCURRENT moves; a secret without one gets a fresh
        random value."""
        started = time.monotonic()
        before = self.describe(secret_id)
        if new_value is None and before.rotation_lambda:
            self._call(
                f"rotate secret {secret_id}",
                secret_id,
                self.api.rotate_secret,
                SecretId=secret_id,
                RotateImmediately=True,
            )

            def poll() -> tuple[bool, str]:
                now = self.describe(secret_id).current_version
                return now is not None and now != before.current_version, f"AWSCURRENT={now}"

            wait_until(
                f"rotation of secret {secret_id}",
                poll,
                timeout=timeout,
                interval=self.poll_interval,
                progress=self.progress,
            )
            after = self.describe(secret_id).current_version or ""
            return Rotation(secret_id, before.current_version, after, "lambda", time.monotonic() - started)
        value = new_value() if callable(new_value) else new_value
        if value is None:
            value = token_source.token_urlsafe(32)
        version = self.put_version(secret_id, value)
        return Rotation(secret_id, before.current_version, version, "put", time.monotonic() - started)
