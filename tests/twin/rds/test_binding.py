"""The binding of moto's RDS to the twin, through boto3: the pinned moto it extends, statuses
that follow the real servers, the snapshots the scheduler takes, failures shown as RDS shows
them, and what has no real server behind it refused."""

from __future__ import annotations

import inspect
import re
import tomllib
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from drillbook.harness import pg
from drillbook.twin.environment import LocalEnvironment
from tests.twin.rds.support import (
    DR_REGION,
    PRIMARY,
    REGION,
    REPLICA,
    describe,
    dsn,
    multi_az_ready,
    remove_instance,
    restored_instance,
    status,
    wait_available,
    wait_status,
)

ROOT = Path(__file__).resolve().parents[3]


def error_code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def test_the_binding_extends_the_moto_version_pyproject_pins() -> None:
    from moto.rds.models import RDSBackend, rds_backends
    from moto.rds.responses import RDSResponse

    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = next(re.fullmatch(r"moto\[server\]==(\S+)", r) for r in requirements if r.startswith("moto"))
    assert pinned is not None, "moto must be pinned exactly: the twin subclasses its RDS backend"
    assert version("moto") == pinned.group(1)
    # What the binding overrides or relies on, as this moto version has it.
    assert hasattr(rds_backends, "backend") and hasattr(RDSResponse, "reboot_db_instance")
    expected = {
        "describe_db_instances": ["db_instance_identifier", "filters"],
        "describe_db_snapshots": [
            "db_instance_identifier",
            "db_snapshot_identifier",
            "snapshot_type",
            "filters",
        ],
        "stop_db_instance": ["db_instance_identifier", "db_snapshot_identifier"],
        "start_db_instance": ["db_instance_identifier"],
        "reboot_db_instance": ["db_instance_identifier"],
        "promote_read_replica": ["db_kwargs"],
        "create_db_instance_read_replica": ["db_kwargs"],
        "delete_db_instance": [
            "db_instance_identifier",
            "final_db_snapshot_identifier",
            "skip_final_snapshot",
            "delete_automated_backups",
        ],
        "restore_db_instance_from_db_snapshot": ["from_snapshot_id", "overrides"],
        "restore_db_instance_to_point_in_time": ["source_db_identifier", "target_db_identifier", "overrides"],
    }
    for name, params in expected.items():
        assert list(inspect.signature(getattr(RDSBackend, name)).parameters)[1:] == params, name


def test_the_instances_are_the_platforms_servers(env: LocalEnvironment, rds: Any, rds_west: Any) -> None:
    primary, replica = multi_az_ready(env), describe(rds_west, REPLICA)
    assert primary["Endpoint"] == {"Address": "127.0.0.1", "Port": env.local_database.port}
    assert replica["Endpoint"] == {"Address": "127.0.0.1", "Port": env.local_replica.port}
    assert (primary["Engine"], primary["DBName"], primary["MasterUsername"]) == (
        "postgres",
        "compliant",
        "postgres",
    )
    assert re.fullmatch(r"\d+(\.\d+)+", primary["EngineVersion"])
    assert pg.query(dsn(primary), "SHOW server_version")[0][0].startswith(primary["EngineVersion"])
    assert (primary["MultiAZ"], primary["AvailabilityZone"], primary["SecondaryAvailabilityZone"]) == (
        True,
        f"{REGION}a",
        f"{REGION}b",
    )
    assert primary["DeletionProtection"] and replica["DeletionProtection"]
    assert primary["BackupRetentionPeriod"] > 0 and replica["BackupRetentionPeriod"] == 0
    assert replica["AvailabilityZone"] == f"{DR_REGION}a"
    assert primary["ReadReplicaDBInstanceIdentifiers"] == [replica["DBInstanceArn"]]
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == primary["DBInstanceArn"]
    with pytest.raises(ClientError) as caught:  # regions are apart, as on AWS
        rds_west.describe_db_instances(DBInstanceIdentifier=PRIMARY)
    assert error_code(caught) == "DBInstanceNotFound"


