"""Clients nobody here wrote, pointed at the twin's RDS API: the aws CLI (a subprocess, as a
runbook runs it) and boto3; and the shared local environment's instances left as found."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drillbook.twin.aws_platform import PlatformAws
from drillbook.twin.environment import LocalEnvironment
from tests.twin.dataplane_support import wait_for

PLATFORM = PlatformAws()
PRIMARY, REPLICA = PLATFORM.primary_instance, PLATFORM.replica_instance
REGION, DR_REGION = PLATFORM.region, PLATFORM.dr_region
#: No CLI call may take longer (a hang fails the test, never stalls it).
CLI_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class CliResult:
    rc: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def aws_executable() -> str:
    beside = Path(sys.executable).parent / "aws"
    found = str(beside) if beside.exists() else shutil.which("aws")
    if found is None:
        pytest.skip("the aws CLI is not installed (pip install 'drillbook[test]' installs awscli)")
    return found


@dataclass(frozen=True)
class AwsCli:
    endpoint: str
    executable: str

    def __call__(self, *args: str, region: str = REGION) -> CliResult:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-creds",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DEFAULT_OUTPUT": "json",
            "AWS_MAX_ATTEMPTS": "1",
        }
        done = subprocess.run(
            [self.executable, "--endpoint-url", self.endpoint, "--region", region, *args],
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            env=env,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    @property
    def error_rc(self) -> int:
        """The exit code of a service error: 255 for aws-cli v1 (PyPI's awscli), 254 for v2."""
        version = subprocess.run([self.executable, "--version"], capture_output=True, text=True, timeout=30)
        return 255 if "aws-cli/1." in version.stdout + version.stderr else 254


def rds_client(env: LocalEnvironment, region: str = REGION) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "rds",
        endpoint_url=env.aws_endpoint.url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 1}),
    )


def describe(client: Any, identifier: str) -> dict[str, Any]:
    return dict(client.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0])


def status(client: Any, identifier: str) -> str:
    try:
        return str(describe(client, identifier)["DBInstanceStatus"])
    except client.exceptions.DBInstanceNotFoundFault:
        return "absent"


def wait_status(client: Any, identifier: str, wanted: str, timeout: float = 120.0) -> None:
    seen: list[str] = []

    def reached() -> bool:
        seen.append(status(client, identifier))
        return seen[-1] == wanted

    try:
        wait_for(reached, timeout=timeout, what=f"{identifier} {wanted}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; statuses seen: {sorted(set(seen))}") from None


def wait_available(client: Any, identifier: str, timeout: float = 120.0) -> dict[str, Any]:
    """boto3's own waiter, polling every second."""
    client.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier=identifier, WaiterConfig={"Delay": 1, "MaxAttempts": int(timeout)}
    )
    return describe(client, identifier)


def dsn(instance: dict[str, Any], dbname: str = "compliant") -> str:
    """The endpoint RDS reports, as a client connects to it (the superuser, no password on loopback)."""
    endpoint = instance["Endpoint"]
    return f"postgresql://postgres@{endpoint['Address']}:{endpoint['Port']}/{dbname}"


@contextmanager
def restored_instance(env: LocalEnvironment, name: str) -> Iterator[dict[str, Any]]:
    """A new instance restored from the newest snapshot, deleted afterwards."""
    client = rds_client(env)
    snapshot = client.describe_db_snapshots(DBInstanceIdentifier=PRIMARY)["DBSnapshots"][0]
    client.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier=name, DBSnapshotIdentifier=snapshot["DBSnapshotIdentifier"]
    )
    try:
        yield wait_available(client, name)
    finally:
        remove_instance(env, name)


def remove_instance(env: LocalEnvironment, name: str) -> None:
    client = rds_client(env)
    if status(client, name) == "absent":
        return
    wait_for(
        lambda: status(client, name) not in ("creating", "stopping", "starting", "rebooting"),
        timeout=120,
        what=f"{name} settled",
    )
    client.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
    client.get_waiter("db_instance_deleted").wait(
        DBInstanceIdentifier=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )


def multi_az_ready(env: LocalEnvironment, timeout: float = 180.0) -> dict[str, Any]:
    """The primary, available with its standby in the other zone (built after ``up``)."""
    client = rds_client(env)
    wait_for(
        lambda: (
            describe(client, PRIMARY).get("SecondaryAvailabilityZone") is not None
            and status(client, PRIMARY) == "available"
        ),
        timeout=timeout,
        what="the Multi-AZ standby",
    )
    return describe(client, PRIMARY)


def standby_streaming(env: LocalEnvironment) -> bool:
    rows = {row.name: row for row in env.status()}
    standby = rows.get("primary-standby")
    return standby is not None and "(streaming)" in standby.detail


def fail_over(env: LocalEnvironment) -> dict[str, Any]:
    """RebootDBInstance with ForceFailover, once the standby streams; the primary afterwards."""
    client = rds_client(env)
    wait_for(lambda: standby_streaming(env), timeout=120, what="the Multi-AZ standby streaming")
    client.reboot_db_instance(DBInstanceIdentifier=PRIMARY, ForceFailover=True)
    return wait_available(client, PRIMARY)


def fail_back(env: LocalEnvironment, zone: str) -> None:
    """The primary in ``zone`` again (the session's environment as it was)."""
    if describe(rds_client(env), PRIMARY)["AvailabilityZone"] != zone:
        assert fail_over(env)["AvailabilityZone"] == zone
