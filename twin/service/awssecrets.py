"""Read one secret from AWS Secrets Manager (or moto) with the standard library.

A replica fetches its secrets once, at start. boto3 costs more than half a
second of import and client set-up per process, which would dominate every
replica (re)start the drills measure, so this module speaks the one call it
needs, ``GetSecretValue``, directly: the JSON 1.1 protocol signed with AWS
Signature Version 4, exactly as botocore signs it (tests compare the two).
Credentials, region and endpoint come from the usual variables
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``,
``AWS_REGION`` / ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

SERVICE = "secretsmanager"
TARGET = "secretsmanager.GetSecretValue"
CONTENT_TYPE = "application/x-amz-json-1.1"


class SecretError(Exception):
    """A secret could not be read; the message names the secret id, never its value."""


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


@dataclass(frozen=True)
class SecretsClient:
    region: str
    credentials: Credentials
    endpoint: str | None = None
    timeout: float = 3.0

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, timeout: float = 3.0) -> SecretsClient:
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        credentials = Credentials(
            env.get("AWS_ACCESS_KEY_ID", ""), env.get("AWS_SECRET_ACCESS_KEY", ""),
            env.get("AWS_SESSION_TOKEN") or None,
        )
        endpoint = env.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or env.get("AWS_ENDPOINT_URL") or None
        return cls(region, credentials, endpoint, timeout)

    @property
    def url(self) -> str:
        return self.endpoint or f"https://{SERVICE}.{self.region}.amazonaws.com"

    def get(self, secret_id: str) -> str:
        """The current ``SecretString`` of ``secret_id``."""
        body = json.dumps({"SecretId": secret_id}).encode()
        headers = sign(
            "POST", self.url, {"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET}, body,
            credentials=self.credentials, region=self.region, service=SERVICE,
        )
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            code, message = _aws_error(exc)
            raise SecretError(f"Secrets Manager refused {secret_id!r}: {code}: {message}") from exc
        except (OSError, ValueError) as exc:
            raise SecretError(f"cannot read secret {secret_id!r} from {self.url}: {exc}") from exc
        value = answer.get("SecretString")
        if not isinstance(value, str):
            raise SecretError(f"secret {secret_id!r} has no SecretString")
        return value


def sign(
    method: str, url: str, headers: Mapping[str, str], body: bytes, *,
    credentials: Credentials, region: str, service: str, now: datetime | None = None,
) -> dict[str, str]:
    """``headers`` plus ``Host``, ``X-Amz-Date`` and a SigV4 ``Authorization``."""
    moment = now or datetime.now(UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    parts = urllib.parse.urlsplit(url)
    signed = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items()}
    signed["host"] = parts.netloc
    signed["x-amz-date"] = amz_date
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    names = sorted(signed)
    canonical = "\n".join([
        method,
        urllib.parse.quote(parts.path or "/", safe="/~"),
        _canonical_query(parts.query),
        "".join(f"{name}:{signed[name]}\n" for name in names),
        ";".join(names),
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{credentials.secret_key}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = dict(headers)
    out["Host"] = parts.netloc
    out["X-Amz-Date"] = amz_date
    if credentials.token:
        out["X-Amz-Security-Token"] = credentials.token
    out["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out


def _canonical_query(query: str) -> str:
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(pairs)
    )


def _aws_error(exc: urllib.error.HTTPError) -> tuple[str, str]:
    try:
        payload = json.loads(exc.read() or b"{}")
    except ValueError:
        return str(exc.code), exc.reason or ""
    code = str(payload.get("__type", exc.code)).rsplit("#", 1)[-1]
    return code, str(payload.get("message") or payload.get("Message") or "")
