"""The environment's data plane as the RDS binding acts on it: the state file and the
servers, snapshot catalogues and WAL archive it names. Read afresh on every call: other
processes (a drill, the scheduler, ``env down``) change them too.

Snapshots of the primary are the environment's catalogue (``snapshots/``, the one PITR
starts from); those of any other instance (a final snapshot of a restored one) have a
catalogue of their own under ``snapshots/instances/<server>``, so a restore of the
primary never starts from a copy of another lineage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillbook.twin.archive import WalArchive
from drillbook.twin.aws_platform import PlatformAws
from drillbook.twin.database import ClusterBook, LocalDatabase, LocalReplica
from drillbook.twin.layout import Layout
from drillbook.twin.postgres import PostgresCluster
from drillbook.twin.snapshots import SnapshotCatalogue
from drillbook.twin.state import LABEL_VARIABLE, EnvRecord, StateFile

#: The state file's names of the platform's servers (restored ones have their own).
PRIMARY, STANDBY, REPLICA = "primary", "primary-standby", "dr-replica"
#: Facts of the RDS API in the state file (regions of instances made through it, zones).
FACTS = "rds"


class PlaneNotUp(LookupError):
    """The environment has no primary (not up yet, or down)."""


@dataclass(frozen=True)
class DataPlane:
    layout: Layout
    platform: PlatformAws = field(default_factory=PlatformAws)

    @property
    def state(self) -> StateFile:
        return StateFile(self.layout.root)

    @property
    def archive(self) -> WalArchive:
        return WalArchive(self.layout.archive)

    def record(self) -> EnvRecord:
        record = self.state.read()
        if record is None or PRIMARY not in record.clusters:
            raise PlaneNotUp(f"no environment with a primary in {self.layout.root}")
        return record

    def book(self, record: EnvRecord) -> ClusterBook:
        return ClusterBook(
            self.state, self.layout.clusters, environ={LABEL_VARIABLE: record.label}, logs=self.layout.logs
        )

    def server(self, record: EnvRecord, name: str) -> PostgresCluster:
        return self.book(record).cluster(record.clusters[name])

    def database(self, record: EnvRecord) -> LocalDatabase:
        return LocalDatabase(
            self.server(record, PRIMARY),
            catalogue=self.catalogue(PRIMARY),
            archive=self.archive,
            book=self.book(record),
        )

    def replica(self, record: EnvRecord) -> LocalReplica:
        return LocalReplica(
            self.server(record, REPLICA),
            primary=self.server(record, PRIMARY),
            archive=self.archive,
            book=self.book(record),
        )

    # -- snapshots -------------------------------------------------------------

    def catalogue(self, server: str) -> SnapshotCatalogue:
        if server == PRIMARY:
            return SnapshotCatalogue(self.layout.snapshots)
        return SnapshotCatalogue(self.layout.snapshots / "instances" / server)

    def catalogues(self) -> dict[str, SnapshotCatalogue]:
        """Every server's catalogue that exists (the primary's always)."""
        found = {PRIMARY: self.catalogue(PRIMARY)}
        others = self.layout.snapshots / "instances"
        if others.is_dir():
            found.update(
                {path.name: SnapshotCatalogue(path) for path in sorted(others.iterdir()) if path.is_dir()}
            )
        return found

    # -- the API's facts -------------------------------------------------------

    def facts(self, record: EnvRecord) -> dict[str, Any]:
        return dict(record.facts.get(FACTS) or {})

    def update_facts(self, change: Callable[[dict[str, Any]], None]) -> None:
        def apply(env: EnvRecord) -> None:
            facts = dict(env.facts.get(FACTS) or {})
            change(facts)
            env.facts[FACTS] = facts

        self.state.update(apply)

    def archive_timeout_s(self, record: EnvRecord) -> float:
        return float((record.facts.get("settings") or {}).get("archive_timeout_s", 10.0))


def plane_at(state_dir: Path) -> DataPlane:
    return DataPlane(Layout(Path(state_dir).absolute()))
