"""The RDS driver over HTTP, against moto's server and against the twin's RDS API (real PostgreSQL
servers behind it): every call, its errors and its timeouts."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from drillbook.harness.environments.staging.aws.client import client
from drillbook.harness.environments.staging.aws.errors import (
    AwsAlreadyExists,
    AwsError,
    AwsNotFound,
    AwsUnreachable,
    AwsWrongState,
)
from drillbook.harness.environments.staging.aws.rds import AUTO_RESTART_AFTER, Rds, RdsInstance
from drillbook.harness.environments.staging.aws.rds_snapshots import RdsSnapshots, RestoreOptions
from drillbook.harness.environments.staging.settings import AwsSettings
from drillbook.harness.environments.staging.waiting import WaitTimeout
from drillbook.harness.errors import DrillbookError, RecoveryTimeout
from drillbook.twin.postgres import free_port
from tests.environments.staging.rds_target import TARGETS, RdsTarget
from tests.environments.staging.rds_target import target as make_target

WHERE = "[environments.staging.database]"


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> Iterator[RdsTarget]:
    yield from make_target(request.param, request)


@pytest.fixture
def rds(target: RdsTarget) -> Rds:
    return Rds(target.aws, where=WHERE, poll_interval=0.05)


@pytest.fixture
def stoppable(target: RdsTarget) -> str:
    """An instance that may be stopped: moto's Multi-AZ primary; on the twin a restored one
    (the primary has a read replica, and an instance with one cannot be stopped, as on AWS)."""
    return target.primary if target.name == "moto" else target.single_az("staging-stoppable")


def test_describe_reads_the_instance(rds: Rds, target: RdsTarget) -> None:
    db = rds.describe(target.primary)
    assert (db.id, db.status, db.engine, db.multi_az) == (target.primary, "available", "postgres", True)
    assert db.endpoint and db.port == target.port
    assert db.arn.endswith(f":db:{target.primary}")


def test_missing_instance_names_the_key_to_check(rds: Rds, target: RdsTarget) -> None:
    with pytest.raises(AwsNotFound) as caught:
        rds.describe("no-such-db")
    message = str(caught.value)
    assert f"no RDS instance 'no-such-db' in region {target.aws.region}" in message
    assert f"check {WHERE} instance_id" in message
    assert caught.value.code == "DBInstanceNotFound"
    assert isinstance(caught.value, DrillbookError)
    assert rds.status("no-such-db") == "absent" and not rds.exists("no-such-db")


def test_stop_records_the_seven_day_auto_restart(
    rds: Rds, stoppable: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="drillbook.staging.rds"):
        record = rds.stop(stoppable, timeout=60)
    assert rds.status(stoppable) == "stopped"
    assert record.auto_restart_at - record.stopped_at == AUTO_RESTART_AFTER == timedelta(days=7)
    assert "after 7 days" in caplog.text and record.auto_restart_at.isoformat() in caplog.text


def test_stop_with_a_snapshot_first(rds: Rds, stoppable: str) -> None:
    rds.stop(stoppable, snapshot_id="before-stop", timeout=60)
    assert RdsSnapshots(rds).describe("before-stop").instance_id == stoppable


def test_stopping_a_stopped_instance_is_a_wrong_state(rds: Rds, stoppable: str) -> None:
    rds.stop(stoppable, timeout=60)
    with pytest.raises(AwsWrongState) as caught:
        rds.stop(stoppable)
    assert "is 'stopped', so it cannot be stopped now" in str(caught.value)
    assert caught.value.code == "InvalidDBInstanceState"


def test_a_primary_with_a_read_replica_cannot_be_stopped_and_the_error_says_why(
    rds: Rds, target: RdsTarget
) -> None:
    if target.name != "twin":
        pytest.skip("moto stops a primary that has read replicas; RDS and the twin refuse")
    _, replica = target.replica()
    with pytest.raises(AwsWrongState, match=f"cannot be stopped: it has read replicas \\(.*{replica}\\)"):
        rds.stop(target.primary)
    assert rds.status(target.primary) == "available"


def test_start_brings_it_back_and_starting_an_available_one_is_a_wrong_state(
    rds: Rds, stoppable: str
) -> None:
    with pytest.raises(AwsWrongState, match="is 'available', so it cannot be started"):
        rds.start(stoppable)
    rds.stop(stoppable, timeout=60)
    assert rds.start(stoppable, timeout=60).status == "available"


def test_reboot_with_failover(rds: Rds, target: RdsTarget) -> None:
    record = rds.reboot(target.primary, force_failover=True, timeout=120)
    assert record.failover and record.zone_before
    if target.name == "twin":  # moto keeps the zone; the twin's standby is in the other one
        assert record.zone_after != record.zone_before
    single = target.single_az("single-az")
    assert rds.reboot(single, force_failover=True, timeout=60).failover is False
    rds.stop(single, timeout=60)
    with pytest.raises(AwsWrongState):
        rds.reboot(single, timeout=5)


def test_snapshot_list_and_restore(rds: Rds, target: RdsTarget) -> None:
    snapshots = RdsSnapshots(rds)
    snap = snapshots.create(target.primary, "manual-1", tags={"drill": "backup"}, timeout=60)
    assert (snap.status, snap.instance_id, snap.kind) == ("available", target.primary, "manual")
    assert "manual-1" in [s.id for s in snapshots.list(target.primary)]
    manual = snapshots.list(target.primary, kind="manual")
    assert "manual-1" in [s.id for s in manual] and {s.kind for s in manual} == {"manual"}
    with pytest.raises(AwsAlreadyExists):
        snapshots.create(target.primary, "manual-1")
    options = RestoreOptions.like(rds.describe(target.primary), drill="restore")
    restored = snapshots.restore("manual-1", "compliant-db-restored", options=options, timeout=120)
    assert restored.status == "available" and restored.id == "compliant-db-restored"
    assert rds.describe(target.primary).status == "available"  # the source is untouched
    with pytest.raises(AwsNotFound, match="no RDS snapshot 'nope'"):
        snapshots.restore("nope", "other", timeout=10)
    rds.api.delete_db_snapshot(DBSnapshotIdentifier="manual-1")  # no drill deletes one: not a driver call
    assert not snapshots.exists("manual-1")


def test_point_in_time_restore(rds: Rds, target: RdsTarget) -> None:
    snapshots = RdsSnapshots(rds)
    latest = snapshots.restore_to_time(target.primary, "pitr-latest", timeout=120)
    assert latest.status == "available"
    when = datetime.now(UTC) - timedelta(seconds=1)
    assert (
        snapshots.restore_to_time(target.primary, "pitr-time", restore_time=when, timeout=120).id
        == "pitr-time"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        snapshots.restore_to_time(target.primary, "x", restore_time=datetime.now())
    with pytest.raises(AwsNotFound):
        snapshots.restore_to_time("no-such-db", "y", timeout=10)


def test_promote_read_replica(rds: Rds, target: RdsTarget) -> None:
    replica_aws, replica = target.replica()
    in_its_region = Rds(replica_aws, where=WHERE, poll_interval=0.05)
    assert (in_its_region.describe(replica).replica_source or "").endswith(target.primary)
    assert in_its_region.promote(replica, timeout=120).status == "available"
    # (moto keeps reporting the source after a promotion, so that is not asserted for both.)
    if target.name == "twin":
        assert in_its_region.describe(replica).replica_source is None
    with pytest.raises(AwsWrongState, match=f"'{target.primary}' is not a read replica"):
        rds.promote(target.primary)


def test_a_promoted_replica_is_deleted_and_created_again_at_its_endpoint(rds: Rds, target: RdsTarget) -> None:
    """A failover's revert on RDS: the promoted replica deleted (a final snapshot kept), then
    CreateDBInstanceReadReplica under the same identifier, cross-region by the source's ARN,
    waited on until available; the new replica has the old one's endpoint and replicates."""
    replica_aws, replica = target.replica()
    in_its_region = Rds(replica_aws, where=WHERE, poll_interval=0.05)
    before = in_its_region.describe(replica)
    in_its_region.promote(replica, timeout=120)
    final = f"{replica}-promoted-test"
    in_its_region.delete(replica, final_snapshot_id=final, timeout=120)
    target.later(lambda: client(replica_aws, "rds").delete_db_snapshot(DBSnapshotIdentifier=final))
    assert in_its_region.status(replica) == "absent"
    source = rds.describe(target.primary)
    again = in_its_region.create_read_replica(replica, source, source_region=target.aws.region, like=before,
                                              timeout=300)
    assert again.status == "available"
    assert (again.replica_source or "").endswith(f":db:{target.primary}") or again.replica_source == source.id
    assert (again.endpoint, again.port) == (before.endpoint, before.port)
    assert again.instance_class == before.instance_class
    if target.name == "twin":  # (moto's plain server replaces an instance of the same identifier)
        with pytest.raises(AwsAlreadyExists):
            in_its_region.create_read_replica(replica, source, source_region=target.aws.region, timeout=10)


