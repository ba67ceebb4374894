"""Route 53, Secrets Manager and S3 drivers against moto's server over HTTP."""

from __future__ import annotations

import hashlib
import time

import pytest

from drillbook.harness.environments.staging.aws.client import client
from drillbook.harness.environments.staging.aws.errors import AwsAccessDenied, AwsNotFound
from drillbook.harness.environments.staging.aws.route53 import Route53Records, record_type_for
from drillbook.harness.environments.staging.aws.s3 import S3Store
from drillbook.harness.environments.staging.aws.secrets import SecretsManager
from drillbook.harness.environments.staging.settings import AwsSettings, ObjectStoreSettings
from drillbook.harness.redact import redact_text

# -- Route 53 ----------------------------------------------------------------------------------


@pytest.fixture
def zone(aws: AwsSettings) -> str:
    out = client(aws, "route53").create_hosted_zone(
        Name="compliant.example", CallerReference=str(time.time())
    )
    return str(out["HostedZone"]["Id"])


def test_upsert_waits_until_insync_with_a_progress_line(aws: AwsSettings, zone: str) -> None:
    lines: list[str] = []
    records = Route53Records(aws, zone, ttl=30, poll_interval=0.05, progress=lines.append)
    change = records.change("UPSERT", "db.compliant.example", "primary.abc.eu-west-1.rds.amazonaws.com")
    assert change.status == "INSYNC" and change.insync_after_s is not None
    assert lines and "INSYNC" in lines[-1]
    record = records.get("db.compliant.example")
    assert record is not None and (record.type, record.values, record.ttl) == (
        "CNAME",
        ("primary.abc.eu-west-1.rds.amazonaws.com",),
        30,
    )
    records.upsert("db.compliant.example", "dr.abc.eu-central-1.rds.amazonaws.com")  # the failover
    assert records.resolve("db.compliant.example") == "dr.abc.eu-central-1.rds.amazonaws.com"
    assert records.zone_name() == "compliant.example."
    assert records.delete("db.compliant.example") and records.get("db.compliant.example") is None
    assert records.delete("db.compliant.example") is False


def test_a_records_for_addresses() -> None:
    assert record_type_for("10.0.0.5") == "A"
    assert record_type_for("2001:db8::1") == "AAAA"
    assert record_type_for("db.example.com") == "CNAME"


def test_missing_zone_names_the_key(aws: AwsSettings) -> None:
    records = Route53Records(aws, "/hostedzone/ZNOSUCHZONE", where="[environments.staging.dns]")
    with pytest.raises(
        AwsNotFound,
        match=r"no Route 53 hosted zone 'ZNOSUCHZONE': check "
        r"\[environments.staging.dns\] hosted_zone_id",
    ):
        records.upsert("a.compliant.example", "10.0.0.1")


def test_insync_wait_polls_at_least_once_on_a_tiny_budget(aws: AwsSettings, zone: str) -> None:
    records = Route53Records(aws, zone, poll_interval=0.05)
    change = records.change("UPSERT", "x.compliant.example", "10.0.0.9", wait=False)
    # moto reports INSYNC at once (the timeout path of the shared wait is tested with RDS).
    assert records.wait_insync(change, timeout=0.01).status == "INSYNC"


# -- Secrets Manager ---------------------------------------------------------------------------


@pytest.fixture
def secrets(aws: AwsSettings) -> SecretsManager:
    manager = SecretsManager(aws, poll_interval=0.05)
    manager.api.create_secret(Name="compliant/jwt", SecretString="jwt-before-rotation-1")
    return manager


def test_get_registers_the_value_for_redaction(secrets: SecretsManager) -> None:
    assert secrets.get("compliant/jwt") == "jwt-before-rotation-1"
    assert "jwt-before-rotation-1" not in redact_text("token is jwt-before-rotation-1")


def test_put_makes_a_new_current_version(secrets: SecretsManager) -> None:
    before = secrets.describe("compliant/jwt").current_version
    secrets.put("compliant/jwt", "jwt-put-by-drill-2")
    assert secrets.get("compliant/jwt") == "jwt-put-by-drill-2"
    assert secrets.describe("compliant/jwt").current_version != before
    assert "jwt-put-by-drill-2" not in redact_text("jwt-put-by-drill-2")


