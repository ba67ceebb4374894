"""The DR replica streams, its lag is read, and promotion makes it writable."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from drillbook.twin.primary import APP_DATABASE
from drillbook.twin.standby import build_standby, promote, replication_lag
from tests.twin.dataplane_support import DataPlane, data_plane, server_tmp, wait_for


@pytest.fixture(scope="module")
def plane() -> Iterator[DataPlane]:
    with server_tmp("standby") as root:
        yield from data_plane(root)


def test_the_standby_streams_and_reports_no_lag_once_caught_up(plane: DataPlane) -> None:
    plane.sql("CREATE TABLE streamed (id int PRIMARY KEY)")
    plane.sql("INSERT INTO streamed SELECT generate_series(1, 100)")
    wait_for(lambda: replication_lag(plane.primary, plane.standby).bytes == 0, what="standby caught up")
    lag = replication_lag(plane.primary, plane.standby)
    assert (lag.seconds, lag.bytes, lag.state, lag.source) == (0.0, 0, "streaming", "primary")
    assert plane.standby.sql("SELECT count(*) FROM streamed", dbname=APP_DATABASE) == [(100,)]
    assert plane.standby.in_recovery()


def test_lag_grows_in_bytes_and_seconds_while_replay_is_paused(plane: DataPlane) -> None:
    plane.sql("CREATE TABLE IF NOT EXISTS paused (id int)")
    wait_for(lambda: replication_lag(plane.primary, plane.standby).bytes == 0, what="standby caught up")
    plane.standby.sql("SELECT pg_wal_replay_pause()")
    try:
        plane.sql("INSERT INTO paused SELECT generate_series(1, 20000)")
        time.sleep(1.0)
        plane.sql("INSERT INTO paused VALUES (0)")
        wait_for(lambda: (replication_lag(plane.primary, plane.standby).bytes or 0) > 100_000,
                 what="lag in bytes")
        lag = replication_lag(plane.primary, plane.standby)
        assert lag.bytes is not None and lag.bytes > 100_000
        assert lag.seconds is not None and lag.seconds >= 0.9
    finally:
        plane.standby.sql("SELECT pg_wal_replay_resume()")
    wait_for(lambda: replication_lag(plane.primary, plane.standby).bytes == 0, what="caught up again")
    assert plane.standby.sql("SELECT count(*) FROM paused", dbname=APP_DATABASE) == [(20001,)]


def test_lag_is_read_from_the_standby_when_the_primary_is_gone(plane: DataPlane, tmp_path: Path) -> None:
    second = plane.new_cluster("lonely-standby")
    build_standby(plane.primary, second, plane.archive, slot="lonely")
    try:
        wait_for(lambda: replication_lag(plane.primary, second, slot="lonely").bytes == 0, what="caught up")
        # A primary that does not answer: the standby's own view (no primary position known).
        unreachable = plane.new_cluster("unreachable")
        lag = replication_lag(unreachable, second, slot="lonely")
        assert (lag.state, lag.source) == ("disconnected", "standby")
        assert lag.bytes == 0
        second.stop("fast")
        assert replication_lag(plane.primary, second, slot="lonely").state == "down"
    finally:
        second.stop("immediate")
        plane.primary.sql("SELECT pg_drop_replication_slot('lonely')")


def test_promote_makes_the_standby_writable(plane: DataPlane) -> None:
    replica = plane.new_cluster("to-promote")
    build_standby(plane.primary, replica, plane.archive, slot="to_promote")
    try:
        plane.sql("CREATE TABLE before_promotion (id int)")
        plane.sql("INSERT INTO before_promotion VALUES (1)")
        wait_for(lambda: replication_lag(plane.primary, replica, slot="to_promote").bytes == 0,
                 what="caught up")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            replica.sql("INSERT INTO before_promotion VALUES (2)", dbname=APP_DATABASE)
        promote(replica, timeout=60)
        assert not replica.in_recovery()
        replica.sql("INSERT INTO before_promotion VALUES (2)", dbname=APP_DATABASE)
        assert replica.sql("SELECT array_agg(id ORDER BY id) FROM before_promotion",
                           dbname=APP_DATABASE) == [([1, 2],)]
        assert replication_lag(plane.primary, replica, slot="to_promote").state == "promoted"
        # A new timeline: the promoted server's history diverges from the primary's.
        replica.sql("CHECKPOINT")
        assert replica.sql("SELECT timeline_id FROM pg_control_checkpoint()") == [(2,)]
    finally:
        replica.stop("immediate")
        plane.primary.sql("SELECT pg_drop_replication_slot('to_promote')")
