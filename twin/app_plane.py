"""The app plane of the local environment: the supervisor, its deployments, the front door.

Launch API (``LocalEnvironment`` calls it; anything else may too)::

    plane = start_app_plane(
        state_dir,                      # e.g. <env state dir>/app; created if missing
        database_url=..., redis_url=...,        # as the service reaches them (through the proxies);
                                                # DATABASE_URL holds no password
        aws_endpoint="http://127.0.0.1:PORT",   # moto (Secrets Manager, Route 53)
        hosted_zone_id="Z...", record_name="api.compliant.example",
        dr_database_url=...,            # the DR replica: enables deployments api-dr and workers-dr
        label=env_label,                # DRILLBOOK_ENV_LABEL of every process started, for reaping
        on_process=record,              # called with each AppProcess the moment it exists
        logs_dir=<env logs dir>,        # kept after `env down`
    )
    plane.front_door_url               # http://127.0.0.1:PORT: the API as clients reach it
    plane.api, plane.workers           # Deployment (a DeploymentRole) in the primary region
    plane.dr_api, plane.dr_workers     # in the DR region (0 replicas until scaled: pilot light)
    plane.supervisor                   # SupervisorClient: zones (cordon), events, logs
    plane.kube_url                     # the Kubernetes API the supervisor serves (kubectl, the client)
    plane.component_status()           # rows for `drillbook env status`
    plane.stop()                       # or stop_app_plane(state_dir) from any process

    attach_app_plane(state_dir)        # the same AppPlane, in another process

Modules: this one (the plane, its start), ``app_processes`` (the manifest, spawning, waiting
for a process's info file), ``app_stop`` (stopping it from the files).

Processes: the supervisor (``supervisor``), the front door (``frontdoor``), and
the pods the supervisor starts; all detached (own session) and labelled.
``stop_app_plane`` stops them from the files in ``state_dir`` alone (it works
after the launching process was killed) and checks, by pid and by port, that
nothing is left.

The API record's value picks the front door's pool: ``PRIMARY_TARGET`` ->
``api``, ``DR_TARGET`` -> ``api-dr`` (a CNAME or an alias target). If the
record does not exist yet it is created pointing at ``PRIMARY_TARGET``.
"""

from __future__ import annotations

import json
import signal
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from drillbook.harness import procs
from drillbook.harness.environments.lifecycle import ComponentStatus
from drillbook.twin.app_processes import AppPlaneError, AppProcess
from drillbook.twin.app_processes import python_env as _python_env
from drillbook.twin.app_processes import read_manifest as _read_manifest
from drillbook.twin.app_processes import reap as _reap
from drillbook.twin.app_processes import running as _running
from drillbook.twin.app_processes import spawn as _spawn
from drillbook.twin.app_processes import wait_for_info as _wait_for_info
from drillbook.twin.app_processes import write_manifest as _write_manifest
from drillbook.twin.app_stop import StopReport, stop_app_plane
from drillbook.twin.aws_platform import PlatformAws
from drillbook.twin.frontdoor import STATUS_PATH, FrontDoorConfig
from drillbook.twin.postgres import free_port
from drillbook.twin.service.images import (
    API_IMAGES,
    BAD_VERSION,
    GOOD_VERSION,
    NEW_REQUIRED_VARIABLE,
    WORKER_IMAGES,
)
from drillbook.twin.state import LABEL_VARIABLE
from drillbook.twin.supervisor.client import Deployment, SupervisorClient
from drillbook.twin.supervisor.errors import SupervisorUnavailable
from drillbook.twin.supervisor.model import (
    BackoffPolicy,
    ClusterState,
    ProbePolicy,
    Release,
    Zone,
)
from drillbook.twin.supervisor.model import Deployment as DeploymentSpec
from drillbook.twin.supervisor.process import kill_group
from drillbook.twin.supervisor.store import StateFiles, write_atomic

