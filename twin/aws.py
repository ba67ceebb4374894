"""The ``object_store``, ``dns`` and ``secrets`` roles over boto3 (S3, Route 53, Secrets Manager).

The same drivers talk to moto's server (``endpoint_url`` set, dummy credentials)
or to AWS (``endpoint_url`` None, the usual credential chain). Every client has
connect and read timeouts and a bounded number of attempts.
"""

from __future__ import annotations

import builtins
import functools
import ipaddress
from dataclasses import dataclass
from typing import Any

from drillbook.harness.calls.aws import instrument
from drillbook.harness.errors import DrillbookError
from drillbook.harness.polling import WaitTimeout, wait_until
from drillbook.harness.redact import register_secret


class AwsError(DrillbookError):
    pass


@dataclass(frozen=True)
class AwsEndpoint:
    url: str | None = None
    region: str = "us-east-1"
    connect_timeout: float = 2.0
    read_timeout: float = 10.0
    max_attempts: int = 3

    def client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
                        retries={"max_attempts": self.max_attempts, "mode": "standard"})
        if self.url is None:
            return instrument(boto3.client(service, region_name=self.region, config=config))
        # moto accepts any credentials; never pick up the machine's real ones.
        return instrument(_twin_session().client(
            service, endpoint_url=self.url, region_name=self.region, config=config,
            aws_access_key_id="testing", aws_secret_access_key="testing"))


@functools.cache
def _twin_session() -> Any:
    """A boto3 session for the twin's endpoint that reads no AWS_PROFILE: a developer's profile
    (which the exported AWS_CONFIG_FILE of ``env shell`` does not hold) has no say on the twin."""
    import boto3
    import botocore.session

    return boto3.session.Session(botocore_session=botocore.session.Session(
        session_vars={"profile": (None, None, None, None)}))


