"""Point-in-time recovery restores exactly what was committed before the target."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from drillbook.harness.errors import InvalidDrillConfig
from drillbook.twin.archive import archive_current_wal
from drillbook.twin.pitr import RecoveryTarget, RestoreError, recover_to
from drillbook.twin.postgres import PostgresCluster
from tests.twin.dataplane_support import DataPlane, data_plane, server_tmp

#: Generous on a loaded machine, but a recovery that hangs fails with the server's log.
TIMEOUT = 180.0


@pytest.fixture(scope="module")
def plane() -> Iterator[DataPlane]:
    with server_tmp("pitr") as root:
        yield from data_plane(root, standby=False)


@pytest.fixture(scope="module")
def history(plane: DataPlane) -> list[tuple[int, datetime, str]]:
    """A snapshot, then 20 single-row commits after it: (seq, commit time, WAL position after)."""
    plane.catalogue.take(plane.primary)
    plane.sql("CREATE TABLE ledger (seq int PRIMARY KEY)")  # created after the snapshot: replayed
    commits = []
    for seq in range(1, 21):
        plane.sql("INSERT INTO ledger VALUES (%s)", (seq,))
        when = plane.sql("SELECT pg_xact_commit_timestamp(xmin) FROM ledger WHERE seq = %s", (seq,))[0][0]
        assert isinstance(when, datetime)
        lsn = plane.sql("SELECT pg_current_wal_insert_lsn()::text")[0][0]
        commits.append((seq, when, str(lsn)))
        time.sleep(0.02)
    archive_current_wal(plane.primary, timeout=60)
    return commits


def seqs(cluster: PostgresCluster) -> list[int]:
    return [int(r[0]) for r in cluster.sql("SELECT seq FROM ledger ORDER BY seq", dbname="compliant")]


def test_recovery_to_a_time_keeps_exactly_the_commits_before_it(
        plane: DataPlane, history: list[tuple[int, datetime, str]]) -> None:
    twelfth, thirteenth = history[11][1], history[12][1]
    target = twelfth + (thirteenth - twelfth) / 2
    restored = recover_to(plane.catalogue, plane.archive, RecoveryTarget(time=target),
                          plane.new_cluster("pitr-time"), timeout=TIMEOUT)
    try:
        assert seqs(restored) == list(range(1, 13))
        assert not restored.in_recovery()  # promoted at the target: writable
        restored.sql("INSERT INTO ledger VALUES (999)", dbname="compliant")
        assert restored.sql("SHOW archive_mode") == [("off",)]  # never writes into the primary's archive
    finally:
        restored.stop("immediate")
    assert 999 not in seqs(plane.primary)


def test_recovery_to_an_lsn_stops_there(plane: DataPlane, history: list[tuple[int, datetime, str]]) -> None:
    after_seventh = history[6][2]
    restored = recover_to(plane.catalogue, plane.archive, RecoveryTarget(lsn=after_seventh),
                          plane.new_cluster("pitr-lsn"), timeout=TIMEOUT)
    try:
        assert seqs(restored) == list(range(1, 8))
    finally:
        restored.stop("immediate")


def test_a_target_older_than_every_snapshot_is_refused_with_the_oldest(
        plane: DataPlane, history: list[tuple[int, datetime, str]]) -> None:
    oldest = min(s.finished_at for s in plane.catalogue.list())
    with pytest.raises(RestoreError, match="no snapshot was complete before") as info:
        recover_to(plane.catalogue, plane.archive, RecoveryTarget(time=oldest - timedelta(hours=1)),
                   plane.new_cluster("too-early"))
    assert oldest.isoformat() in str(info.value)
    assert not (plane.root / "too-early" / "data").exists()


def test_a_target_beyond_the_archive_fails_and_cleans_up(
        plane: DataPlane, history: list[tuple[int, datetime, str]]) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(RestoreError, match="point-in-time recovery"):
        recover_to(plane.catalogue, plane.archive, RecoveryTarget(time=later), plane.new_cluster("beyond"),
                   timeout=TIMEOUT)
    assert not (plane.root / "beyond" / "data").exists()


def test_targets_are_validated() -> None:
    with pytest.raises(InvalidDrillConfig, match="exactly one"):
        RecoveryTarget()
    with pytest.raises(InvalidDrillConfig, match="time zone"):
        RecoveryTarget(time=datetime(2026, 1, 1))
    with pytest.raises(InvalidDrillConfig, match="not a WAL position"):
        RecoveryTarget(lsn="yesterday")
