"""Roles: what faults, probes and runbooks may use of an environment.

Drills talk to roles, never to a driver: the same drill file runs on the local
environment and in staging. Each environment (``local``, ``staging``,
``containers``) provides these roles with its own drivers. A role an
environment cannot provide raises :class:`RoleUnavailable` naming the role,
so a drill can skip itself with a clear reason.

Every call that touches the network has a timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from drillbook.harness.errors import DrillbookError
from drillbook.harness.probes import Probe
from drillbook.harness.toxiproxy.client import ToxiproxyClient

ROLES = (
    "database",
    "replica",
    "cache",
    "app",
    "workers",
    "app_dr",
    "workers_dr",
    "network",
    "object_store",
    "dns",
    "secrets",
    "backups",
)


class RoleUnavailable(DrillbookError):
    """The environment has no driver for this role."""


@dataclass(frozen=True)
class Snapshot:
    """A restorable copy of the database (a base backup locally, an RDS snapshot in AWS)."""

    id: str
    started_at: datetime
    finished_at: datetime
    lsn: str | None = None
    size_bytes: int | None = None
    verified: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class DatabaseInstance(Protocol):
    """One PostgreSQL server (primary, restored copy, promoted replica)."""

    name: str

    def dsn(self, dbname: str | None = None) -> str:
        """An admin DSN (may embed no password: secrets by reference)."""
        ...

    def running(self) -> bool: ...

    def start(self, timeout: float = 60.0) -> None: ...

    def stop(self, mode: str = "fast", timeout: float = 60.0) -> None:
        """``fast`` (clean shutdown) or ``immediate`` (like a crash)."""
        ...


@runtime_checkable
class DatabaseRole(DatabaseInstance, Protocol):
    """The primary database and its DR operations."""

    def snapshot(self, timeout: float = 600.0) -> Snapshot: ...

    def snapshots(self) -> list[Snapshot]:
        """Newest first."""
        ...

    def restore(self, snapshot: Snapshot, name: str, timeout: float = 1800.0) -> DatabaseInstance:
        """A new instance from ``snapshot``; the primary is left as it is."""
        ...

    def restore_to_time(self, target: datetime, name: str, timeout: float = 1800.0) -> DatabaseInstance:
        """Point-in-time recovery into a new instance."""
        ...

    def restore_latest(self, name: str, timeout: float = 1800.0) -> DatabaseInstance:
        """The latest restorable point into a new instance (RDS ``UseLatestRestorableTime``;
        locally the newest snapshot plus the whole WAL archive): what a restore gives back now."""
        ...

    def discard(self, instance: DatabaseInstance | str) -> None:
        """Delete a restored instance (a no-op when it is already gone)."""
        ...


@runtime_checkable
class ReplicaRole(DatabaseInstance, Protocol):
    def lag_s(self) -> float | None:
        """Replication lag in seconds (None when unknown)."""
        ...

    def promote(self, timeout: float = 600.0) -> DatabaseInstance: ...


@runtime_checkable
class RebuildableReplica(ReplicaRole, Protocol):
    """A replica its environment can make again after a promotion (the local standby cloned
    again; RDS: the promoted instance deleted, the read replica created again)."""

    def promoted(self) -> bool: ...

    def rebuild(self, timeout: float = 600.0) -> None: ...


@runtime_checkable
class BackupsRole(Protocol):
    """The database's backups: snapshots newest first, and taking one."""

    def snapshots(self) -> list[Snapshot]: ...

    def latest(self) -> Snapshot | None: ...

    def take(self, timeout: float = 600.0) -> Snapshot: ...


@runtime_checkable
class CacheRole(Protocol):
    def url(self) -> str: ...

    def ping(self, timeout: float = 1.0) -> bool: ...

    def flush(self) -> None: ...

    def dbsize(self) -> int: ...


