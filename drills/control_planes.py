"""The platform's control planes as the drills reach them: the database's RDS instance and the
app's Kubernetes cluster, through the staging drivers, at the addresses the environment names
(``Environment.control_planes()``: the twin's APIs locally, a profile's on staging).

Faults that call them take the same addresses as parameters (:func:`zone_drain`,
:func:`rds_failover`), so ``drillbook revert`` reaches them again from another process.
"""

from __future__ import annotations

from drillbook.faults.k8s_zone_drain import K8sZoneDrain
from drillbook.faults.rds_reboot_failover import RdsRebootFailover
from drillbook.harness.environments.base import Environment, RebuildableReplica, RoleUnavailable
from drillbook.harness.environments.staging.aws.rds import Rds
from drillbook.harness.environments.staging.k8s.cluster import Cluster
from drillbook.harness.environments.staging.k8s.nodes import Nodes
from drillbook.harness.environments.staging.settings import AwsSettings
from drillbook.harness.errors import DrillbookError

#: How long a zone's drain or a failover may take before the drill gives up on it (the twin:
#: seconds; the drill's hard timeout bounds the whole recovery anyway).
TIMEOUT_S = 300.0


def unstoppable_because(env: Environment) -> str | None:
    """Why the platform refuses to stop the primary database, or None where it may. RDS's rule,
    asked through the roles so that every environment answers alike: a primary with a read
    replica attached cannot be stopped (StopDBInstance fails with InvalidDBInstanceState),
    whatever the replica's status. A replica promoted (1B's outcome, until it is rebuilt) or
    gone is attached no more; where that cannot be told, it is taken as attached."""
    if not env.has("replica"):
        return None
    replica = env.replica
    try:
        attached = not replica.promoted() if isinstance(replica, RebuildableReplica) else replica.running()
    except DrillbookError as exc:
        return f"whether read replica {replica.name} is still attached cannot be told ({exc})"
    if attached:
        return f"{env.database.name} has read replica {replica.name} (RDS refuses StopDBInstance)"
    return None


def missing(env: Environment) -> str | None:
    """Why the drills that need both control planes cannot run on ``env`` (None: they can)."""
    planes = env.control_planes()
    if not planes.rds_instance:
        return f'environment {env.name!r} has no RDS instance for its database (driver = "rds")'
    if not planes.kube:
        return f"environment {env.name!r} has no Kubernetes cluster for its app role"
    return None


def rds(env: Environment) -> tuple[Rds, str]:
    """The RDS API and the database's instance id."""
    planes = env.control_planes()
    if not planes.rds_instance:
        raise RoleUnavailable(missing(env) or "no RDS instance")
    aws = AwsSettings(region=planes.aws["region"], endpoint_url=planes.aws.get("endpoint_url"),
                      profile=planes.aws.get("profile"), config_file=planes.aws.get("config_file"),
                      emulator_credentials=bool(planes.aws.get("emulator")))
    where = f"[environments.{env.name}.database]"
    return Rds(aws, where=where, poll_interval=env.poll_interval), planes.rds_instance


def nodes(env: Environment) -> Nodes:
    """The app's cluster's nodes (cordon, drain)."""
    planes = env.control_planes()
    if not planes.kube:
        raise RoleUnavailable(missing(env) or "no Kubernetes cluster")
    where = f"[environments.{env.name}.app]"
    kube = Cluster(**planes.kube).connect(where=where, poll_interval=env.poll_interval)
    return Nodes(kube, retry_interval=env.poll_interval)


def zone_drain(env: Environment, zone: str, *, grace_period: int | None = None) -> K8sZoneDrain:
    """``kubectl drain`` of every node of ``zone`` (cordoned, pods evicted) as a fault."""
    return K8sZoneDrain(zone, grace_period=grace_period, delete_emptydir_data=True, timeout=TIMEOUT_S,
                        poll_interval=env.poll_interval, retry_interval=env.poll_interval,
                        **env.control_planes().kube)


def rds_failover(env: Environment) -> RdsRebootFailover:
    """``aws rds reboot-db-instance --force-failover`` of the database as a fault."""
    planes = env.control_planes()
    if not planes.rds_instance:
        raise RoleUnavailable(missing(env) or "no RDS instance")
    return RdsRebootFailover(planes.rds_instance, timeout=TIMEOUT_S, poll_interval=env.poll_interval,
                             **planes.aws)