def test_calls_return_at_once_and_the_status_follows_the_server(env: LocalEnvironment, rds: Any) -> None:
    with restored_instance(env, "bind-status") as instance:
        server = next(i for i in env.local_database.instances() if i.name == "bind-status")
        server.stop("fast")  # behind the API's back, as a crash would
        assert status(rds, "bind-status") == "stopped"
        server.start()
        assert status(rds, "bind-status") == "available"
        started = pg.query(dsn(instance), "SELECT pg_postmaster_start_time()")[0][0]
        answer = rds.reboot_db_instance(DBInstanceIdentifier="bind-status")
        assert answer["DBInstance"]["DBInstanceStatus"] == "rebooting"
        wait_available(rds, "bind-status")
        assert pg.query(dsn(instance), "SELECT pg_postmaster_start_time()")[0][0] > started

        deleting = rds.delete_db_instance(
            DBInstanceIdentifier="bind-status", FinalDBSnapshotIdentifier="bind-final"
        )
        assert deleting["DBInstance"]["DBInstanceStatus"] == "deleting"
        rds.get_waiter("db_instance_deleted").wait(
            DBInstanceIdentifier="bind-status", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    final = rds.describe_db_snapshots(DBSnapshotIdentifier="bind-final")["DBSnapshots"][0]
    assert (final["DBInstanceIdentifier"], final["SnapshotType"], final["Status"]) == (
        "bind-status",
        "manual",
        "available",
    )
    try:
        rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier="bind-again", DBSnapshotIdentifier="bind-final"
        )
        assert pg.query(dsn(wait_available(rds, "bind-again")), "SELECT count(*) FROM users")[0][0] > 0
    finally:
        remove_instance(env, "bind-again")
        rds.delete_db_snapshot(DBSnapshotIdentifier="bind-final")


def test_scheduled_snapshots_are_automated_and_only_manual_ones_may_be_deleted(
    env: LocalEnvironment, rds: Any
) -> None:
    automated = rds.describe_db_snapshots(DBInstanceIdentifier=PRIMARY, SnapshotType="automated")[
        "DBSnapshots"
    ]
    catalogue = [s.id for s in env.local_database.snapshots() if s.detail.get("kind") == "scheduled"]
    assert sorted(s["DBSnapshotIdentifier"] for s in automated) == sorted(
        f"rds:{PRIMARY}-{sid.removeprefix('scheduled-')}".lower() for sid in catalogue
    )
    assert catalogue, "env up takes a first scheduled snapshot"
    with pytest.raises(ClientError) as caught:
        rds.delete_db_snapshot(DBSnapshotIdentifier=automated[0]["DBSnapshotIdentifier"])
    assert error_code(caught) == "InvalidDBSnapshotState"
    rds.create_db_snapshot(DBInstanceIdentifier=PRIMARY, DBSnapshotIdentifier="bind-manual")
    try:
        with pytest.raises(ClientError) as exists:
            rds.create_db_snapshot(DBInstanceIdentifier=PRIMARY, DBSnapshotIdentifier="bind-manual")
        assert error_code(exists) == "DBSnapshotAlreadyExists"
        rds.get_waiter("db_snapshot_available").wait(
            DBSnapshotIdentifier="bind-manual", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
        manual = rds.describe_db_snapshots(DBInstanceIdentifier=PRIMARY, SnapshotType="manual")["DBSnapshots"]
        assert "bind-manual" in [s["DBSnapshotIdentifier"] for s in manual]
        assert not {s["DBSnapshotIdentifier"] for s in manual} & {
            s["DBSnapshotIdentifier"] for s in automated
        }
    finally:
        rds.delete_db_snapshot(DBSnapshotIdentifier="bind-manual")


def test_a_restore_that_fails_shows_incompatible_restore_until_deleted(
    env: LocalEnvironment, rds: Any
) -> None:
    rds.create_db_snapshot(DBInstanceIdentifier=PRIMARY, DBSnapshotIdentifier="bind-broken")
    try:
        rds.get_waiter("db_snapshot_available").wait(
            DBSnapshotIdentifier="bind-broken", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
        (env.layout.snapshots / "bind-broken" / "data" / "global" / "pg_control").unlink()
        rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier="bind-failed", DBSnapshotIdentifier="bind-broken"
        )
        with pytest.raises(WaiterError, match="incompatible-restore"):
            wait_available(rds, "bind-failed")
        assert status(rds, "bind-failed") == "incompatible-restore"
        assert "bind-failed" not in env.state.read().clusters  # type: ignore[union-attr]
        rds.delete_db_instance(DBInstanceIdentifier="bind-failed", SkipFinalSnapshot=True)
        assert status(rds, "bind-failed") == "absent"
    finally:
        remove_instance(env, "bind-failed")
        rds.delete_db_snapshot(DBSnapshotIdentifier="bind-broken")


def test_a_stopped_primary_restores_from_the_archive_and_starts_through_the_api(
    env: LocalEnvironment, rds: Any
) -> None:
    assert datetime.now(UTC) - describe(rds, PRIMARY)["LatestRestorableTime"] < timedelta(seconds=30)
    env.local_database.stop("fast")  # as a drill's outage does
    try:
        stopped = describe(rds, PRIMARY)
        assert stopped["DBInstanceStatus"] == "stopped"
        newest = max(p.stat().st_mtime for p in env.layout.archive.iterdir() if not p.name.endswith(".part"))
        # No later than the archive holds: the time its newest segment arrived.
        assert abs(stopped["LatestRestorableTime"].timestamp() - newest) < 1.0
        starting = rds.start_db_instance(DBInstanceIdentifier=PRIMARY)
        assert starting["DBInstance"]["DBInstanceStatus"] == "starting"
        wait_status(rds, PRIMARY, "available")
    finally:
        if not env.local_database.running():
            env.local_database.start()
    assert pg.query(dsn(describe(rds, PRIMARY)), "SELECT 1") == [(1,)]


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        (
            "create_db_instance",
            {"DBInstanceIdentifier": "x", "DBInstanceClass": "db.t3.micro", "Engine": "postgres"},
        ),
        ("modify_db_instance", {"DBInstanceIdentifier": PRIMARY, "DeletionProtection": False}),
        ("copy_db_snapshot", {"SourceDBSnapshotIdentifier": "a", "TargetDBSnapshotIdentifier": "b"}),
    ],
)
def test_what_would_have_no_real_server_behind_it_is_refused(
    rds: Any, call: str, kwargs: dict[str, Any]
) -> None:
    def instances() -> list[tuple[str, str, dict[str, Any], bool]]:
        found = rds.describe_db_instances()["DBInstances"]
        return [
            (i["DBInstanceIdentifier"], i["DBInstanceStatus"], i["Endpoint"], i["DeletionProtection"])
            for i in found
        ]

    before = instances()
    with pytest.raises(ClientError) as caught:
        getattr(rds, call)(**kwargs)
    assert error_code(caught) == "InvalidAction"
    assert "is not emulated by drillbook's local environment" in str(caught.value)
    assert instances() == before