def test_delete_keeps_a_final_snapshot(rds: Rds, stoppable: str) -> None:
    with pytest.raises(ValueError):
        rds.delete(stoppable, final_snapshot_id="")
    with pytest.raises(AwsWrongState, match="without a final snapshot: drillbook did not make it"):
        rds.delete(stoppable, final_snapshot_id=None)  # not a scratch copy of drillbook's
    assert rds.status(stoppable) == "available"
    rds.delete(stoppable, final_snapshot_id="compliant-db-final", timeout=120)
    assert rds.status(stoppable) == "absent"
    assert RdsSnapshots(rds).describe("compliant-db-final").instance_id == stoppable


def test_a_scratch_restore_of_drillbooks_is_deleted_without_a_final_snapshot(
    rds: Rds, target: RdsTarget
) -> None:
    snapshots = RdsSnapshots(rds)
    snapshots.create(target.primary, "scratch-source", timeout=60)
    options = RestoreOptions.like(rds.describe(target.primary), drillbook="restore-test")
    snapshots.restore("scratch-source", "compliant-db-scratch", options=options, timeout=120)
    assert rds.describe("compliant-db-scratch").made_by_drillbook
    before = [s.id for s in snapshots.list(target.primary)]
    rds.delete("compliant-db-scratch", final_snapshot_id=None, timeout=120)
    assert rds.status("compliant-db-scratch") == "absent"
    assert snapshots.list("compliant-db-scratch", kind="manual") == []  # no final snapshot to pay for
    assert [s.id for s in snapshots.list(target.primary)] == before
    rds.api.delete_db_snapshot(DBSnapshotIdentifier="scratch-source")


