"""The DR procedures' ``aws rds`` commands, run by the real aws CLI against the twin: each does
to the real PostgreSQL servers what it does on RDS, and bad input gets AWS's error."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from drillbook.harness import pg
from drillbook.twin.environment import LocalEnvironment
from tests.twin.dataplane_support import wait_for
from tests.twin.rds.support import (
    DR_REGION,
    PRIMARY,
    REGION,
    REPLICA,
    AwsCli,
    describe,
    dsn,
    fail_back,
    multi_az_ready,
    rds_client,
    remove_instance,
    restored_instance,
    standby_streaming,
    status,
    wait_available,
    wait_status,
)


def new_table(url: str, *rows: str) -> str:
    table = f"t_{secrets.token_hex(4)}"
    pg.query(url, f"CREATE TABLE {table} (v text)")
    for row in rows:
        pg.query(url, f"INSERT INTO {table} VALUES (%s)", (row,))
    return table


def rows(url: str, table: str) -> list[str]:
    return [str(r[0]) for r in pg.query(url, f"SELECT v FROM {table} ORDER BY v")]


def test_stop_then_start_really_stops_and_starts_postgresql(
    env: LocalEnvironment, cli: AwsCli, rds: Any
) -> None:
    with restored_instance(env, "cli-stop-start") as instance:
        url = dsn(instance)
        table = new_table(url, "kept")
        stopping = cli("rds", "stop-db-instance", "--db-instance-identifier", "cli-stop-start")
        assert stopping.rc == 0, stopping.stderr
        assert stopping.json["DBInstance"]["DBInstanceStatus"] == "stopping"  # at once, as RDS answers
        wait_status(rds, "cli-stop-start", "stopped")
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=3)

        again = cli("rds", "stop-db-instance", "--db-instance-identifier", "cli-stop-start")
        assert again.rc == cli.error_rc and again.stdout == ""
        assert (
            "An error occurred (InvalidDBInstanceState) when calling the StopDBInstance operation: "
            "Instance cli-stop-start is not in available state"
        ) in again.stderr
        assert status(rds, "cli-stop-start") == "stopped"

        starting = cli("rds", "start-db-instance", "--db-instance-identifier", "cli-stop-start")
        assert starting.rc == 0 and starting.json["DBInstance"]["DBInstanceStatus"] == "starting"
        after = wait_available(rds, "cli-stop-start")
        assert after["Endpoint"] == instance["Endpoint"]
        assert rows(url, table) == ["kept"]


def test_a_restore_from_a_snapshot_has_the_rows_before_it_and_not_the_later_write(
    env: LocalEnvironment, cli: AwsCli, rds: Any
) -> None:
    primary = dsn(describe(rds, PRIMARY))
    table = new_table(primary, "before the snapshot")
    snapshot = f"cli-snap-{secrets.token_hex(3)}"
    created = cli(
        "rds", "create-db-snapshot", "--db-instance-identifier", PRIMARY, "--db-snapshot-identifier", snapshot
    )
    assert created.rc == 0 and created.json["DBSnapshot"]["Status"] == "creating"
    try:
        rds.get_waiter("db_snapshot_available").wait(
            DBSnapshotIdentifier=snapshot, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
        pg.query(primary, f"INSERT INTO {table} VALUES ('after the snapshot')")
        listed = cli(
            "rds", "describe-db-snapshots", "--db-instance-identifier", PRIMARY, "--snapshot-type", "manual"
        ).json["DBSnapshots"]
        assert snapshot in [s["DBSnapshotIdentifier"] for s in listed]

        restoring = cli(
            "rds",
            "restore-db-instance-from-db-snapshot",
            "--db-instance-identifier",
            "cli-restored",
            "--db-snapshot-identifier",
            snapshot,
        )
        assert restoring.rc == 0 and restoring.json["DBInstance"]["DBInstanceStatus"] == "creating"
        try:
            restored = wait_available(rds, "cli-restored")
            assert restored["Endpoint"]["Port"] != describe(rds, PRIMARY)["Endpoint"]["Port"]
            assert rows(dsn(restored), table) == ["before the snapshot"]
            assert rows(primary, table) == ["after the snapshot", "before the snapshot"]  # untouched
        finally:
            remove_instance(env, "cli-restored")
    finally:
        deleted = cli("rds", "delete-db-snapshot", "--db-snapshot-identifier", snapshot)
        assert deleted.rc == 0 and deleted.json["DBSnapshot"]["Status"] == "deleted"
    gone = cli("rds", "describe-db-snapshots", "--db-snapshot-identifier", snapshot)
    assert gone.rc == cli.error_rc and "(DBSnapshotNotFound)" in gone.stderr


def test_pitr_to_a_time_between_two_writes_holds_exactly_the_first(
    env: LocalEnvironment, cli: AwsCli, rds: Any
) -> None:
    primary = dsn(describe(rds, PRIMARY))
    table = new_table(primary, "first")
    time.sleep(1.1)  # whole seconds apart, whatever precision the time travels with
    between = datetime.now(UTC)
    time.sleep(1.1)
    pg.query(primary, f"INSERT INTO {table} VALUES ('second')")
    restoring = cli(
        "rds",
        "restore-db-instance-to-point-in-time",
        "--source-db-instance-identifier",
        PRIMARY,
        "--target-db-instance-identifier",
        "cli-pitr",
        "--restore-time",
        between.isoformat(timespec="seconds"),
    )
    assert restoring.rc == 0, restoring.stderr
    assert restoring.json["DBInstance"]["DBInstanceStatus"] == "creating"
    try:
        assert rows(dsn(wait_available(rds, "cli-pitr")), table) == ["first"]
    finally:
        remove_instance(env, "cli-pitr")


class Writer:
    """Inserts numbered rows through the endpoint, reconnecting on errors; records each acknowledgement."""

    def __init__(self, url: str, table: str) -> None:
        self.url, self.table = url, table
        self.acked: list[int] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        seq = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=3) as conn:
                    while not self._stop.is_set():
                        seq += 1
                        conn.execute(f"INSERT INTO {self.table} VALUES (%s)", (str(seq),))
                        self.acked.append(seq)
                        time.sleep(0.01)
            except psycopg.Error:
                self.failures += 1  # an insert in flight may or may not have committed: not acked
                time.sleep(0.05)


def test_reboot_with_force_failover_keeps_the_endpoint_and_loses_no_acknowledged_write(
    env: LocalEnvironment, cli: AwsCli, rds: Any
) -> None:
    before = multi_az_ready(env)
    url = dsn(before)
    table = new_table(url)
    started_before = pg.query(url, "SELECT pg_postmaster_start_time()")[0][0]
    wait_for(lambda: standby_streaming(env), timeout=120, what="the Multi-AZ standby streaming")
    try:
        with Writer(url, table) as writer:
            wait_for(lambda: len(writer.acked) >= 20, timeout=30, what="writes before the failover")
            rebooting = cli(
                "rds", "reboot-db-instance", "--db-instance-identifier", PRIMARY, "--force-failover"
            )
            assert rebooting.rc == 0 and rebooting.json["DBInstance"]["DBInstanceStatus"] == "rebooting"
            after = wait_available(rds, PRIMARY)
            at_failover = len(writer.acked)
            wait_for(
                lambda: len(writer.acked) >= at_failover + 20, timeout=30, what="writes after the failover"
            )
        assert after["Endpoint"] == before["Endpoint"]
        assert (after["AvailabilityZone"], after["SecondaryAvailabilityZone"]) == (
            before["SecondaryAvailabilityZone"],
            before["AvailabilityZone"],
        )
        present = {int(r) for r in rows(url, table)}
        assert set(writer.acked) - present == set(), "acknowledged writes lost"
        assert pg.query(url, "SELECT pg_postmaster_start_time()")[0][0] != started_before  # another server
        assert pg.query(url, "SELECT pg_is_in_recovery()")[0][0] is False
        wait_for(lambda: standby_streaming(env), timeout=120, what="the old primary streaming as the standby")
    finally:
        fail_back(env, before["AvailabilityZone"])


def test_promote_read_replica_makes_the_dr_replica_writable(
    env: LocalEnvironment, cli: AwsCli, rds: Any
) -> None:
    west = rds_client(env, DR_REGION)
    replica = describe(west, REPLICA)
    assert replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(f":db:{PRIMARY}")
    url = dsn(replica)
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        new_table(url)
    try:
        promoting = cli("rds", "promote-read-replica", "--db-instance-identifier", REPLICA, region=DR_REGION)
        assert promoting.rc == 0 and promoting.json["DBInstance"]["DBInstanceStatus"] == "modifying"
        promoted = wait_available(west, REPLICA)
        assert "ReadReplicaSourceDBInstanceIdentifier" not in promoted
        assert promoted["DeletionProtection"] is False  # a promoted replica may be deleted
        assert describe(rds, PRIMARY)["ReadReplicaDBInstanceIdentifiers"] == []
        table = new_table(url, "written in the DR region")
        assert rows(url, table) == ["written in the DR region"]
        recreate_replica(cli, west, rds)
    finally:
        restore_dr_replica(env, west, rds)
    assert describe(west, REPLICA)["ReadReplicaSourceDBInstanceIdentifier"].endswith(f":db:{PRIMARY}")


def recreate_replica(cli: AwsCli, west: Any, rds: Any) -> None:
    """As a runbook gets its DR replica back after a failover: the promoted instance deleted, the
    read replica created again, cross-region, by the source's ARN; its endpoint is the old one,
    and it streams what the primary writes."""
    endpoint = describe(west, REPLICA)["Endpoint"]
    deleting = cli("rds", "delete-db-instance", "--db-instance-identifier", REPLICA, "--skip-final-snapshot",
                   region=DR_REGION)
    assert deleting.rc == 0, deleting.stderr
    wait_status(west, REPLICA, "absent")
    arn = describe(rds, PRIMARY)["DBInstanceArn"]
    creating = cli("rds", "create-db-instance-read-replica", "--db-instance-identifier", REPLICA,
                   "--source-db-instance-identifier", arn, "--source-region", REGION, region=DR_REGION)
    assert creating.rc == 0, creating.stderr
    assert creating.json["DBInstance"]["DBInstanceStatus"] == "creating"
    again = wait_available(west, REPLICA)
    assert again["Endpoint"] == endpoint
    assert again["ReadReplicaSourceDBInstanceIdentifier"] == arn
    assert describe(rds, PRIMARY)["ReadReplicaDBInstanceIdentifiers"] == [again["DBInstanceArn"]]
    table = new_table(dsn(describe(rds, PRIMARY)), "written on the primary")
    wait_for(lambda: _rows_or_none(dsn(again), table) == ["written on the primary"], timeout=30,
             what="the new replica to stream the primary's write")
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        new_table(dsn(again))


def _rows_or_none(url: str, table: str) -> list[str] | None:
    try:
        return rows(url, table)
    except psycopg.errors.UndefinedTable:
        return None


def restore_dr_replica(env: LocalEnvironment, west: Any, rds: Any) -> None:
    """The shared environment's DR replica as found, whatever step the test stopped at."""
    if status(west, REPLICA) == "absent":
        arn = describe(rds, PRIMARY)["DBInstanceArn"]
        west.create_db_instance_read_replica(DBInstanceIdentifier=REPLICA, SourceDBInstanceIdentifier=arn,
                                             SourceRegion=REGION)
    wait_available(west, REPLICA)
    if "ReadReplicaSourceDBInstanceIdentifier" not in describe(west, REPLICA):
        env.local_replica.rebuild()


