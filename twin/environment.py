"""The local environment: the reference platform in a box (docs/local-environment.md).

A PostgreSQL primary (checksums, WAL archive, scheduled snapshots) and its
streaming DR replica, Redis for sessions, moto's server for the AWS APIs, the
toxiproxy-compatible server on the app→database and app→cache links, and the
Compliant API under a supervisor with Kubernetes semantics behind a front door.

``up()`` starts it all and records every process in the state directory;
``down()`` stops it all, from any process; ``status()`` reports each component.
Roles (``env.database``, ``env.replica``, ...) are available once it is up,
also in another process than the one that started it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from drillbook.harness.config import Config
from drillbook.harness.environments.base import ControlPlanes, Environment, RoleUnavailable
from drillbook.harness.environments.capabilities import LOCAL as LOCAL_CAPABILITIES
from drillbook.harness.environments.lifecycle import ComponentStatus, DownReport
from drillbook.harness.errors import DrillbookError
from drillbook.harness.probes import Probe, http_probe, sql_probe
from drillbook.harness.toxiproxy.errors import ToxiproxyError
from drillbook.twin import network, processes
from drillbook.twin.app_plane import AppPlane, attach_app_plane
from drillbook.twin.archive import WalArchive
from drillbook.twin.aws import (
    AwsEndpoint,
    Route53Dns,
    S3ObjectStore,
    SecretsManagerSecrets,
)
from drillbook.twin.aws_platform import PlatformAws
from drillbook.twin.backups import LocalBackups
from drillbook.twin.cache import LocalCache
from drillbook.twin.database import ClusterBook, LocalDatabase, LocalReplica
from drillbook.twin.kube.kubeconfig import DR_CONTEXT
from drillbook.twin.layout import Layout
from drillbook.twin.network import APP_DB, APP_DB_DR, LocalNetwork
from drillbook.twin.pgbin import find_bindir, server_version
from drillbook.twin.postgres import PostgresCluster
from drillbook.twin.primary import APP_DATABASE
from drillbook.twin.redis import redis_version
from drillbook.twin.settings import LocalSettings
from drillbook.twin.shutdown import stop_environment
from drillbook.twin.snapshots import SnapshotCatalogue
from drillbook.twin.startup import Startup, app_database_url
from drillbook.twin.state import LABEL_VARIABLE, EnvRecord, ProcessRecord, StateFile
from drillbook.twin.status import collect, default_health

Progress = Callable[[str], None]
OPERATION_LOCK = "operation.lock"


class EnvironmentBusy(DrillbookError):
    """Another process is starting or stopping this environment."""


class EnvironmentNotUp(DrillbookError):
    """The environment is not up (run ``drillbook env up``)."""


class LocalEnvironment(Environment):
    name = "local"
    capabilities = LOCAL_CAPABILITIES

    def __init__(self, state_dir: Path, *, config: Config | None = None,
                 settings: LocalSettings | None = None) -> None:
        super().__init__()
        self.state_dir = Path(state_dir).absolute()
        self.config = config
        self.settings = settings if settings is not None else LocalSettings.from_config(config)
        self.poll_interval = self.settings.poll_interval_s
        self.layout = Layout(self.state_dir)
        self.state = StateFile(self.state_dir)
        self.record: EnvRecord | None = None
        self.app_plane: AppPlane | None = None
        #: True when this object's ``up()`` started the environment (not merely attached to it).
        self.started_here = False
        current = self.state.read()
        if current is not None and current.phase == "up":
            self._attach(current)

    # -- lifecycle -------------------------------------------------------------

    def up(self, progress: Progress | None = None) -> bool:
        """Start everything; False (and nothing done) if it is already up and healthy."""
        with self._operation("up"):
            current = self.state.read()
            if current is not None and current.phase == "up" and self._core_alive(current):
                self._attach(current)
                if progress is not None:
                    progress(f"already up since {current.started_at} ({self.state_dir})")
                return False
            if current is not None and current.phase != "down":
                if progress is not None:
                    progress(f"cleaning up a previous run left in phase {current.phase!r}")
                stop_environment(self.state, self.layout, timeout=self.settings.stop_timeout_s,
                                 progress=progress)
            Startup(self, progress).run()
            self._attach(self._read())
            self.started_here = True
            return True

    def down(self, progress: Progress | None = None) -> DownReport:
        """Stop everything this environment started (also after its runner died)."""
        with self._operation("down"):
            report = stop_environment(self.state, self.layout, timeout=self.settings.stop_timeout_s,
                                      progress=progress)
            self._roles.clear()
            self.record = None
            self.app_plane = None
            self.started_here = False
            return report

    def is_up(self) -> bool:
        current = self.state.read()
        return current is not None and current.phase == "up" and self._core_alive(current)

    def status(self) -> list[ComponentStatus]:
        current = self.state.read()
        if current is None or current.phase == "down":
            return []
        return collect(self, current)

    def phase(self) -> str:
        current = self.state.read()
        return "down" if current is None else current.phase

    @contextmanager
    def _operation(self, what: str) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        path = self.state_dir / OPERATION_LOCK
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise EnvironmentBusy(f"{holder} is already starting or stopping the environment in "
                                      f"{self.state_dir}; wait for it, or stop it first") from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"drillbook env {what} (pid {os.getpid()})")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self) -> EnvRecord:
        current = self.state.read()
        if current is None:
            raise EnvironmentNotUp(f"no local environment in {self.state_dir}; run `drillbook env up`")
        return current

    def _core_alive(self, record: EnvRecord) -> bool:
        primary = record.clusters.get("primary")
        if primary is None or not PostgresCluster(Path(primary.datadir), port=primary.port).running():
            return False
        return all(processes.alive(p) for name, p in record.processes.items() if name in ("moto", "redis"))

    # -- roles -----------------------------------------------------------------

    def _attach(self, record: EnvRecord) -> None:
        """Build the role drivers from the state file (works in any process)."""
        self.record = record
        environ = {LABEL_VARIABLE: record.label}
        book = ClusterBook(self.state, self.layout.clusters, environ=environ, logs=self.layout.logs)
        self._book = book
        archive = WalArchive(self.layout.archive)
        roles: dict[str, Any] = {}
        primary = record.clusters.get("primary")
        if primary is not None:
            roles["database"] = LocalDatabase(book.cluster(primary), catalogue=SnapshotCatalogue(
                self.layout.snapshots), archive=archive, book=book)
            roles["backups"] = LocalBackups(roles["database"])
            replica = record.clusters.get("dr-replica")
            if replica is not None:
                roles["replica"] = LocalReplica(book.cluster(replica), primary=book.cluster(primary),
                                                archive=archive, book=book)
        redis = record.processes.get("redis")
        if redis is not None and redis.port:
            roles["cache"] = LocalCache("127.0.0.1", redis.port)
        toxiproxy_url = record.facts.get("toxiproxy_url")
        if toxiproxy_url:
            roles["network"] = LocalNetwork(str(toxiproxy_url))
        self.app_plane = None
        if record.facts.get("front_door_url"):
            try:
                self.app_plane = attach_app_plane(self.layout.app)
            except DrillbookError:
                self.app_plane = None  # the supervisor is down: no app roles until it is back
            else:
                roles["app"] = self.app_plane.api
                roles["workers"] = self.app_plane.workers
                if self.app_plane.dr_api is not None and self.app_plane.dr_workers is not None:
                    roles["app_dr"] = self.app_plane.dr_api
                    roles["workers_dr"] = self.app_plane.dr_workers
        moto_url = record.facts.get("moto_url")
        if moto_url:
            endpoint = AwsEndpoint(str(moto_url))
            roles["object_store"] = S3ObjectStore(endpoint, bucket=self.platform.evidence_bucket)
            names = self.platform
            roles["dns"] = Route53Dns(endpoint, record=names.api_record, dr_target=names.dr_target)
            roles["secrets"] = SecretsManagerSecrets(endpoint)
        self._roles = roles

    @property
    def platform(self) -> PlatformAws:
        return PlatformAws(domain=str((self.record.facts if self.record else {}).get("domain",
                                                                                    self.settings.domain)))

    @property
    def local_database(self) -> LocalDatabase:
        """The database role with its local-only operations (data directory, archive)."""
        return self.role("database")  # type: ignore[no-any-return]

    @property
    def local_replica(self) -> LocalReplica:
        return self.role("replica")  # type: ignore[no-any-return]

    def cluster_at(self, port: int) -> PostgresCluster:
        """The server listening on ``port``: any the twin runs, those its RDS API restored
        since this object attached included (the state file is read again)."""
        for record in self._book.records() if self.record is not None else []:
            if record.port == port:
                return self._book.cluster(record)
        raise RoleUnavailable(f"no server of the local environment listens on port {port}")

    @property
    def aws_endpoint(self) -> AwsEndpoint:
        url = (self.record.facts if self.record else {}).get("moto_url")
        if not url:
            raise EnvironmentNotUp("the AWS APIs (moto) are not up; run `drillbook env up`")
        return AwsEndpoint(str(url))

    def app_database_url(self, instance: Any = None) -> str:
        """The DATABASE_URL by which the application reaches ``instance`` (default: the primary),
        through a toxiproxy link, with no password (the service reads it from Secrets Manager).

        For a switchover: ``env.app.set_env(DATABASE_URL=env.app_database_url(restored))``.
        The primary is reached through ``app-db``, the DR replica through ``app-db-dr``,
        any other instance through a link ``app-db-<name>`` made on first use.
        """
        target = instance if instance is not None else self.database
        port = getattr(target, "port", None)
        if port is None:
            raise DrillbookError(f"{target!r} has no port: pass a local database instance")
        name = {"primary": APP_DB, "dr-replica": APP_DB_DR}.get(target.name, f"app-db-{target.name}")
        if not self.has("network"):
            return app_database_url(int(port))
        return app_database_url(self.network.link_to(name, int(port)))  # type: ignore[attr-defined]

    def deployment(self, name: str) -> Any:
        """Any deployment of the supervisor by name (``api-dr`` and ``workers-dr`` are also the
        roles ``app_dr`` and ``workers_dr``)."""
        if self.app_plane is None:
            raise EnvironmentNotUp("the app plane is not up; run `drillbook env up`")
        return self.app_plane.supervisor.deployment(name)

    def control_planes(self) -> ControlPlanes:
        """The twin's RDS API (moto's endpoint, any credentials) and its Kubernetes API (the
        kubeconfig ``env up`` writes), as a staging profile names them."""
        facts = self.record.facts if self.record is not None else {}
        names = self.platform
        aws: dict[str, Any] = ({"region": names.region, "endpoint_url": str(facts["moto_url"]),
                                "emulator": True} if facts.get("moto_url") else {})
        kube: dict[str, Any] = {}
        if facts.get("kubeconfig") and self.app_plane is not None:
            kube = {"namespace": self.app_plane.namespace, "kubeconfig": str(facts["kubeconfig"])}
        return ControlPlanes(rds_instance=names.primary_instance if aws else None, aws=aws, kube=kube)

    @property
    def front_door_url(self) -> str:
        url = (self.record.facts if self.record else {}).get("front_door_url")
        if not url:
            raise EnvironmentNotUp("the app plane is not up; run `drillbook env up`")
        return str(url)

    # -- probes, versions ------------------------------------------------------

    def steady_probes(self) -> list[Probe]:
        """Health through the front door, the database, the cache."""
        probes: list[Probe] = []
        if self.record is not None and self.record.facts.get("front_door_url"):
            probes.append(http_probe(f"{self.front_door_url}/api/health", name="api health (front door)",
                                     timeout=2.0))
        if self.has("database"):
            probes.append(sql_probe(lambda: self.database.dsn(), name="database", timeout=2.0))
        if self.has("cache"):
            cache = self.cache
            probes.append(Probe("cache", lambda: cache.ping(timeout=1.0)))
        return probes

    def versions(self) -> dict[str, str]:
        found: dict[str, str] = {}
        with contextlib.suppress(DrillbookError):
            found["postgresql"] = server_version(find_bindir())
        redis_server = self.record.processes.get("redis") if self.record else None
        if redis_server is not None:
            found["redis"] = redis_version(Path(redis_server.argv[0]))
        with contextlib.suppress(PackageNotFoundError):
            found["moto"] = version("moto")
        return found

    def fingerprint(self) -> dict[str, Any]:
        return {"environment": "local", **self.versions()}

    def app_status(self) -> list[ComponentStatus]:
        """The Kubernetes API and the deployments (the supervisor and front door are rows of their own)."""
        if self.app_plane is None:
            return []
        return [row for row in self.app_plane.component_status()
                if row.kind.startswith("deployment") or row.name == "kube-api"]

    def access(self) -> dict[str, Any]:
        """How clients written by others reach the twin: ``aws`` (the endpoint and regions, with the
        config file that names them) and the ``kubeconfig`` (what ``env status --json`` shows and
        ``env shell`` exports), and ``endpoints`` (what a staging profile names: ``drillbook env
        profile``). No secret: the twin's superuser and Redis take no password from localhost,
        and AWS (moto) accepts any credentials."""
        facts = self.record.facts if self.record is not None else {}
        found: dict[str, Any] = {"kubeconfig": str(facts["kubeconfig"])} if facts.get("kubeconfig") else {}
        if self.record is None or not facts.get("moto_url"):
            return found
        names = self.platform
        aws: dict[str, Any] = {"endpoint_url": str(facts["moto_url"]), "region": names.region,
                               "dr_region": names.dr_region}
        if facts.get("aws_config"):
            aws["config_file"] = str(facts["aws_config"])
        found["aws"] = dict(aws)
        primary = self.record.clusters.get("primary")
        replica = self.record.clusters.get("dr-replica")
        redis = self.record.processes.get("redis")
        dr_pool = self.app_plane is not None and self.app_plane.dr_enabled
        found["endpoints"] = {
            "aws": aws,
            "database": {
                "instance_id": names.primary_instance,
                "replica_instance_id": names.replica_instance,
                "url": _superuser_url(primary.port) if primary else None,
                "replica_url": _superuser_url(replica.port) if replica else None,
            },
            "redis_url": f"redis://127.0.0.1:{redis.port}/0" if redis is not None and redis.port else None,
            "kube": {"api_url": facts.get("kube_url"), "kubeconfig": facts.get("kubeconfig"),
                     "namespace": self.app_plane.namespace if self.app_plane is not None else None,
                     "dr_context": DR_CONTEXT if dr_pool else None},
            "deployments": {"app": "api", "workers": "workers"},
            # The DR region's pool, served in the kubeconfig's DR context (pilot light: 0 replicas).
            "dr_deployments": {"app_dr": "api-dr", "workers_dr": "workers-dr"} if dr_pool else {},
            "toxiproxy": {"url": facts.get("toxiproxy_url"), "proxies": sorted(facts.get("links") or {})},
            "front_door_url": facts.get("front_door_url"),
            "evidence_bucket": names.evidence_bucket,
            "hosted_zone_id": facts.get("zone_id"),
            "api_record": names.api_record,
            "dr_target": names.dr_target,
            "secret_ids": list(names.secret_ids),
        }
        return found

    def component_health(self, proc: ProcessRecord) -> tuple[str, str]:
        if proc.name == "toxiproxy" and proc.port:
            try:
                names = LocalNetwork(network.api_url(proc.port), timeout=2.0).proxies()
            except ToxiproxyError as exc:
                return "unhealthy", str(exc)
            return "healthy", "links " + ", ".join(names)
        if proc.name == "frontdoor" and proc.port:
            result = http_probe(f"http://127.0.0.1:{proc.port}/api/health", timeout=2.0).run()
            return ("healthy" if result.passed else "unhealthy"), f"/api/health {result.detail}"
        if proc.name == "moto" and proc.port:
            return default_health(proc)
        if proc.name == "redis" and proc.port:
            ok = LocalCache("127.0.0.1", proc.port).ping(timeout=1.0)
            return ("healthy", "PING ok") if ok else ("unhealthy", "no PONG")
        return default_health(proc)


def _superuser_url(port: int) -> str:
    """The twin's superuser, which needs no password from localhost (so none is printed)."""
    return f"postgresql://postgres@127.0.0.1:{port}/{APP_DATABASE}"