def test_rotate_without_a_function_writes_a_fresh_value(secrets: SecretsManager) -> None:
    rotation = secrets.rotate("compliant/jwt")
    assert rotation.method == "put" and rotation.previous_version != rotation.current_version
    new = secrets.get("compliant/jwt")
    assert new != "jwt-before-rotation-1" and len(new) >= 32
    assert secrets.rotate("compliant/jwt", new_value=lambda: "chosen-value-3").method == "put"
    assert secrets.get("compliant/jwt") == "chosen-value-3"


def test_missing_secret_names_where_it_is_referenced(aws: AwsSettings) -> None:
    manager = SecretsManager(aws, where="[environments.staging.secrets]")
    with pytest.raises(
        AwsNotFound,
        match=r"no secret 'nope' in Secrets Manager \(eu-west-1\): check the secret "
        r"id referenced in \[environments.staging.secrets\]",
    ):
        manager.get("nope")


# -- S3 ------------------------------------------------------------------------------------------


def _bucket(aws: AwsSettings, name: str, *, lock: bool) -> None:
    client(aws, "s3").create_bucket(
        Bucket=name,
        ObjectLockEnabledForBucket=lock,
        CreateBucketConfiguration={"LocationConstraint": aws.region},
    )


def test_evidence_upload_is_encrypted_checked_and_locked(aws: AwsSettings) -> None:
    _bucket(aws, "compliant-evidence", lock=True)
    store = S3Store(
        ObjectStoreSettings(
            aws=aws,
            bucket="compliant-evidence",
            prefix="drills/",
            object_lock_mode="GOVERNANCE",
            object_lock_days=30,
        )
    )
    evidence = store.upload_evidence("run-1/evidence.tar", b"the audit csv and logs")
    digest = hashlib.sha256(b"the audit csv and logs")
    assert evidence.key == "drills/run-1/evidence.tar" and evidence.sha256 == digest.hexdigest()
    assert evidence.sse == "AES256" and evidence.lock_mode == "GOVERNANCE" and evidence.retain_until
    head = store.head("compliant-evidence", evidence.key)
    assert head["ServerSideEncryption"] == "AES256" and head["ObjectLockMode"] == "GOVERNANCE"
    assert head["Metadata"]["sha256"] == digest.hexdigest()
    assert store.get("compliant-evidence", evidence.key) == b"the audit csv and logs"
    assert store.object_lock_enabled("compliant-evidence")
    with pytest.raises(Exception, match="AccessDenied"):  # locked: the version cannot be deleted
        store.api.delete_object(Bucket="compliant-evidence", Key=evidence.key, VersionId=evidence.version_id)


def test_kms_encryption_and_plain_put(aws: AwsSettings) -> None:
    _bucket(aws, "compliant-backups", lock=False)
    store = S3Store(ObjectStoreSettings(aws=aws, bucket="compliant-backups", sse="aws:kms"))
    assert store.put("compliant-backups", "dump.sql.gz", b"dump")["sse"] == "aws:kms"
    assert store.list("compliant-backups") == ["dump.sql.gz"]
    assert not store.object_lock_enabled("compliant-backups")
    assert store.upload_evidence("e.txt", b"x").lock_mode is None  # no lock configured


def test_missing_bucket_names_the_key(aws: AwsSettings) -> None:
    store = S3Store(
        ObjectStoreSettings(aws=aws, bucket="no-such-bucket"), where="[environments.staging.object_store]"
    )
    assert not store.bucket_exists("no-such-bucket")
    with pytest.raises(
        AwsNotFound,
        match=r"no S3 bucket 'no-such-bucket': check "
        r"\[environments.staging.object_store\] bucket",
    ):
        store.upload_evidence("e.txt", b"x")


def test_access_denied_is_its_own_error() -> None:
    from drillbook.harness.environments.staging.aws.errors import class_for

    assert (
        class_for("AccessDenied") is AwsAccessDenied and class_for("UnauthorizedOperation") is AwsAccessDenied
    )
