"""Where the RDS driver tests run: moto's plain server (every change instant, nothing behind
it), or the twin's RDS API on the shared local environment (real PostgreSQL servers, changes
taking the time the servers take).

A target names a Multi-AZ primary, makes a Single-AZ instance that may be stopped (on the
twin: a restored one, since an instance with a read replica cannot be stopped, as on AWS)
and gives a read replica, and it leaves the twin as it found it afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from drillbook.harness.environments.staging.aws.client import client
from drillbook.harness.environments.staging.settings import AwsSettings
from tests.environments.staging.moto_server import MotoServer, create_postgres

TARGETS = ("moto", "twin")


@dataclass
class RdsTarget:
    name: str
    aws: AwsSettings
    #: A Multi-AZ PostgreSQL instance, and the port its endpoint reports.
    primary: str
    port: int
    _single_az: Callable[[str], None]
    _replica: Callable[[], tuple[AwsSettings, str]]
    _cleanups: list[Callable[[], None]] = field(default_factory=list)

    def single_az(self, name: str) -> str:
        """An available Single-AZ instance, removed afterwards."""
        self._single_az(name)
        return name

    def replica(self) -> tuple[AwsSettings, str]:
        """The settings of the read replica's region, and its identifier."""
        return self._replica()

    def later(self, cleanup: Callable[[], None]) -> None:
        self._cleanups.append(cleanup)

    def close(self) -> None:
        for cleanup in reversed(self._cleanups):
            cleanup()


def target(name: str, request: pytest.FixtureRequest) -> Iterator[RdsTarget]:
    made = moto_target(request) if name == "moto" else twin_target(request)
    try:
        yield made
    finally:
        made.close()


def moto_target(request: pytest.FixtureRequest) -> RdsTarget:
    moto: MotoServer = request.getfixturevalue("moto")
    aws = moto.settings()
    create_postgres(aws, "compliant-db")

    def replica() -> tuple[AwsSettings, str]:
        client(aws, "rds").create_db_instance_read_replica(
            DBInstanceIdentifier="compliant-dr", SourceDBInstanceIdentifier="compliant-db"
        )
        return aws, "compliant-dr"

    return RdsTarget(
        "moto", aws, "compliant-db", 5432, lambda name: create_postgres(aws, name, multi_az=False), replica
    )


def twin_target(request: pytest.FixtureRequest) -> RdsTarget:
    from tests.environments.staging.moto_server import fake_credentials
    from tests.twin.rds.support import (
        DR_REGION,
        PRIMARY,
        REGION,
        REPLICA,
        fail_back,
        multi_az_ready,
        rds_client,
        remove_instance,
    )

    fake_credentials(request.getfixturevalue("monkeypatch"))
    env = request.getfixturevalue("local_env").env
    primary = multi_az_ready(env)
    aws = AwsSettings(
        region=REGION,
        endpoint_url=env.aws_endpoint.url,
        connect_timeout=2.0,
        read_timeout=60.0,
        max_attempts=2,
    )
    rds = rds_client(env)
    snapshots_before = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]}

    def restored(name: str) -> None:
        newest = rds.describe_db_snapshots(DBInstanceIdentifier=PRIMARY)["DBSnapshots"][0]
        rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier=name, DBSnapshotIdentifier=newest["DBSnapshotIdentifier"]
        )
        rds.get_waiter("db_instance_available").wait(
            DBInstanceIdentifier=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )

    def replica() -> tuple[AwsSettings, str]:
        made.later(lambda: _rebuilt_replica(env))
        return replace(aws, region=DR_REGION), REPLICA

    made = RdsTarget("twin", aws, PRIMARY, int(primary["Endpoint"]["Port"]), restored, replica)

    def restore_the_twin() -> None:
        # Whatever a test made through the driver goes; a failover is undone.
        for instance in rds.describe_db_instances()["DBInstances"]:
            if not instance["DeletionProtection"]:
                remove_instance(env, instance["DBInstanceIdentifier"])
        for snapshot in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]:
            if snapshot["DBSnapshotIdentifier"] not in snapshots_before:
                rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot["DBSnapshotIdentifier"])
        fail_back(env, primary["AvailabilityZone"])

    made.later(restore_the_twin)
    return made


def _rebuilt_replica(env: Any) -> None:
    from tests.twin.rds.support import DR_REGION, PRIMARY, REGION, REPLICA, rds_client

    record = env.state.read()
    if record is not None and "dr-replica" not in record.clusters:  # deleted, not created again
        (primary,) = rds_client(env).describe_db_instances(DBInstanceIdentifier=PRIMARY)["DBInstances"]
        arn = primary["DBInstanceArn"]
        west = rds_client(env, DR_REGION)
        west.create_db_instance_read_replica(DBInstanceIdentifier=REPLICA, SourceDBInstanceIdentifier=arn,
                                             SourceRegion=REGION)
        west.get_waiter("db_instance_available").wait(DBInstanceIdentifier=REPLICA,
                                                      WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    if env.local_replica.promoted():
        env.local_replica.rebuild()
