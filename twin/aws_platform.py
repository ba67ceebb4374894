"""The reference platform's AWS resources, created in moto at every start.

S3 buckets (file storage, backups, security evidence; versioning on), the
Route 53 hosted zone with the API record pointing at the primary region's load
balancer, and the Secrets Manager secrets the service reads at start (JWT
secret, database password, encryption key). Secret values are generated here
and exist only in moto (and, for the database password, as a SCRAM verifier in
PostgreSQL): the state file holds their ids.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from drillbook.twin.aws import (
    AwsEndpoint,
    Route53Dns,
    S3ObjectStore,
    SecretsManagerSecrets,
)


@dataclass(frozen=True)
class PlatformAws:
    domain: str = "compliant.example"
    files_bucket: str = "compliant-production"
    backups_bucket: str = "compliant-production-backups"
    evidence_bucket: str = "compliant-security-evidence"
    jwt_secret_id: str = "compliant/production/jwt-secret"
    db_password_secret_id: str = "compliant/production/db-password"
    encryption_key_secret_id: str = "compliant/production/encryption-key"
    #: The load balancers the API record may point at (the front door's pools).
    primary_target: str = "api-primary.us-east-1.elb.amazonaws.com"
    dr_target: str = "api-dr.us-west-2.elb.amazonaws.com"
    #: The regions of the DR procedures, and their RDS instances (the twin's RDS API).
    region: str = "us-east-1"
    dr_region: str = "us-west-2"
    primary_instance: str = "compliant-prod"
    replica_instance: str = "compliant-prod-replica-west"

    @property
    def api_record(self) -> str:
        return f"api.{self.domain}"

    @property
    def buckets(self) -> tuple[str, ...]:
        return (self.files_bucket, self.backups_bucket, self.evidence_bucket)

    @property
    def secret_ids(self) -> tuple[str, ...]:
        return (self.jwt_secret_id, self.db_password_secret_id, self.encryption_key_secret_id)


def secret_values(platform: PlatformAws) -> dict[str, str]:
    """Fresh values of the platform's secrets, by secret id (for :func:`bootstrap`)."""
    return {platform.jwt_secret_id: secrets.token_urlsafe(32),
            platform.db_password_secret_id: secrets.token_urlsafe(24),
            platform.encryption_key_secret_id: base64.b64encode(secrets.token_bytes(32)).decode()}


def bootstrap(endpoint: AwsEndpoint, platform: PlatformAws, values: dict[str, str] | None = None) -> str:
    """Create the buckets, zone, API record and secrets (``values``, by id: fresh ones when not
    given); the hosted zone id."""
    values = values if values is not None else secret_values(platform)
    store = S3ObjectStore(endpoint)
    for bucket in platform.buckets:
        store.create_bucket(bucket, versioned=True)
    dns = Route53Dns(endpoint)
    zone_id = dns.create_zone(platform.domain, reference=f"drillbook-{secrets.token_hex(8)}",
                              comment="drillbook local environment")
    dns.upsert(platform.api_record, platform.primary_target, wait=True, timeout=30)
    vault = SecretsManagerSecrets(endpoint)
    vault.create(platform.jwt_secret_id, values[platform.jwt_secret_id], "JWT signing secret")
    vault.create(platform.db_password_secret_id, values[platform.db_password_secret_id],
                 "password of compliant_app")
    vault.create(platform.encryption_key_secret_id, values[platform.encryption_key_secret_id],
                 "data encryption key")
    return zone_id
