"""The twin's RDS side in the environment's lifecycle: ``env down`` stops every server the API
made or was making, and the Multi-AZ standby is a setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto.rds.exceptions import RDSClientError

from drillbook.harness import procs
from drillbook.twin import processes
from drillbook.twin.environment import LocalEnvironment
from drillbook.twin.rds.binding import RdsTwin
from drillbook.twin.rds.plane import plane_at
from drillbook.twin.settings import LocalSettings
from drillbook.twin.state import EnvRecord
from tests.twin.dataplane_support import server_tmp
from tests.twin.rds.support import PRIMARY, REGION, multi_az_ready, rds_client, wait_available


def everything_of(record: EnvRecord) -> tuple[list[int], list[int]]:
    pids = [processes.current(p)[0] for p in record.processes.values()]
    ports = [p.port for p in record.processes.values() if p.port] + [c.port for c in record.clusters.values()]
    for cluster in record.clusters.values():
        pidfile = Path(cluster.datadir) / "postmaster.pid"
        if pidfile.exists():
            pids.append(int(pidfile.read_text().split()[0]))
    return pids, ports


def test_env_down_leaves_nothing_of_the_twin_running() -> None:
    with server_tmp("rds-down") as root:
        env = LocalEnvironment(root / "local", settings=LocalSettings(snapshot_interval_s=0))
        env.up()
        try:
            multi_az_ready(env)
            client = rds_client(env)
            snapshot = client.describe_db_snapshots(DBInstanceIdentifier=PRIMARY)["DBSnapshots"][0]
            client.restore_db_instance_from_db_snapshot(
                DBInstanceIdentifier="down-restored", DBSnapshotIdentifier=snapshot["DBSnapshotIdentifier"]
            )
            wait_available(client, "down-restored")
            # One more the API is still making when the environment goes down.
            client.restore_db_instance_to_point_in_time(
                SourceDBInstanceIdentifier=PRIMARY,
                TargetDBInstanceIdentifier="down-pitr",
                UseLatestRestorableTime=True,
            )
            record = env.state.read()
            assert record is not None
            assert {"primary", "primary-standby", "dr-replica", "down-restored"} <= set(record.clusters)
        finally:
            report = env.down()
        pids, ports = everything_of(record)
        assert report.clean, report
        assert [pid for pid in pids if procs.alive(pid)] == []
        assert processes.listening(ports) == []
        assert processes.labelled(record.label) == []


def test_a_single_az_primary_has_no_standby_to_fail_over_to(env: LocalEnvironment) -> None:
    single = RdsTwin(plane_at(env.layout.root), multi_az=False)
    single.keep_standby()  # builds nothing
    with pytest.raises(RDSClientError) as caught:
        single.reboot(PRIMARY, REGION, force_failover=True)
    assert caught.value.code == "InvalidParameterCombination"
    assert "is not a Multi-AZ instance" in caught.value.message
    assert single.ops.running("instance", PRIMARY) is None
