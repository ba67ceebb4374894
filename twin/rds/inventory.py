"""What the twin's RDS API lists: which PostgreSQL server each DB instance is, in which
region and zone, and which snapshots exist.

The platform's instances have the DR procedures' identifiers: the primary
``compliant-prod`` in us-east-1 (Multi-AZ once its standby server runs in the other zone)
and its read replica ``compliant-prod-replica-west`` in us-west-2 (the DR replica, a
standalone instance once promoted). A restored instance's server is named by its
identifier. Scheduled snapshots of the primary are its ``automated`` snapshots
(``rds:compliant-prod-<time>``); every other snapshot is ``manual``.
"""

from __future__ import annotations

from dataclasses import dataclass

from drillbook.harness.environments.base import Snapshot
from drillbook.twin.rds.plane import PRIMARY, REPLICA, STANDBY, DataPlane
from drillbook.twin.state import EnvRecord

#: Roles of the state file whose servers are restored instances (RDS restores, PITR).
RESTORED_ROLES = ("restored", "pitr")
PRIMARY_KIND, REPLICA_KIND, STANDALONE_KIND = "primary", "replica", "standalone"
SCHEDULED_PREFIX = "scheduled-"


@dataclass(frozen=True)
class Ref:
    """An instance named from another one (a replica's source, a source's replicas)."""

    id: str
    region: str


@dataclass(frozen=True)
class Instance:
    id: str
    #: The state file's name of its server.
    server: str
    region: str
    zone: str
    kind: str
    port: int
    #: The zone of the Multi-AZ standby, when it runs.
    secondary_zone: str | None = None
    #: A read replica's source instance.
    source: Ref | None = None
    replicas: tuple[Ref, ...] = ()

    @property
    def backups(self) -> bool:
        """Automated backups (snapshots plus the WAL archive), so point-in-time restore."""
        return self.kind == PRIMARY_KIND

    @property
    def protected(self) -> bool:
        """The platform's own instances have deletion protection; the DR replica loses it once
        promoted, so a failover's revert can delete it and create the read replica again."""
        return self.server == PRIMARY or (self.server == REPLICA and self.kind == REPLICA_KIND)


@dataclass(frozen=True)
class SnapshotEntry:
    id: str
    instance: str
    region: str
    kind: str  # manual, automated
    snapshot: Snapshot
    #: The server whose catalogue holds it.
    server: str


def instance_id(plane: DataPlane, server: str) -> str:
    return {PRIMARY: plane.platform.primary_instance, REPLICA: plane.platform.replica_instance}.get(
        server, server
    )


def server_name(plane: DataPlane, identifier: str) -> str:
    """The server of an instance identifier (case-insensitive, as RDS identifiers are)."""
    wanted = identifier.lower()
    named = {plane.platform.primary_instance: PRIMARY, plane.platform.replica_instance: REPLICA}
    return named.get(wanted, wanted)


def region_of(plane: DataPlane, record: EnvRecord, server: str) -> str:
    if server in (PRIMARY, STANDBY):
        return plane.platform.region
    if server == REPLICA:
        return plane.platform.dr_region
    return str(plane.facts(record).get("regions", {}).get(server, plane.platform.region))


def zones(plane: DataPlane, record: EnvRecord) -> tuple[str, str]:
    """The primary's zone and its standby's (they swap at a failover)."""
    primary = str(plane.facts(record).get("primary_zone", f"{plane.platform.region}a"))
    return primary, other_zone(primary)


def other_zone(zone: str) -> str:
    """The platform's other zone (az-a and az-b are a region's zones a and b)."""
    return zone[:-1] + ("b" if zone.endswith("a") else "a")


def instances(plane: DataPlane, record: EnvRecord) -> list[Instance]:
    found: list[Instance] = []
    platform = plane.platform
    primary_zone, standby_zone = zones(plane, record)
    replica = record.clusters.get(REPLICA)
    replicating = replica is not None and replica.role == "standby"
    for name, cluster in record.clusters.items():
        if name == PRIMARY:
            found.append(
                Instance(
                    platform.primary_instance,
                    name,
                    platform.region,
                    primary_zone,
                    PRIMARY_KIND,
                    cluster.port,
                    secondary_zone=standby_zone if STANDBY in record.clusters else None,
                    replicas=(Ref(platform.replica_instance, platform.dr_region),) if replicating else (),
                )
            )
        elif name == REPLICA:
            found.append(
                Instance(
                    platform.replica_instance,
                    name,
                    platform.dr_region,
                    f"{platform.dr_region}a",
                    REPLICA_KIND if replicating else STANDALONE_KIND,
                    cluster.port,
                    source=Ref(platform.primary_instance, platform.region) if replicating else None,
                )
            )
        elif cluster.role in RESTORED_ROLES:
            region = region_of(plane, record, name)
            found.append(Instance(name, name, region, f"{region}a", STANDALONE_KIND, cluster.port))
    return found


def rds_snapshot_id(instance: str, snapshot: Snapshot) -> str:
    if snapshot.id.startswith(SCHEDULED_PREFIX):
        return f"rds:{instance}-{snapshot.id.removeprefix(SCHEDULED_PREFIX)}".lower()
    return snapshot.id.lower()


def snapshots(plane: DataPlane, record: EnvRecord) -> list[SnapshotEntry]:
    """Every catalogued snapshot, of every server (also of deleted instances), newest first."""
    found: list[SnapshotEntry] = []
    for server, catalogue in plane.catalogues().items():
        owner = instance_id(plane, server)
        region = region_of(plane, record, server)
        for snap in catalogue.list():
            kind = "automated" if snap.detail.get("kind") == "scheduled" else "manual"
            found.append(SnapshotEntry(rds_snapshot_id(owner, snap), owner, region, kind, snap, server))
    return sorted(found, key=lambda entry: entry.snapshot.finished_at, reverse=True)
