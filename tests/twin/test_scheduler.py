"""Scheduled snapshots: the scheduler process snapshots the primary every interval, keeps the
newest N, survives a primary that is down, and stops on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness.undolog import UndoLog
from drillbook.twin.snapshots import SnapshotCatalogue
from drillbook.twin.state import ClusterRecord, EnvRecord, StateFile
from tests.twin.dataplane_support import DataPlane, data_plane, server_tmp, wait_for

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def plane() -> Iterator[DataPlane]:
    with server_tmp("scheduler") as root:
        yield from data_plane(root, standby=False)

SCHEDULER = "drillbook.twin.scheduler"


def test_the_scheduler_takes_snapshots_keeps_the_newest_and_stops_on_sigterm(plane: DataPlane) -> None:
    StateFile(plane.root).write(EnvRecord(label="test-scheduler", phase="up", clusters={
        "primary": ClusterRecord("primary", str(plane.primary.datadir), plane.primary.port, "primary")}))
    catalogue = SnapshotCatalogue(plane.root / "snapshots")
    log = plane.root / "scheduler.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", SCHEDULER, "--state-dir",
                                 str(plane.root), "--interval", "1", "--keep", "2"],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: log.read_text().count("snapshot scheduled-") >= 3, timeout=120,
                 what="three scheduled snapshots")
        kept = catalogue.list()
        assert 1 <= len(kept) <= 2 and all(s.detail["kind"] == "scheduled" and s.verified for s in kept)
        assert "pruned scheduled-" in log.read_text()
        plane.primary.stop("fast")  # a drill took the primary down: the schedule carries on
        wait_for(lambda: "scheduled snapshot failed" in log.read_text(), timeout=60, what="a failed attempt")
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_no_snapshot_is_taken_while_a_drill_fault_is_in_effect(plane: DataPlane, tmp_path: Path) -> None:
    # A snapshot taken during a drill's fault (an overwritten page, a dropped table) would
    # keep the fault after its revert, and the next restore would bring it back.
    StateFile(plane.root).write(EnvRecord(label="test-scheduler-hold", phase="up", clusters={
        "primary": ClusterRecord("primary", str(plane.primary.datadir), plane.primary.port, "primary")}))
    undo = UndoLog(tmp_path, "run-hold")
    seq = undo.before_inject("postgres_heap_page", {"table": "users"}, True, "drills/x.py::test_2d")
    undo.mark(seq, "injected")
    log = plane.root / "scheduler.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", SCHEDULER, "--state-dir",
                                 str(plane.root), "--interval", "1", "--keep", "2",
                                 "--drillbook-dir", str(tmp_path)],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: log.read_text().count("snapshot held back") >= 2, timeout=60, what="held back twice")
        assert "postgres_heap_page (run run-hold)" in log.read_text()
        assert SnapshotCatalogue(plane.root / "snapshots").list() == []
        undo.mark(seq, "reverted")
        wait_for(lambda: "snapshot scheduled-" in log.read_text(), timeout=60, what="a snapshot after revert")
        assert SnapshotCatalogue(plane.root / "snapshots").list()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