def test_a_wait_that_cannot_complete_times_out_within_its_limit(rds: Rds, target: RdsTarget) -> None:
    lines: list[str] = []
    rds.progress = lines.append
    describes: list[str] = []
    describe = rds.describe

    def counted(instance_id: str) -> RdsInstance:
        describes.append(instance_id)
        return describe(instance_id)

    rds.describe = counted  # type: ignore[method-assign]
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        rds.wait_status(target.primary, "stopped", timeout=0.6)
    waited = time.monotonic() - started
    assert 0.6 <= waited < 5.0
    assert isinstance(caught.value, RecoveryTimeout) and isinstance(caught.value, DrillbookError)
    assert caught.value.objective == 0.6 and caught.value.last_state == "available"
    assert (
        f"RDS instance {target.primary} to be stopped (last seen: available) did not complete within 0.600s"
        in str(caught.value)
    )
    # One progress line per poll. How many polls fit in 0.6 s depends on the machine's load
    # (a loaded CI machine once took 0.7 s for the first describe), so it is not fixed here.
    assert len(lines) == len(describes) >= 1
    assert all("available after" in line for line in lines)


def test_an_unreachable_endpoint_is_a_clear_error_within_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    dead = AwsSettings(
        region="eu-west-1",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        connect_timeout=0.5,
        read_timeout=0.5,
        max_attempts=1,
    )
    started = time.monotonic()
    with pytest.raises(AwsUnreachable, match="did not answer in time") as caught:
        Rds(dead).describe("compliant-db")
    assert time.monotonic() - started < 10
    assert isinstance(caught.value, AwsError)