def state_of(env: LocalEnvironment, rds: Any) -> dict[str, Any]:
    west = rds_client(env, DR_REGION)
    record = env.state.read()
    assert record is not None
    return {
        "instances": sorted(
            (i["DBInstanceIdentifier"], i["DBInstanceStatus"])
            for client in (rds, west)
            for i in client.describe_db_instances()["DBInstances"]
        ),
        "snapshots": sorted(s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]),
        "servers": sorted((c.name, c.role, c.port) for c in record.clusters.values()),
        "primary started": pg.query(dsn(describe(rds, PRIMARY)), "SELECT pg_postmaster_start_time()")[0][0],
    }


def test_bad_input_gets_the_error_aws_gives_and_changes_nothing(
    env: LocalEnvironment, cli: AwsCli, rds: Any
) -> None:
    before = state_of(env, rds)
    long_ago, tomorrow = "2000-01-01T00:00:00Z", (datetime.now(UTC) + timedelta(days=1)).isoformat()
    pitr = (
        "rds",
        "restore-db-instance-to-point-in-time",
        "--source-db-instance-identifier",
        PRIMARY,
        "--target-db-instance-identifier",
        "cli-never",
    )
    cases: list[tuple[tuple[str, ...], str, str, str, str]] = [
        (
            ("rds", "describe-db-instances", "--db-instance-identifier", "no-such-db"),
            REGION,
            "DBInstanceNotFound",
            "DescribeDBInstances",
            "DBInstance no-such-db not found.",
        ),
        (
            ("rds", "stop-db-instance", "--db-instance-identifier", "no-such-db"),
            REGION,
            "DBInstanceNotFound",
            "StopDBInstance",
            "DBInstance no-such-db not found.",
        ),
        (
            ("rds", "stop-db-instance", "--db-instance-identifier", PRIMARY),
            REGION,
            "InvalidDBInstanceState",
            "StopDBInstance",
            "an instance that has a read replica",
        ),
        (
            (*pitr, "--restore-time", long_ago),
            REGION,
            "InvalidRestoreFault",
            "RestoreDBInstanceToPointInTime",
            "is outside the restorable window",
        ),
        (
            (*pitr, "--restore-time", tomorrow),
            REGION,
            "InvalidRestoreFault",
            "RestoreDBInstanceToPointInTime",
            "is outside the restorable window",
        ),
        (
            (
                "rds",
                "restore-db-instance-to-point-in-time",
                "--source-db-instance-identifier",
                REPLICA,
                "--target-db-instance-identifier",
                "cli-never",
                "--use-latest-restorable-time",
            ),
            DR_REGION,
            "PointInTimeRestoreNotEnabled",
            "RestoreDBInstanceToPointInTime",
            "has no automated backups",
        ),
        (
            (
                "rds",
                "restore-db-instance-from-db-snapshot",
                "--db-instance-identifier",
                "cli-never",
                "--db-snapshot-identifier",
                "no-such-snapshot",
            ),
            REGION,
            "DBSnapshotNotFound",
            "RestoreDBInstanceFromDBSnapshot",
            "DBSnapshot no-such-snapshot not found.",
        ),
        (
            ("rds", "promote-read-replica", "--db-instance-identifier", PRIMARY),
            REGION,
            "InvalidDBInstanceState",
            "PromoteReadReplica",
            f"DB Instance {PRIMARY} is not a read replica.",
        ),
        (
            ("rds", "reboot-db-instance", "--db-instance-identifier", REPLICA, "--force-failover"),
            DR_REGION,
            "InvalidParameterCombination",
            "RebootDBInstance",
            "is not a Multi-AZ instance",
        ),
        (
            ("rds", "delete-db-instance", "--db-instance-identifier", PRIMARY, "--skip-final-snapshot"),
            REGION,
            "InvalidParameterCombination",
            "DeleteDBInstance",
            "Cannot delete protected DB Instance",
        ),
    ]
    for args, region, code, operation, text in cases:
        began = time.monotonic()
        out = cli(*args, region=region)
        took = time.monotonic() - began
        assert out.rc == cli.error_rc, (args, out)
        assert out.stdout == "", args
        assert f"An error occurred ({code}) when calling the {operation} operation: " in out.stderr, (
            out.stderr
        )
        assert text in out.stderr, out.stderr
        assert took < 60, (args, took)
    assert state_of(env, rds) == before
