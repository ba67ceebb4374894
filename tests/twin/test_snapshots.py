"""Snapshots are catalogued, verified with pg_verifybackup, and restore into new servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drillbook.twin.pitr import restore_snapshot
from drillbook.twin.snapshots import SnapshotCatalogue, SnapshotError, SnapshotNotFound
from tests.twin.dataplane_support import DataPlane, data_plane, server_tmp


@pytest.fixture(scope="module")
def plane() -> Iterator[DataPlane]:
    with server_tmp("snapshots") as root:
        yield from data_plane(root, standby=False)


def test_a_snapshot_is_verified_and_restores_the_data_as_it_was(plane: DataPlane) -> None:
    plane.sql("CREATE TABLE snapped AS SELECT generate_series(1, 1000) AS id")
    snap = plane.catalogue.take(plane.primary)
    plane.sql("INSERT INTO snapped VALUES (1001)")  # after the snapshot: not restored
    assert snap.verified is True
    assert snap.lsn is not None and snap.detail["end_lsn"] and snap.detail["timeline"] == 1
    assert snap.size_bytes is not None and snap.size_bytes > 1_000_000
    assert snap.started_at <= snap.finished_at
    assert plane.catalogue.get(snap.id) == snap
    assert plane.catalogue.latest() == snap
    restored = restore_snapshot(plane.catalogue, snap, plane.new_cluster("restored"))
    try:
        assert restored.sql("SELECT count(*), max(id) FROM snapped", dbname="compliant") == [(1000, 1000)]
        assert not restored.in_recovery()
        assert restored.port != plane.primary.port
        assert restored.sql("SHOW archive_mode") == [("off",)]
        assert restored.sql("SHOW data_checksums") == [("on",)]
    finally:
        restored.stop("immediate")


def test_a_tampered_snapshot_fails_verification(plane: DataPlane) -> None:
    plane.sql("CREATE TABLE IF NOT EXISTS tampered AS SELECT generate_series(1, 500) AS id")
    snap = plane.catalogue.take(plane.primary)
    relpath = plane.sql("SELECT pg_relation_filepath('tampered')")[0][0]
    victim = plane.catalogue.data(snap) / str(relpath)
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF
    victim.write_bytes(bytes(data))
    checked = plane.catalogue.verify(snap, plane.primary)
    assert checked.verified is False
    assert "checksum mismatch" in checked.detail["verify_error"]
    assert plane.catalogue.get(snap.id).verified is False  # the catalogue keeps the outcome


def test_restoring_into_an_existing_directory_is_refused(plane: DataPlane) -> None:
    snap = plane.catalogue.latest()
    assert snap is not None
    with pytest.raises(SnapshotError, match="already exists"):
        plane.catalogue.copy_into(snap, plane.primary.datadir)


def test_prune_keeps_the_newest_and_unknown_ids_are_named(plane: DataPlane) -> None:
    catalogue = SnapshotCatalogue(plane.root / "pruned")
    taken = [catalogue.take(plane.primary, kind="scheduled", verify=False) for _ in range(3)]
    manual = catalogue.take(plane.primary, kind="manual", verify=False)
    deleted = catalogue.prune(keep=1)
    assert sorted(deleted) == sorted(s.id for s in taken[:2])
    assert {s.id for s in catalogue.list()} == {taken[2].id, manual.id}
    with pytest.raises(SnapshotNotFound, match=taken[0].id):
        catalogue.get(taken[0].id)
