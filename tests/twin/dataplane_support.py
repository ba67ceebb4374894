"""Real components for the data plane's tests: a primary with its WAL archive and
snapshot catalogue, and its streaming DR replica, built by the modules the local
environment uses, in a temporary directory, always stopped afterwards."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from drillbook.twin.archive import WalArchive
from drillbook.twin.postgres import PostgresCluster
from drillbook.twin.primary import APP_DATABASE, create_app_database, init_primary
from drillbook.twin.snapshots import SnapshotCatalogue
from drillbook.twin.spread import spread
from drillbook.twin.standby import build_standby


@dataclass
class DataPlane:
    root: Path
    primary: PostgresCluster
    standby: PostgresCluster
    archive: WalArchive
    catalogue: SnapshotCatalogue

    def new_cluster(self, name: str) -> PostgresCluster:
        return PostgresCluster(self.root / name / "data", name=name, dbname=APP_DATABASE)

    def sql(self, query: str, params: tuple[object, ...] | None = None) -> list[tuple[object, ...]]:
        return self.primary.sql(query, params, dbname=APP_DATABASE)

    def stop_all(self) -> None:
        for directory in self.root.iterdir():
            data = directory / "data"
            if (data / "postmaster.pid").exists():
                PostgresCluster(data, port=1, name=directory.name).stop("immediate")


def data_plane(root: Path, *, standby: bool = True) -> Iterator[DataPlane]:
    """A running primary (archiving) with a snapshot catalogue and, optionally, a standby."""
    archive = WalArchive(root / "archive")
    primary = PostgresCluster(root / "primary" / "data", name="primary", dbname=APP_DATABASE)
    primary.prepare_parent()
    archive.create(primary.user)
    plane = DataPlane(root, primary, PostgresCluster(root / "standby" / "data", name="dr-replica",
                                                     dbname=APP_DATABASE),
                      archive, SnapshotCatalogue(root / "snapshots"))
    try:
        init_primary(primary, archive, archive_timeout_s=60)
        primary.start()
        primary.wait_ready()
        create_app_database(primary, "app-password-for-tests")
        if standby:
            build_standby(primary, plane.standby, archive)
        yield plane
    finally:
        plane.stop_all()


@contextmanager
def server_tmp(prefix: str) -> Iterator[Path]:
    """A temporary directory for PostgreSQL servers, outside pytest's.

    When root runs the tests, the servers run as another user who must traverse
    every ancestor of their data directory; every pytest session that starts
    (pytester's inner ones, or any other run on the machine) resets
    /tmp/pytest-of-root to 0700, which would lock that user out mid-test.
    """
    path = Path(tempfile.mkdtemp(prefix=f"drillbook-{prefix}-", dir="/tmp"))
    path.chmod(0o755)
    spread(path)  # each server's files in a block group of its own, as in an environment
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def wait_for(predicate: object, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout}s")
