"""CreateDBInstanceReadReplica, and DeleteDBInstance of the promoted DR replica: how a
failover's revert gets the platform's DR replica back, as on RDS (delete the promoted
instance, create the read replica again under the same identifier).

The twin has one read replica, the platform's ``compliant-prod-replica-west`` in the DR
region, cross-region from the primary. Creating it clones the running primary into a
streaming standby (``pg_basebackup`` through the replica's slot, as ``env up`` and
:meth:`LocalReplica.rebuild` do), ``creating`` meanwhile. The new server listens on the
port the deleted one had: RDS gives an instance recreated under the same identifier the
same endpoint, and whoever holds it (a profile's URL, the application's ``app-db-dr``
link) keeps working.
"""

from __future__ import annotations

from drillbook.twin.rds.errors import DBInstanceAlreadyExists, InvalidDBInstanceState, InvalidParameterValue
from drillbook.twin.rds.inventory import REPLICA_KIND, Instance, Ref
from drillbook.twin.rds.operations import INSTANCE
from drillbook.twin.rds.plane import PRIMARY, REPLICA, DataPlane
from drillbook.twin.rds.views import AVAILABLE, TwinViews
from drillbook.twin.standby import SLOT, build_standby, drop_slot
from drillbook.twin.state import ClusterRecord, EnvRecord

#: The rds facts' key of the port the deleted DR replica listened on (its endpoint).
REPLICA_PORT = "replica_port"
#: How long cloning the primary may take.
CREATE_TIMEOUT_S = 600.0


class ReadReplicaActions(TwinViews):
    def create_replica(self, identifier: str, source: str, region: str) -> None:
        platform = self.plane.platform
        with self.lock:
            if identifier.lower() != platform.replica_instance or region != platform.dr_region:
                raise InvalidParameterValue(
                    f"The local environment has one read replica, {platform.replica_instance} in "
                    f"{platform.dr_region}; {identifier} in {region} cannot be created."
                )
            primary = self._source(source)
            if self.instance_exists(identifier):
                raise DBInstanceAlreadyExists()
            record = self.record()
            port = self._endpoint_port(record)
            primary_server = self.plane.server(record, PRIMARY)
            standby = self.plane.book(record).cluster(
                ClusterRecord(REPLICA, str(self.plane.layout.cluster(REPLICA)), port, "standby")
            )
            plane = self.plane

            def work() -> None:
                if standby.datadir.exists():  # a creation cut short
                    standby.destroy()
                build_standby(primary_server, standby, plane.archive, slot=SLOT, timeout=CREATE_TIMEOUT_S)
                add_replica(plane, standby.port)

            inst = Instance(
                platform.replica_instance, REPLICA, platform.dr_region, f"{platform.dr_region}a",
                REPLICA_KIND, port, source=Ref(primary, platform.region),
            )
            self.making_instance(inst)
            self.ops.begin(INSTANCE, inst.id, action="create read replica", status="creating", work=work,
                           failed_status="failed")

    def _source(self, source: str) -> str:
        """The primary's identifier, named by it or (cross-region) by its ARN."""
        platform = self.plane.platform
        ident = source.rsplit(":", 1)[-1].lower() if source.startswith("arn:") else source.lower()
        in_region = not source.startswith("arn:") or f":rds:{platform.region}:" in source
        if ident != platform.primary_instance or not in_region:
            raise InvalidParameterValue(
                f"The source of {platform.replica_instance} is the primary {platform.primary_instance} "
                f"({platform.region}); give it by its ARN, not {source}."
            )
        view = self.instance(ident, platform.region)
        if view.status != AVAILABLE:
            raise InvalidDBInstanceState(
                f"Instance {ident} is {view.status}; a read replica is created from an available instance."
            )
        return ident

    def _endpoint_port(self, record: EnvRecord) -> int:
        port = self.plane.facts(record).get(REPLICA_PORT)
        if port is None:
            raise InvalidDBInstanceState(
                f"The local environment does not know the endpoint of "
                f"{self.plane.platform.replica_instance}; `drillbook env down` then `up` makes the DR "
                "replica again."
            )
        return int(port)


def add_replica(plane: DataPlane, port: int) -> None:
    def add(env: EnvRecord) -> None:
        env.clusters[REPLICA] = ClusterRecord(REPLICA, str(plane.layout.cluster(REPLICA)), port, "standby")

    plane.state.update(add)


def discard_promoted_replica(plane: DataPlane, record: EnvRecord) -> None:
    """Delete the promoted DR replica's server, remembering its port (its endpoint) for the
    next CreateDBInstanceReadReplica, and drop its slot on the primary (it would keep WAL for
    nobody)."""
    cluster = record.clusters[REPLICA]
    plane.update_facts(lambda facts: facts.__setitem__(REPLICA_PORT, cluster.port))
    plane.server(record, REPLICA).destroy()
    plane.book(record).forget(REPLICA)
    primary = plane.server(record, PRIMARY)
    if primary.running():
        drop_slot(primary, SLOT)