@dataclass
class ReplicaStatus:
    """One replica (a pod) of a deployment."""

    name: str
    zone: str | None
    phase: str  # Running, Pending, CrashLoopBackOff, Terminated
    ready: bool
    restarts: int = 0
    pid: int | None = None
    release: str | None = None


@runtime_checkable
class DeploymentRole(Protocol):
    """A deployment (the API service, the workers): Kubernetes semantics."""

    name: str

    def replicas(self) -> list[ReplicaStatus]: ...

    def scale(self, count: int) -> None: ...

    def set_env(self, **env: str | None) -> None:
        """A new release with these variables set (None removes one)."""
        ...

    def set_image(self, version: str) -> None:
        """A new release running ``version``."""
        ...

    def rollout_restart(self) -> None: ...

    def rollout_undo(self, to_revision: int | None = None) -> None:
        """Back to the previous release, or to revision ``to_revision``
        (``kubectl rollout undo --to-revision``)."""
        ...

    def history(self) -> list[dict[str, Any]]:
        """The releases, oldest first (``kubectl rollout history``): each has at least
        ``revision``, ``version`` and ``cause``."""
        ...

    def kill(self, count: int | None = None, zone: str | None = None) -> list[str]:
        """Kill replicas with a real signal; returns their names."""
        ...

    def wait_available(self, timeout: float = 120.0) -> None: ...

    def env(self) -> dict[str, str]:
        """The current release's environment (secrets as references)."""
        ...

    def logs(self, pod: str, *, previous: bool = False) -> str:
        """A replica's log; with ``previous`` its last run's before the restart
        (``kubectl logs <pod> --previous``)."""
        ...

    def status(self) -> dict[str, Any]:
        """``replicas`` (desired) and ``pods``: each with at least ``name``, ``ready``, ``phase``
        and ``terminating`` (``kubectl get deployment,pods``)."""
        ...


@runtime_checkable
class ObjectStoreRole(Protocol):
    def default_bucket(self) -> str:
        """The bucket the environment names for evidence (a profile's ``[object_store] bucket``)."""
        ...

    def put(self, bucket: str, key: str, body: bytes, *, sse: bool = True) -> dict[str, Any]: ...

    def get(self, bucket: str, key: str) -> bytes: ...

    def list(self, bucket: str, prefix: str = "") -> list[str]: ...


@runtime_checkable
class DnsRole(Protocol):
    """Records of the platform's hosted zone. ``record`` is the API's record and ``dr_target``
    what it points at after a failover to the DR region (Scenario 1B): a profile's ``[dns]
    record`` and ``dr_target``, the twin's own names locally; None where not configured."""

    record: str | None
    dr_target: str | None

    def upsert(self, name: str, value: str, *, wait: bool = True, timeout: float = 300.0) -> None: ...

    def resolve(self, name: str) -> str | None: ...


@runtime_checkable
class SecretsRole(Protocol):
    def get(self, secret_id: str) -> str: ...

    def put(self, secret_id: str, value: str) -> None: ...


@runtime_checkable
class NetworkRole(Protocol):
    """The toxiproxy in front of the links (``app-db``, ``app-cache``)."""

    #: The toxiproxy REST API (the network faults' client).
    client: ToxiproxyClient

    def api_url(self) -> str: ...

    def proxies(self) -> list[str]: ...

    def listen_port(self, proxy: str) -> int: ...


@dataclass(frozen=True)
class ControlPlanes:
    """Where the platform's control planes answer, as the parameters of the faults that call them
    by their own API through the staging drivers (``rds_reboot_failover``, ``k8s_zone_drain``):
    JSON values, no secret. Empty where the environment has no such control plane."""

    #: The database's RDS instance id.
    rds_instance: str | None = None
    #: How its API is reached: ``region``, ``endpoint_url``, ``profile``, ``config_file`` (the AWS
    #: config file naming the profile), ``emulator`` (an endpoint that takes any credentials:
    #: fixed dummy ones are used).
    aws: dict[str, Any] = field(default_factory=dict)
    #: The app's Kubernetes cluster (``Cluster`` parameters: ``namespace``, ``context``,
    #: ``kubeconfig``, ``api_url``, ``in_cluster``, ``request_timeout``).
    kube: dict[str, Any] = field(default_factory=dict)


