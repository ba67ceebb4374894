"""The ``database_stop`` fault acting on the twin. The shared environment's primary has the DR
region's read replica, so RDS (and the twin) refuses to stop it: the contract case checks that
refusal. Here a private environment's replica is promoted first (as scenario 1B leaves it), so
it is attached no more: the fault then really stops PostgreSQL through StopDBInstance, and its
revert, from the fault's description alone as ``drillbook revert`` rebuilds it, starts it."""

from __future__ import annotations

import pytest

from drillbook.drills.control_planes import unstoppable_because
from drillbook.faults.database_stop import DatabaseStop
from drillbook.harness.probes import sql_probe
from drillbook.twin.environment import LocalEnvironment
from drillbook.twin.settings import LocalSettings
from tests.twin.dataplane_support import server_tmp, wait_for
from tests.twin.rds.support import DR_REGION, PRIMARY, REPLICA, rds_client, status, wait_available


def answers(dsn: str) -> bool:
    return sql_probe(dsn, timeout=3.0).run().passed


def test_the_fault_stops_the_primary_once_it_has_no_replica_and_its_revert_starts_it() -> None:
    with server_tmp("db-stop") as root:
        state_dir = root / ".drillbook"
        # A light environment (it runs beside the suite's others): one API replica, no workers,
        # a Single-AZ primary (no standby being built, when the primary would be "modifying").
        light = LocalSettings(snapshot_interval_s=0, multi_az=False, replicas=1, workers=0)
        env = LocalEnvironment(state_dir / "local", settings=light)
        env.up()
        try:
            assert unstoppable_because(env) is not None
            west = rds_client(env, DR_REGION)
            # The platform's replica has deletion protection until it is promoted (as 1B leaves it).
            west.promote_read_replica(DBInstanceIdentifier=REPLICA)
            west.get_waiter("db_instance_available").wait(
                DBInstanceIdentifier=REPLICA, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
            )
            assert unstoppable_because(env) is None  # promoted: a replica no more
            wait_available(rds_client(env), PRIMARY)
            dsn = env.database.dsn()
            assert answers(dsn)
            fault = DatabaseStop(env_name="local", state_dir=str(state_dir), timeout=120)
            fault.inject()
            try:
                assert status(rds_client(env), PRIMARY) == "stopped"
                assert not env.database.running() and not answers(dsn)
            finally:
                DatabaseStop(**fault.describe()).revert()
            assert status(rds_client(env), PRIMARY) == "available"
            wait_for(lambda: answers(dsn), timeout=30, what="the primary answering again")
            fault.revert()  # twice is harmless
            assert answers(dsn)
            west.delete_db_instance(DBInstanceIdentifier=REPLICA, SkipFinalSnapshot=True)
            west.get_waiter("db_instance_deleted").wait(
                DBInstanceIdentifier=REPLICA, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
            )
            assert unstoppable_because(env) is None  # gone
        finally:
            report = env.down()
        assert report.clean, report


def test_a_bad_mode_is_refused_before_anything_acts() -> None:
    with pytest.raises(Exception, match="invalid mode 'gentle' for database_stop: use"):
        DatabaseStop(env_name="local", state_dir="/nonexistent", mode="gentle")