def call(what: str, fn: Any, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(**kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "?")
        raise AwsError(f"{what}: {code}: {exc}") from exc
    except BotoCoreError as exc:
        raise AwsError(f"{what}: {exc}") from exc


class S3ObjectStore:
    """The ``object_store`` role: buckets for backups and evidence."""

    def __init__(self, endpoint: AwsEndpoint, *, bucket: str | None = None) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self._s3 = endpoint.client("s3")

    def default_bucket(self) -> str:
        """The evidence bucket (the platform's, unless one is given)."""
        if self.bucket:
            return self.bucket
        from drillbook.twin.aws_platform import PlatformAws

        return PlatformAws().evidence_bucket

    def put(self, bucket: str, key: str, body: bytes, *, sse: bool = True) -> dict[str, Any]:
        extra = {"ServerSideEncryption": "AES256"} if sse else {}
        out = call(f"put s3://{bucket}/{key}", self._s3.put_object, Bucket=bucket, Key=key, Body=body,
                   **extra)
        return {"etag": out.get("ETag"), "version_id": out.get("VersionId"),
                "sse": out.get("ServerSideEncryption")}

    def get(self, bucket: str, key: str) -> bytes:
        out = call(f"get s3://{bucket}/{key}", self._s3.get_object, Bucket=bucket, Key=key)
        return bytes(out["Body"].read())

    def list(self, bucket: str, prefix: str = "") -> builtins.list[str]:
        keys: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            out = call(f"list s3://{bucket}/{prefix}", self._s3.list_objects_v2, **kwargs)
            keys += [item["Key"] for item in out.get("Contents", [])]
            token = out.get("NextContinuationToken")
            if not token:
                return keys

    def create_bucket(self, bucket: str, *, versioned: bool = True) -> None:
        call(f"create bucket {bucket}", self._s3.create_bucket, Bucket=bucket)
        if versioned:
            call(f"versioning of {bucket}", self._s3.put_bucket_versioning, Bucket=bucket,
                  VersioningConfiguration={"Status": "Enabled"})

    def buckets(self) -> builtins.list[str]:
        return [b["Name"] for b in call("list buckets", self._s3.list_buckets).get("Buckets", [])]

    def versioning(self, bucket: str) -> str | None:
        status = call(f"versioning of {bucket}", self._s3.get_bucket_versioning, Bucket=bucket).get("Status")
        return None if status is None else str(status)


class Route53Dns:
    """The ``dns`` role: records in Route 53 hosted zones (CNAME for names, A for addresses)."""

    def __init__(self, endpoint: AwsEndpoint, *, ttl: int = 60, record: str | None = None,
                 dr_target: str | None = None) -> None:
        self.endpoint = endpoint
        self.ttl = ttl
        #: The API's record and what it points at after a DR failover (the platform's names).
        self.record = record
        self.dr_target = dr_target
        self._r53 = endpoint.client("route53")

    def create_zone(self, domain: str, *, reference: str, comment: str = "") -> str:
        """A public hosted zone for ``domain``; its id."""
        out = call(f"create zone {domain}", self._r53.create_hosted_zone, Name=domain,
                    CallerReference=reference, HostedZoneConfig={"Comment": comment, "PrivateZone": False})
        return str(out["HostedZone"]["Id"]).rsplit("/", 1)[-1]

    def zone_id(self, name: str) -> str:
        """The hosted zone holding ``name`` (the longest matching zone name)."""
        fqdn = _fqdn(name)
        zones = call("list hosted zones", self._r53.list_hosted_zones).get("HostedZones", [])
        matching = [z for z in zones if fqdn == z["Name"] or fqdn.endswith("." + z["Name"])]
        if not matching:
            raise AwsError(f"no Route 53 hosted zone holds {name}; zones: "
                           + (", ".join(z["Name"] for z in zones) or "none"))
        best = max(matching, key=lambda z: len(z["Name"]))
        return str(best["Id"]).rsplit("/", 1)[-1]

    def upsert(self, name: str, value: str, *, wait: bool = True, timeout: float = 300.0) -> None:
        record_type = _record_type(value)
        change = {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": _fqdn(name), "Type": record_type, "TTL": self.ttl,
            "ResourceRecords": [{"Value": value}]}}
        out = call(f"UPSERT {name}", self._r53.change_resource_record_sets,
                    HostedZoneId=self.zone_id(name), ChangeBatch={"Changes": [change]})
        if wait:
            self._wait_insync(out["ChangeInfo"]["Id"], timeout)

    def _wait_insync(self, change_id: str, timeout: float) -> None:
        try:
            wait_until(lambda: call("get change", self._r53.get_change, Id=change_id)["ChangeInfo"]["Status"],
                       what=f"Route 53 change {change_id} in sync", timeout=timeout, interval=1.0,
                       until=lambda status: status == "INSYNC")
        except WaitTimeout as exc:
            raise AwsError(f"Route 53 change {change_id} still {exc.last_state} "
                           f"after {timeout:.0f}s") from None

    def resolve(self, name: str) -> str | None:
        fqdn = _fqdn(name)
        out = call(f"resolve {name}", self._r53.list_resource_record_sets,
                    HostedZoneId=self.zone_id(name), StartRecordName=fqdn, MaxItems="10")
        for record in out.get("ResourceRecordSets", []):
            if record["Name"] == fqdn and record["Type"] in ("A", "AAAA", "CNAME"):
                values = record.get("ResourceRecords") or []
                if values:
                    return str(values[0]["Value"])
                alias = record.get("AliasTarget")
                if alias:
                    return str(alias["DNSName"]).rstrip(".")
        return None


class SecretsManagerSecrets:
    """The ``secrets`` role. Values read are registered for redaction."""

    def __init__(self, endpoint: AwsEndpoint) -> None:
        self.endpoint = endpoint
        self._sm = endpoint.client("secretsmanager")

    def get(self, secret_id: str) -> str:
        out = call(f"get secret {secret_id}", self._sm.get_secret_value, SecretId=secret_id)
        value = str(out["SecretString"])
        register_secret(value)
        return value

    def put(self, secret_id: str, value: str) -> None:
        register_secret(value)
        call(f"put secret {secret_id}", self._sm.put_secret_value, SecretId=secret_id, SecretString=value)

    def create(self, secret_id: str, value: str, description: str = "") -> None:
        register_secret(value)
        call(f"create secret {secret_id}", self._sm.create_secret, Name=secret_id, SecretString=value,
              Description=description)

    def ids(self) -> list[str]:
        out = call("list secrets", self._sm.list_secrets, MaxResults=100)
        return [s["Name"] for s in out.get("SecretList", [])]


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def _record_type(value: str) -> str:
    try:
        return "AAAA" if ipaddress.ip_address(value).version == 6 else "A"
    except ValueError:
        return "CNAME"