class Environment:
    """A named profile exposing resources by role. Subclasses fill ``_roles``."""

    name: str = "unnamed"
    production: bool = False
    #: What the platform can do beyond the roles' common API (``capabilities.KNOWN``).
    capabilities: frozenset[str] = frozenset()
    #: How often a wait polls this platform's control plane (the profile's ``poll_interval``).
    poll_interval: float = 1.0

    def __init__(self) -> None:
        self._roles: dict[str, Any] = {}

    def role(self, name: str) -> Any:
        if name not in ROLES:
            raise RoleUnavailable(f"{name!r} is not a role; roles are {', '.join(ROLES)}")
        try:
            return self._roles[name]
        except KeyError:
            raise RoleUnavailable(f"environment {self.name!r} provides no {name!r} role") from None

    def has(self, name: str) -> bool:
        return name in self._roles

    def can(self, capability: str) -> bool:
        """Whether the platform has ``capability`` (``database.data_directory``, ...)."""
        return capability in self.capabilities

    @property
    def database(self) -> DatabaseRole:
        return self.role("database")  # type: ignore[no-any-return]

    @property
    def replica(self) -> ReplicaRole:
        return self.role("replica")  # type: ignore[no-any-return]

    @property
    def cache(self) -> CacheRole:
        return self.role("cache")  # type: ignore[no-any-return]

    @property
    def app(self) -> DeploymentRole:
        return self.role("app")  # type: ignore[no-any-return]

    @property
    def workers(self) -> DeploymentRole:
        return self.role("workers")  # type: ignore[no-any-return]

    @property
    def app_dr(self) -> DeploymentRole:
        """The API's deployment in the DR region (scaled from zero in a failover, Scenario 1B)."""
        return self.role("app_dr")  # type: ignore[no-any-return]

    @property
    def workers_dr(self) -> DeploymentRole:
        return self.role("workers_dr")  # type: ignore[no-any-return]

    @property
    def network(self) -> NetworkRole:
        return self.role("network")  # type: ignore[no-any-return]

    @property
    def object_store(self) -> ObjectStoreRole:
        return self.role("object_store")  # type: ignore[no-any-return]

    @property
    def dns(self) -> DnsRole:
        return self.role("dns")  # type: ignore[no-any-return]

    @property
    def secrets(self) -> SecretsRole:
        return self.role("secrets")  # type: ignore[no-any-return]

    def fingerprint(self) -> dict[str, Any]:
        """Versions of what the environment runs, for the journal."""
        return {}

    def settle(self, progress: Callable[[str], None] | None = None) -> None:
        """Wait until work still going on after ``up`` is done, before the first drill (the
        twin's Multi-AZ standby, built in the background: its RDS instance is ``modifying``
        until then). Nothing to wait for by default: a staging platform is as it is."""

    def control_planes(self) -> ControlPlanes:
        """The RDS instance and the Kubernetes cluster behind the roles, for faults that call them
        directly (a zone's nodes drained, a Multi-AZ failover)."""
        return ControlPlanes()

    def steady_probes(self) -> list[Probe]:
        """The platform's steady state (health endpoint, database, cache)."""
        return []

    @property
    def front_door_url(self) -> str:
        """The API as its clients reach it (the local front door, a profile's ``app_url``)."""
        raise RoleUnavailable(f"environment {self.name!r} has no API URL (app_url) for drills to call")

    def access(self) -> dict[str, Any]:
        """How clients written by others reach it (``kubeconfig``, AWS settings): part of
        ``drillbook env status --json``; empty when there is nothing to point them at."""
        return {}