def test_only_the_platforms_dr_replica_can_be_created_and_only_once(env: LocalEnvironment, rds: Any,
                                                                    rds_west: Any) -> None:
    """A read replica with no server of the platform's behind it is refused; the DR replica that
    exists is not made twice (AWS's DBInstanceAlreadyExists); nothing changes either time."""
    def state() -> list[Any]:
        record = env.state.read()
        assert record is not None
        return [sorted((i["DBInstanceIdentifier"], i["DBInstanceStatus"]) for c in (rds, rds_west)
                       for i in c.describe_db_instances()["DBInstances"]),
                sorted((c.name, c.role, c.port) for c in record.clusters.values())]

    before = state()
    arn = describe(rds, PRIMARY)["DBInstanceArn"]
    with pytest.raises(ClientError) as caught:
        rds.create_db_instance_read_replica(DBInstanceIdentifier="x", SourceDBInstanceIdentifier=PRIMARY)
    assert error_code(caught) == "InvalidParameterValue"
    assert REPLICA in str(caught.value)
    with pytest.raises(ClientError) as caught:
        rds_west.create_db_instance_read_replica(DBInstanceIdentifier=REPLICA, SourceDBInstanceIdentifier=arn,
                                                 SourceRegion=REGION)
    assert error_code(caught) == "DBInstanceAlreadyExists"
    with pytest.raises(ClientError) as caught:  # the replica itself is still protected
        rds_west.delete_db_instance(DBInstanceIdentifier=REPLICA, SkipFinalSnapshot=True)
    assert error_code(caught) == "InvalidParameterCombination"
    assert state() == before