_PLATFORM = PlatformAws()
PRIMARY_TARGET = _PLATFORM.primary_target
DR_TARGET = _PLATFORM.dr_target
KUBE_NAMESPACE = "production"  # the DR procedures' namespace (`kubectl ... -n production`)
__all__ = ["BAD_VERSION", "DR_TARGET", "GOOD_VERSION", "NEW_REQUIRED_VARIABLE", "PRIMARY_TARGET", "AppPlane",
           "AppPlaneError", "AppProcess", "SecretRefs", "StopReport", "attach_app_plane", "start_app_plane",
           "stop_app_plane"]


@dataclass(frozen=True)
class SecretRefs:
    """Secrets Manager ids (never values) of the service's secrets."""

    jwt: str = _PLATFORM.jwt_secret_id
    db_password: str = _PLATFORM.db_password_secret_id
    encryption_key: str = _PLATFORM.encryption_key_secret_id

    def env(self) -> dict[str, str]:
        return {"JWT_SECRET_ID": self.jwt, "DB_PASSWORD_SECRET_ID": self.db_password,
                "ENCRYPTION_KEY_SECRET_ID": self.encryption_key}


@dataclass
class AppPlane:
    state_dir: Path
    supervisor: SupervisorClient
    front_door_url: str
    label: str
    processes: list[AppProcess] = field(default_factory=list)
    dr_enabled: bool = False

    @property
    def api(self) -> Deployment:
        return self.supervisor.deployment("api")

    @property
    def workers(self) -> Deployment:
        return self.supervisor.deployment("workers")

    @property
    def dr_api(self) -> Deployment | None:
        return self.supervisor.deployment("api-dr") if self.dr_enabled else None

    @property
    def dr_workers(self) -> Deployment | None:
        return self.supervisor.deployment("workers-dr") if self.dr_enabled else None

    @property
    def kube_url(self) -> str:
        """The Kubernetes API over this plane's supervisor (``drillbook.twin.kube``)."""
        files = StateFiles(self.state_dir / "supervisor")
        info = files.read_json(files.supervisor) or {}
        if not info.get("kube_url"):
            raise AppPlaneError(f"no Kubernetes API recorded in {files.supervisor}: "
                                "is the supervisor running?")
        return str(info["kube_url"])

    @property
    def namespace(self) -> str:
        """The namespace of its deployments in the Kubernetes API."""
        files = StateFiles(self.state_dir / "supervisor")
        return str((files.read_json(files.state) or {}).get("namespace") or KUBE_NAMESPACE)

    def restart_supervisor(self, timeout: float = 30.0) -> AppProcess:
        """Start a new supervisor after the old one died: it adopts the pods still running
        (by pid and start time) and restarts the ones that died meanwhile."""
        manifest = _read_manifest(self.state_dir) or {}
        old = manifest.get("supervisor")
        if isinstance(old, dict) and procs.alive(int(old["pid"]), old.get("ticks")):
            raise AppPlaneError(f"the supervisor still runs (pid {old['pid']}); stop it first")
        manifest.setdefault("logs", str(self.state_dir / "logs"))
        manifest.setdefault("label", self.label)
        started: list[AppProcess] = []
        proc, self.supervisor = _start_supervisor(self.state_dir, manifest, started, timeout)
        self.processes = [proc if p.name == "supervisor" else p for p in self.processes]
        return proc

    def stop(self, timeout: float = 30.0) -> StopReport:
        return stop_app_plane(self.state_dir, timeout=timeout)

    def front_door_running(self) -> bool:
        entry = (_read_manifest(self.state_dir) or {}).get("frontdoor")
        return isinstance(entry, dict) and procs.alive(int(entry["pid"]), entry.get("ticks"))

    def stop_front_door(self, timeout: float = 10.0) -> None:
        """Stop the front door (the load balancer goes away; the pods keep running)."""
        entry = (_read_manifest(self.state_dir) or {}).get("frontdoor")
        if not isinstance(entry, dict):
            return
        pid, ticks = int(entry["pid"]), entry.get("ticks")
        if procs.signal_if_same(pid, ticks, signal.SIGTERM) and not procs.wait_gone(pid, timeout):
            kill_group(pid, ticks)
            procs.wait_gone(pid, 5.0)
        _reap(pid)

    def start_front_door(self, timeout: float = 30.0) -> AppProcess:
        """Start the front door again on the same port, from its saved configuration."""
        manifest = _read_manifest(self.state_dir) or {}
        if self.front_door_running():
            return AppProcess(**manifest["frontdoor"])
        config_file = self.state_dir / "frontdoor-config.json"
        config = json.loads(config_file.read_text())
        config["port"] = int(self.front_door_url.rsplit(":", 1)[1])
        write_atomic(config_file, json.dumps(config, indent=1))
        door_info = Path(config["info_file"])
        door_info.unlink(missing_ok=True)
        old = manifest.get("frontdoor") or {}
        # moto takes any credentials (a real endpoint is not this local front door's).
        env = {**_python_env(), LABEL_VARIABLE: self.label, "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}
        door = _spawn("frontdoor", list(old.get("argv") or [sys.executable, "-m",
                      "drillbook.twin.frontdoor", "--config", str(config_file)]),
                      Path(str(old.get("log") or self.state_dir / "logs" / "frontdoor.log")), env)
        manifest["frontdoor"] = asdict(door)
        _write_manifest(self.state_dir, manifest)
        _wait_for_info(door_info, door, timeout)
        door = replace(door, port=config["port"])
        manifest["frontdoor"] = asdict(door)
        _write_manifest(self.state_dir, manifest)
        self.processes = [door if p.name == "frontdoor" else p for p in self.processes]
        return door

    def front_door_status(self, timeout: float = 2.0) -> dict[str, Any]:
        import urllib.request

        with urllib.request.urlopen(self.front_door_url + STATUS_PATH, timeout=timeout) as response:
            return dict(json.loads(response.read()))

    def ports(self) -> list[int]:
        """Every port the app plane listens on now (front door, control API, Kubernetes API, pods)."""
        ports = [p.port for p in self.processes if p.port]
        files = StateFiles(self.state_dir / "supervisor")
        saved = files.read_json(files.state)
        ports += [int(saved["kube_port"])] if saved and saved.get("kube_port") else []
        try:
            for deployment in self.supervisor.status()["deployments"]:
                ports += [pod["port"] for pod in deployment["pods"] if pod["pid"] and pod["port"]]
        except SupervisorUnavailable:
            pass
        return sorted(set(ports))

    def component_status(self) -> list[ComponentStatus]:
        """``drillbook env status`` rows: the supervisor, its Kubernetes API, the front door, each
        deployment."""
        rows = []
        for proc in self.processes:
            alive = procs.alive(proc.pid, proc.ticks)
            rows.append(ComponentStatus(proc.name, proc.name, proc.pid if alive else None, proc.port,
                                        "healthy" if alive else "down"))
            if proc.name == "supervisor":
                rows.append(self._kube_status(proc.pid if alive else None))
        try:
            overview = self.supervisor.status()
        except SupervisorUnavailable as exc:
            return [*rows, ComponentStatus("deployments", "deployment", None, None, "unhealthy", str(exc))]
        for d in overview["deployments"]:
            pods = ", ".join(_pod_line(p) for p in d["pods"])
            complete = d["rollout"] == "complete" and d["available"] == d["replicas"]
            health = "healthy" if complete else "unhealthy"
            rows.append(ComponentStatus(
                d["name"], f"deployment ({d['region']})", None, None, health,
                f"{d['available']}/{d['replicas']} ready, revision {d['revision']} version {d['version']}, "
                f"rollout {d['rollout']}" + (f"; {pods}" if pods else "")))
        return rows


    def _kube_status(self, pid: int | None) -> ComponentStatus:
        import urllib.request

        try:
            url = self.kube_url
            with urllib.request.urlopen(f"{url}/version", timeout=2.0) as response:
                version = json.loads(response.read())["gitVersion"]
        except (AppPlaneError, OSError, ValueError, KeyError) as exc:
            return ComponentStatus("kube-api", "kubernetes api", pid, None, "unhealthy", str(exc))
        return ComponentStatus("kube-api", "kubernetes api", pid, int(url.rsplit(":", 1)[1]), "healthy",
                               f"{url} ({version}), namespace {self.namespace}")


def _pod_line(pod: dict[str, Any]) -> str:
    restarts = f" restarts={pod['restarts']}" if pod["restarts"] else ""
    return f"{pod['name']} {pod['zone'] or '-'} {pod['phase']}{' ready' if pod['ready'] else ''}{restarts}"


def start_app_plane(
    state_dir: Path,
    *,
    database_url: str,
    redis_url: str,
    aws_endpoint: str | None,
    hosted_zone_id: str,
    record_name: str,
    secrets: SecretRefs = SecretRefs(),
    region: str = "us-east-1",
    dr_database_url: str | None = None,
    dr_redis_url: str | None = None,
    replicas: int = 3,
    workers: int = 1,
    max_surge: int = 1,
    dr_replicas: int = 0,
    dr_workers: int = 0,
    zones: Sequence[str] = ("az-a", "az-b"),
    dr_zones: Sequence[str] = ("dr-az-a", "dr-az-b"),
    version: str = GOOD_VERSION,
    backoff: BackoffPolicy | None = None,
    probes: ProbePolicy | None = None,
    pools: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    aws_credentials: Mapping[str, str] | None = None,
    label: str | None = None,
    logs_dir: Path | None = None,
    on_process: Callable[[AppProcess], None] | None = None,
    timeout: float = 60.0,
    wait: bool = True,
    kube_port: int | None = None,
    namespace: str = KUBE_NAMESPACE,
) -> AppPlane:
    """Start the supervisor (with the deployments) and the front door; see the module docstring."""
    _check_counts(replicas=replicas, workers=workers, dr_replicas=dr_replicas, dr_workers=dr_workers)
    if not zones or (dr_database_url and not dr_zones):
        raise AppPlaneError("at least one zone is needed per region")
    state_dir = Path(state_dir).absolute()
    files = StateFiles(state_dir / "supervisor")
    previous = _read_manifest(state_dir)
    if previous is not None and _running(previous):
        raise AppPlaneError(f"an app plane already runs from {state_dir} (supervisor pid "
                            f"{previous['supervisor']['pid']}); stop it first")
    if previous is not None or files.state.exists():
        stop_app_plane(state_dir, timeout=10.0)
    label = label or uuid.uuid4().hex[:16]
    logs = Path(logs_dir).absolute() if logs_dir else state_dir / "logs"
    # moto takes any credentials; a real endpoint needs the caller's.
    credentials = dict(aws_credentials or {"AWS_ACCESS_KEY_ID": "testing",
                                           "AWS_SECRET_ACCESS_KEY": "testing"})
    state = _cluster_state(
        database_url=database_url, redis_url=redis_url, aws_endpoint=aws_endpoint, region=region,
        secrets=secrets, dr_database_url=dr_database_url, dr_redis_url=dr_redis_url or redis_url,
        counts=(replicas, workers, dr_replicas, dr_workers), zones=list(zones), dr_zones=list(dr_zones),
        version=version, backoff=backoff or BackoffPolicy(), probes=probes or ProbePolicy(),
        extra_env=dict(extra_env or {}), base_env={**_python_env(), **credentials, LABEL_VARIABLE: label},
        label=label, max_surge=max_surge)
    state.logs_dir = str(logs)
    # Chosen once and kept in the state: a supervisor started again serves the API on it again.
    state.kube_port = kube_port or free_port()
    state.namespace = namespace
    logs.mkdir(parents=True, exist_ok=True)
    files.write_state(state)
    files.supervisor.unlink(missing_ok=True)
    started: list[AppProcess] = []
    manifest: dict[str, Any] = {"label": label, "state_dir": str(state_dir), "dr": bool(dr_database_url),
                                "logs": str(logs)}
    step = "starting the supervisor"
    # The API record (a Route 53 call: a second of boto3 on a busy machine) is made, and the front
    # door (which reads it) spawned, while the supervisor starts: three starts side by side.
    record = ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-record")
    ensured = record.submit(_ensure_record, aws_endpoint, region, hosted_zone_id, record_name, credentials)
    record.shutdown(wait=False)
    # The front door may start before the supervisor publishes: no stale pods to route to meanwhile.
    files.endpoints.unlink(missing_ok=True)
    try:
        supervisor = _spawn_supervisor(state_dir, manifest, started)

        step = "creating the API record"
        ensured.result(timeout=timeout)

        step = "starting the front door"
        door_info = state_dir / "frontdoor.json"
        door_info.unlink(missing_ok=True)
        config = FrontDoorConfig(
            endpoints_file=str(files.endpoints), info_file=str(door_info), hosted_zone_id=hosted_zone_id,
            record_name=record_name, pools=dict(pools or {PRIMARY_TARGET: "api", DR_TARGET: "api-dr"}),
            aws_endpoint=aws_endpoint, region=region, label=label)
        config_file = state_dir / "frontdoor-config.json"
        write_atomic(config_file, json.dumps(asdict(config), indent=1))
        door = _spawn("frontdoor", [sys.executable, "-m", "drillbook.twin.frontdoor",
                                    "--config", str(config_file)],
                      logs / "frontdoor.log", {**_python_env(), **credentials, LABEL_VARIABLE: label})
        started.append(door)
        manifest["frontdoor"] = asdict(door)
        _write_manifest(state_dir, manifest)

        step = "starting the supervisor"
        supervisor, client = _await_supervisor(state_dir, manifest, started, supervisor, timeout)
        if on_process is not None:
            on_process(supervisor)

        step = "starting the front door"
        door_url = str(_wait_for_info(door_info, door, timeout)["url"])
        door = replace(door, port=int(door_url.rsplit(":", 1)[1]))
        started[started.index(next(p for p in started if p.name == "frontdoor"))] = door
        manifest["frontdoor"] = asdict(door)
        manifest["front_door_url"] = door_url
        _write_manifest(state_dir, manifest)
        if on_process is not None:
            on_process(door)

        plane = AppPlane(state_dir, client, door_url, label, started, bool(dr_database_url))
        if wait:
            for deployment in state.deployments.values():
                step = f"waiting for deployment {deployment.name} ({deployment.replicas} replicas)"
                plane.supervisor.deployment(deployment.name).wait_available(timeout)
        return plane
    except BaseException as exc:
        stop_app_plane(state_dir, timeout=10.0)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise AppPlaneError(f"the app plane did not start: {step} failed: {exc}; what had started "
                            f"was stopped. Logs: {logs}") from exc


def _start_supervisor(state_dir: Path, manifest: dict[str, Any], started: list[AppProcess],
                      timeout: float) -> tuple[AppProcess, SupervisorClient]:
    """Spawn the supervisor on the saved state; recorded in the manifest before it is waited for."""
    proc = _spawn_supervisor(state_dir, manifest, started)
    return _await_supervisor(state_dir, manifest, started, proc, timeout)


def _spawn_supervisor(state_dir: Path, manifest: dict[str, Any], started: list[AppProcess]) -> AppProcess:
    files = StateFiles(state_dir / "supervisor")
    files.supervisor.unlink(missing_ok=True)
    proc = _spawn("supervisor", [sys.executable, "-m", "drillbook.twin.supervisor",
                                 "--state-dir", str(files.root)],
                  Path(manifest["logs"]) / "supervisor.log",
                  {**_python_env(), LABEL_VARIABLE: str(manifest["label"])})
    started.append(proc)
    manifest["supervisor"] = asdict(proc)
    manifest.pop("stopped", None)
    _write_manifest(state_dir, manifest)
    return proc


def _await_supervisor(state_dir: Path, manifest: dict[str, Any], started: list[AppProcess],
                      proc: AppProcess, timeout: float) -> tuple[AppProcess, SupervisorClient]:
    """Until the supervisor answers; its port then goes into the manifest."""
    files = StateFiles(state_dir / "supervisor")
    url = str(_wait_for_info(files.supervisor, proc, timeout)["url"])
    ready = replace(proc, port=int(url.rsplit(":", 1)[1]))
    started[started.index(proc)] = ready
    manifest["supervisor"] = asdict(ready)
    _write_manifest(state_dir, manifest)
    return ready, SupervisorClient(url, timeout=5.0)


def attach_app_plane(state_dir: Path, *, timeout: float = 5.0) -> AppPlane:
    """The app plane started from ``state_dir``, in this process."""
    state_dir = Path(state_dir).absolute()
    manifest = _read_manifest(state_dir)
    if manifest is None or "front_door_url" not in manifest:
        raise AppPlaneError(f"no app plane in {state_dir}: start it (`drillbook env up`)")
    processes = [AppProcess(**manifest[name]) for name in ("supervisor", "frontdoor") if name in manifest]
    client = SupervisorClient.from_state_dir(state_dir / "supervisor", timeout=timeout)
    return AppPlane(state_dir, client, str(manifest["front_door_url"]), str(manifest["label"]), processes,
                    bool(manifest.get("dr")))


# -- helpers -------------------------------------------------------------------------------

def _cluster_state(*, database_url: str, redis_url: str, aws_endpoint: str | None, region: str,
                   secrets: SecretRefs, dr_database_url: str | None, dr_redis_url: str,
                   counts: tuple[int, int, int, int], zones: list[str], dr_zones: list[str], version: str,
                   backoff: BackoffPolicy, probes: ProbePolicy, extra_env: dict[str, str],
                   base_env: dict[str, str], label: str, max_surge: int = 1) -> ClusterState:
    replicas, workers, dr_replicas, dr_workers = counts
    aws = {"AWS_REGION": region, **({"AWS_ENDPOINT_URL": aws_endpoint} if aws_endpoint else {})}

    def release(db: str, cache: str) -> Release:
        env = {"DATABASE_URL": db, "REDIS_URL": cache, **aws, **secrets.env(), **extra_env}
        return Release(revision=1, version=version, env=env, cause="initial release",
                       created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    deployments = [
        DeploymentSpec("api", replicas, zones, API_IMAGES, [release(database_url, redis_url)],
                       max_surge=max_surge),
        DeploymentSpec("workers", workers, zones, WORKER_IMAGES, [release(database_url, redis_url)],
                       serves_traffic=False, max_surge=max_surge),
    ]
    if dr_database_url:
        deployments += [
            DeploymentSpec("api-dr", dr_replicas, dr_zones, API_IMAGES,
                           [release(dr_database_url, dr_redis_url)], region="dr", max_surge=max_surge),
            DeploymentSpec("workers-dr", dr_workers, dr_zones, WORKER_IMAGES,
                           [release(dr_database_url, dr_redis_url)], region="dr", serves_traffic=False,
                           max_surge=max_surge),
        ]
    all_zones = list(dict.fromkeys([*zones, *(dr_zones if dr_database_url else [])]))
    return ClusterState(deployments={d.name: d for d in deployments},
                        zones={z: Zone(z) for z in all_zones}, backoff=backoff, probes=probes,
                        base_env=base_env, label=label,
                        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise AppPlaneError(f"{name} must be a whole number >= 0, not {value!r}")


def _ensure_record(endpoint: str | None, region: str, zone_id: str, record: str,
                   credentials: Mapping[str, str]) -> None:
    import boto3
    from botocore.config import Config

    from drillbook.twin.frontdoor_dns import RecordWatcher

    watcher = RecordWatcher(endpoint=endpoint, region=region, hosted_zone_id=zone_id, record_name=record,
                            credentials=credentials)
    if watcher.refresh().value is not None:
        return
    if watcher.last_error:
        raise AppPlaneError(f"cannot read the API record {record} in zone {zone_id}: {watcher.last_error}")
    route53 = boto3.client(
        "route53", region_name=region, endpoint_url=endpoint,
        aws_access_key_id=credentials.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=credentials.get("AWS_SECRET_ACCESS_KEY"),
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2}))
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {"Name": record, "Type": "CNAME", "TTL": 60,
                                                  "ResourceRecords": [{"Value": PRIMARY_TARGET}]}}]})


