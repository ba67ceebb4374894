"""The ``containers`` environment: PostgreSQL, a real toxiproxy and moto's server in Docker
containers through testcontainers, for machines with a Docker engine.

``up()`` starts them on one Docker network (toxiproxy reaches PostgreSQL by its alias),
creates the ``app-db`` proxy, and records the container ids and ports in
``<state_dir>/containers.json`` so that ``down()`` (from any process) removes them.
Every container carries the label ``drillbook.env=<state dir>`` so leftovers of a
crashed run are found and removed too. PostgreSQL trusts connections (a throwaway
database on loopback), so no password exists anywhere.

With testcontainers' reaper (Ryuk) on, the containers also go away when the process
that started them exits; set TESTCONTAINERS_RYUK_DISABLED=true to keep them between
``drillbook env up`` and later commands.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drillbook.harness.environments.base import Environment
from drillbook.harness.environments.containers.engine import ContainersUnavailable, require_engine
from drillbook.harness.environments.lifecycle import ComponentStatus, DownReport
from drillbook.harness.environments.profile import Profile
from drillbook.harness.environments.staging.secretref import SecretRef
from drillbook.harness.environments.staging.settings import AwsSettings, NetworkSettings, ObjectStoreSettings
from drillbook.harness.probes import Probe, sql_probe

Progress = Callable[[str], None]
POSTGRES_IMAGE = "postgres:15-alpine"
TOXIPROXY_IMAGE = "ghcr.io/shopify/toxiproxy:2.9.0"
MOTO_IMAGE = "motoserver/moto:5.0.28"
PROXY_PORT = 15432
LABEL = "drillbook.env"
STATE_FILE = "containers.json"
EVIDENCE_BUCKET = "drillbook-evidence"
DOMAIN = "compliant.example"


@dataclass
class ContainersState:
    label: str
    containers: dict[str, str] = field(default_factory=dict)  # component -> container id
    network: str | None = None
    database_url: str = ""  # no password: the container trusts loopback connections
    proxied_database_url: str = ""
    toxiproxy_url: str = ""
    moto_url: str = ""
    hosted_zone_id: str = ""
    started_at: float = 0.0


class ContainersEnvironment(Environment):
    def __init__(self, state_dir: Path, *, profile: Profile) -> None:
        super().__init__()
        self.state_dir = Path(state_dir).absolute()
        self.profile = profile
        self.name = profile.name
        self.production = profile.production
        self.capabilities = profile.capabilities
        self.state: ContainersState | None = self._read()
        if self.state is not None:
            self._attach(self.state)

    # -- state ---------------------------------------------------------------------------

    @property
    def _file(self) -> Path:
        return self.state_dir / STATE_FILE

    def _read(self) -> ContainersState | None:
        try:
            return ContainersState(**json.loads(self._file.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def _write(self, state: ContainersState) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._file.write_text(json.dumps(asdict(state), indent=2))

    # -- lifecycle -------------------------------------------------------------------------

    def up(self, progress: Progress | None = None) -> bool:
        if self.is_up():
            return False
        require_engine()
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.network import Network

        try:
            from testcontainers.community.postgres import PostgresContainer
        except ImportError:  # testcontainers < 4.10
            from testcontainers.postgres import PostgresContainer

        say = progress or (lambda message: None)
        state = ContainersState(label=str(self.state_dir), started_at=time.time())
        labels = {LABEL: state.label}
        started: list[Any] = []
        network = Network().create()
        state.network = network.name
        try:
            say(f"starting PostgreSQL ({POSTGRES_IMAGE})")
            postgres = (
                PostgresContainer(
                    POSTGRES_IMAGE,
                    username="drillbook",
                    password="unused",
                    dbname="compliant",
                    driver=None,
                    labels=labels,
                )
                .with_env("POSTGRES_HOST_AUTH_METHOD", "trust")
                .with_network(network)
                .with_network_aliases("postgres")
            )
            postgres.start()
            started.append(postgres)
            say(f"starting toxiproxy ({TOXIPROXY_IMAGE})")
            toxiproxy = (
                DockerContainer(TOXIPROXY_IMAGE, labels=labels)
                .with_exposed_ports(8474, PROXY_PORT)
                .with_network(network)
            )
            toxiproxy.start()
            started.append(toxiproxy)
            say(f"starting moto's server ({MOTO_IMAGE})")
            moto = DockerContainer(MOTO_IMAGE, labels=labels).with_exposed_ports(5000)
            moto.start()
            started.append(moto)
            host = postgres.get_container_host_ip()
            state.database_url = f"postgresql://drillbook@{host}:{postgres.get_exposed_port(5432)}/compliant"
            state.toxiproxy_url = f"http://{host}:{toxiproxy.get_exposed_port(8474)}"
            state.proxied_database_url = (
                f"postgresql://drillbook@{host}:{toxiproxy.get_exposed_port(PROXY_PORT)}/compliant"
            )
            state.moto_url = f"http://{host}:{moto.get_exposed_port(5000)}"
            state.containers = {
                "postgres": postgres.get_container_id(),
                "toxiproxy": toxiproxy.get_container_id(),
                "moto": moto.get_container_id(),
            }
            self._provision(state)
            self._write(state)
        except BaseException:
            # Start-up that fails half-way removes what it started before re-raising.
            for container in reversed(started):
                with contextlib.suppress(Exception):
                    container.stop()
            with contextlib.suppress(Exception):
                network.remove()
            self._file.unlink(missing_ok=True)
            raise
        self.state = state
        self._attach(state)
        say("containers environment is up")
        return True

    def _provision(self, state: ContainersState) -> None:
        from drillbook.harness.environments.staging.aws.client import client as aws_client
        from drillbook.harness.toxiproxy.client import ToxiproxyClient

        toxiproxy = ToxiproxyClient(state.toxiproxy_url, timeout=5.0)
        toxiproxy.wait_ready(timeout=30.0)
        toxiproxy.create_proxy("app-db", listen=f"0.0.0.0:{PROXY_PORT}", upstream="postgres:5432")
        aws = self._aws(state)
        aws_client(aws, "s3").create_bucket(Bucket=EVIDENCE_BUCKET)
        zone = aws_client(aws, "route53").create_hosted_zone(Name=DOMAIN, CallerReference=state.label)
        state.hosted_zone_id = str(zone["HostedZone"]["Id"]).rsplit("/", 1)[-1]

    @staticmethod
    def _aws(state: ContainersState) -> AwsSettings:
        return AwsSettings(
            region="us-east-1",
            endpoint_url=state.moto_url,
            connect_timeout=2.0,
            read_timeout=30.0,
            max_attempts=2,
            emulator_credentials=True,
        )

    def down(self, progress: Progress | None = None) -> DownReport:
        started = time.monotonic()
        report = DownReport()
        state = self._read()
        try:
            import docker  # type: ignore[import-untyped]
        except ImportError:
            raise ContainersUnavailable(
                "testcontainers is not installed: pip install 'drillbook[containers]'"
            ) from None
        try:
            client = docker.from_env(timeout=10)
        except Exception as exc:
            if state is None:
                return report
            raise ContainersUnavailable(
                f"cannot reach the Docker engine to remove the containers: {exc}"
            ) from exc
        with client:
            ids = set(state.containers.values()) if state else set()
            ids |= {
                c.id for c in client.containers.list(all=True, filters={"label": f"{LABEL}={self.state_dir}"})
            }
            for container_id in ids:
                with contextlib.suppress(docker.errors.NotFound):
                    client.containers.get(container_id).remove(force=True, v=True)
                    report.stopped.append(container_id[:12])
            if state and state.network:
                with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                    client.networks.get(state.network).remove()
            left = [
                c.short_id
                for c in client.containers.list(all=True, filters={"label": f"{LABEL}={self.state_dir}"})
            ]
        if left:
            raise ContainersUnavailable(
                f"containers {', '.join(left)} could not be removed; remove them with "
                "`docker rm -f` and run `drillbook env down` again"
            )
        self._file.unlink(missing_ok=True)
        self.state = None
        self._roles.clear()
        report.seconds = time.monotonic() - started
        if progress is not None:
            progress(f"removed {len(report.stopped)} container(s)")
        return report

    def is_up(self) -> bool:
        state = self._read()
        if state is None:
            return False
        return all(c.health == "healthy" for c in self.status())

    def status(self) -> list[ComponentStatus]:
        state = self._read()
        if state is None:
            return []
        try:
            import docker  # type: ignore[import-untyped]

            client = docker.from_env(timeout=5)
        except Exception as exc:
            return [
                ComponentStatus(name, "container", None, None, "down", f"no Docker engine: {exc}")
                for name in state.containers
            ]
        rows = []
        with client:
            for name, container_id in state.containers.items():
                try:
                    container = client.containers.get(container_id)
                    health = "healthy" if container.status == "running" else "down"
                    rows.append(
                        ComponentStatus(
                            name, "container", None, None, health, f"{container.short_id} {container.status}"
                        )
                    )
                except docker.errors.NotFound:
                    rows.append(ComponentStatus(name, "container", None, None, "down", "removed"))
        return rows

    def versions(self) -> dict[str, str]:
        return {"postgresql": POSTGRES_IMAGE, "toxiproxy": TOXIPROXY_IMAGE, "moto": MOTO_IMAGE}

    # -- roles --------------------------------------------------------------------------------

    def _attach(self, state: ContainersState) -> None:
        from drillbook.harness.environments.staging.aws.route53 import Route53Records
        from drillbook.harness.environments.staging.aws.s3 import S3Store
        from drillbook.harness.environments.staging.aws.secrets import SecretsManager
        from drillbook.harness.environments.staging.database import UrlDatabase
        from drillbook.harness.environments.staging.network import ToxiproxyNetwork

        where = f"[environments.{self.name}]"
        aws = self._aws(state)
        self._roles = {
            "database": UrlDatabase("database", SecretRef("url", where, literal=state.database_url)),
            "network": ToxiproxyNetwork(NetworkSettings(url=state.toxiproxy_url, proxies=("app-db",))),
            "object_store": S3Store(ObjectStoreSettings(aws=aws, bucket=EVIDENCE_BUCKET), where=where),
            "secrets": SecretsManager(aws, where=where, poll_interval=0.5),
        }
        if state.hosted_zone_id:
            self._roles["dns"] = Route53Records(aws, state.hosted_zone_id, where=where, poll_interval=0.5)
        #: The database through toxiproxy's app-db proxy (what the application would use).
        self.proxied_database_url = state.proxied_database_url

    def steady_probes(self) -> list[Any]:
        probes: list[Probe] = []
        if self.has("database"):
            database = self.database
            probes.append(sql_probe(lambda: database.dsn(), name="database", timeout=2.0))
        return probes

    def fingerprint(self) -> dict[str, Any]:
        return {"environment": self.name, "kind": "containers", **self.versions()}
