"""Bring the local environment up: every component started, recorded, then checked healthy.

Independent components start side by side: moto and Redis while PostgreSQL initialises; the
app plane, the first snapshot and the DR replica once the primary holds the data. Every
PostgreSQL server begins as a copy of initdb's output kept once per machine (``pg_template``);
the DR replica is another copy of the same, made while the primary starts (without a kept
one, a copy of the primary's files before its first start): no ``pg_basebackup``. Each
process is written to the state file the moment it exists. A start-up that fails half-way
stops everything it started (from the state file, as ``env down`` would) and raises
:class:`StartFailed` naming the step that failed.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from drillbook.harness.errors import DrillbookError
from drillbook.harness.polling import WaitTimeout, wait_until
from drillbook.harness.probes import http_probe
from drillbook.harness.toxiproxy.errors import ToxiproxyError
from drillbook.twin import moto_server, network, processes, sample_data
from drillbook.twin.app_plane import AppProcess, start_app_plane
from drillbook.twin.archive import WalArchive
from drillbook.twin.aws import AwsEndpoint
from drillbook.twin.aws_config import write_aws_config
from drillbook.twin.aws_platform import PlatformAws, bootstrap, secret_values
from drillbook.twin.kube import write_kubeconfig
from drillbook.twin.network import Link, LocalNetwork, plan_links, write_config
from drillbook.twin.postgres import PostgresCluster, free_port
from drillbook.twin.primary import (
    APP_DATABASE,
    APP_USER,
    create_app_database,
    init_primary,
)
from drillbook.twin.redis import RedisServer
from drillbook.twin.shutdown import stop_environment
from drillbook.twin.snapshots import SnapshotCatalogue
from drillbook.twin.spread import spread
from drillbook.twin.standby import copy_before_first_start, copy_template, create_slot, start_standby
from drillbook.twin.state import LABEL_VARIABLE, ClusterRecord, EnvRecord, ProcessRecord

if TYPE_CHECKING:
    from drillbook.twin.environment import LocalEnvironment

Progress = Callable[[str], None]


class StartFailed(DrillbookError):
    """The environment did not come up; what had started was stopped again."""


class Startup:
    def __init__(self, env: LocalEnvironment, progress: Progress | None) -> None:
        self.env = env
        self.settings = env.settings
        self.layout = env.layout
        self.state = env.state
        self._progress = progress
        self._began = time.monotonic()
        self.step = "preparing"
        self.label = secrets.token_hex(8)
        self.environ = {LABEL_VARIABLE: self.label}
        # The app plane reaps by its own label when it stops: a label of its own keeps
        # that from killing the data plane (which shuts down cleanly, after it).
        self.app_label = f"{self.label}-app"
        self.platform = PlatformAws(domain=self.settings.domain)
        #: Made here, put into moto by the bootstrap; in this process's memory only.
        self.secret_values = secret_values(self.platform)

    # -- plumbing --------------------------------------------------------------

    def say(self, message: str) -> None:
        if self._progress is not None:
            self._progress(f"{time.monotonic() - self._began:6.2f}s  {message}")

    @contextmanager
    def stepping(self, name: str) -> Iterator[None]:
        self.step = name
        yield

    def record_process(self, proc: ProcessRecord) -> None:
        self.state.update(lambda env: env.processes.__setitem__(proc.name, proc))

    def record_cluster(self, cluster: PostgresCluster, role: str) -> None:
        entry = ClusterRecord(name=cluster.name, datadir=str(cluster.datadir), port=cluster.port, role=role)
        self.state.update(lambda env: env.clusters.__setitem__(cluster.name, entry))

    def record_facts(self, **facts: Any) -> None:
        self.state.update(lambda env: env.facts.update(facts))

    def cluster(self, name: str) -> PostgresCluster:
        return PostgresCluster(self.layout.cluster(name), name=name, dbname=APP_DATABASE,
                               environ=self.environ, log=self.layout.log(f"postgres-{name}"))

    # -- the sequence ----------------------------------------------------------

    def run(self) -> None:
        self.layout.root.mkdir(parents=True, exist_ok=True)
        # Each server's files in a block group of their own (see spread; a snapshot catalogue
        # spreads its own directory).
        spread(self.layout.clusters)
        self.state.write(EnvRecord(label=self.label, facts={"settings": _settings_facts(self.env),
                                                            "app_label": self.app_label}))
        try:
            self._start()
        except BaseException as exc:
            failed = self.step
            self.say(f"FAILED while {failed}: {exc}; stopping what was started")
            report = stop_environment(self.state, self.layout, timeout=10.0, progress=self.say)
            error = f"{failed}: {exc}"
            self.state.update(lambda env: setattr(env, "error", error))
            if isinstance(exc, KeyboardInterrupt):
                raise
            leftovers = "" if report.clean else f" (left running: {report.still_running}, " \
                                                  f"listening: {report.still_listening})"
            raise StartFailed(f"the local environment did not start: {failed} failed: {exc}; "
                              f"everything it had started was stopped{leftovers}. Logs: "
                              f"{self.layout.logs}") from exc
        self.state.update(lambda env: setattr(env, "phase", "up"))
        self.say(f"up in {time.monotonic() - self._began:.2f}s")

    def _start(self) -> None:
        settings = self.settings
        primary, standby = self.cluster("primary"), self.cluster("dr-replica")
        redis = RedisServer(self.layout.redis)
        links = plan_links(database_port=primary.port, cache_port=redis.port, dr_database_port=standby.port)
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="env-up") as pool:
            with self.stepping("starting moto (AWS APIs)"):
                moto_port = free_port()
                moto = self.spawn("moto", moto_server.argv(moto_port, self.layout.root,
                                                           multi_az=settings.multi_az), port=moto_port)
                self.say(f"moto: starting on port {moto_port}")
                aws: Future[str] = pool.submit(self._bootstrap_aws, moto)
            with self.stepping("starting redis"):
                redis.write_config()
                self.spawn("redis", redis.argv(), port=redis.port, log="redis-stdout")
                self.say(f"redis: starting on port {redis.port} (AOF everysec + RDB)")
            with self.stepping("starting the toxiproxy server"):
                toxiproxy_port = free_port()
                config = write_config(self.layout.root / "toxiproxy.json", links)
                toxiproxy = self.spawn("toxiproxy", network.server_argv(toxiproxy_port, config),
                                       port=toxiproxy_port)
                self.say(f"toxiproxy: starting on port {toxiproxy_port} with "
                         + ", ".join(f"{link.name} :{link.listen_port} -> {link.upstream}" for link in links))
            with self.stepping("initialising the primary (initdb)"):
                archive = WalArchive(self.layout.archive).create(primary.user)
                self.record_cluster(primary, "primary")
                self.say("primary: initdb with data checksums, WAL archiving")
                init_primary(primary, archive, archive_timeout_s=settings.archive_timeout_s)
            with self.stepping("copying the primary for the DR replica"):
                self.record_cluster(standby, "standby")
                if primary.template is not None:  # the same files, copied while the primary starts
                    copied: Future[None] | None = pool.submit(copy_template, primary, standby)
                else:
                    copy_before_first_start(primary, standby)
                    copied = None
            with self.stepping("starting the primary"):
                primary.start(move_if_taken=True)
                self.record_cluster(primary, "primary")  # its port, if another process had taken it
                primary.wait_ready()
                create_slot(primary)
                self.say(f"primary: accepting connections on port {primary.port}")
            with self.stepping("creating the application database"):
                # The password moto will hold: the database need not wait for moto to start.
                create_app_database(primary, self.secret_values[self.platform.db_password_secret_id])
                self.say("primary: database compliant, role compliant_app (password stored as "
                         f"{self.platform.db_password_secret_id})")
            with self.stepping(f"loading the sample data ({settings.data_size})"):
                loaded = sample_data.load(primary, settings.data_size, progress=self.say)
                self.record_facts(sample_data={"users": loaded.users, "projects": loaded.projects,
                                               "audit_rows": loaded.audit_rows,
                                               "data_bytes": loaded.data_bytes})
            with self.stepping("waiting for redis and the toxiproxy links"):
                redis.wait_ready(timeout=10.0)
                links = self._check_links(toxiproxy, links, primary=primary)
            with self.stepping("taking the first snapshot, starting the DR replica"):
                catalogue = SnapshotCatalogue(self.layout.snapshots)
                first = pool.submit(catalogue.take, primary, kind="scheduled")
                # The app reaches the DR replica through its link's port, which does not move:
                # the replica starts while the app plane does (its DR deployments have no replica
                # yet: pilot light).
                dr: Future[None] = pool.submit(self._start_standby, primary, standby, archive, copied)
            with self.stepping("bootstrapping the AWS APIs (buckets, hosted zone, secrets)"):
                zone_id = aws.result()  # the pods read their secrets from it as they start
            with self.stepping("starting the app plane"):
                # While the first snapshot is taken and the DR replica starts.
                self._start_app(links, moto, zone_id)
            with self.stepping("starting the DR replica"):
                dr.result()
                links = self._repoint(toxiproxy, links, {network.APP_DB_DR: standby.port})
            with self.stepping("taking the first snapshot"):
                snap = first.result()
                self.say(f"snapshot {snap.id}: {snap.size_bytes} bytes, verified={snap.verified}")
            if settings.snapshot_interval_s > 0:
                with self.stepping("starting the snapshot schedule"):
                    self._start_scheduler()

    def _start_standby(self, primary: PostgresCluster, standby: PostgresCluster, archive: WalArchive,
                       copied: Future[None] | None) -> None:
        if copied is not None:
            copied.result()
        start_standby(primary, standby, archive, move_if_taken=True)
        self.record_cluster(standby, "standby")
        self.say(f"dr-replica: streaming on port {standby.port}")

    def spawn(self, name: str, argv: list[str], *, port: int | None = None,
              log: str | None = None) -> ProcessRecord:
        proc = processes.spawn(name, argv, label=self.label, port=port, log=self.layout.log(log or name),
                               pidfile=self.layout.pidfile(name))
        self.record_process(proc)
        return proc

    def _aws_endpoint(self, port: int | None) -> AwsEndpoint:
        assert port is not None
        return AwsEndpoint(moto_server.url(port))

    def _bootstrap_aws(self, moto: ProcessRecord) -> str:
        assert moto.port is not None
        moto_server.wait_ready(moto.port, timeout=60.0, alive=lambda: processes.alive(moto))
        zone_id = bootstrap(self._aws_endpoint(moto.port), self.platform, self.secret_values)
        config = write_aws_config(self.layout.aws_config, moto_server.url(moto.port), self.platform)
        self.record_facts(moto_url=moto_server.url(moto.port), zone_id=zone_id, domain=self.platform.domain,
                          api_record=self.platform.api_record, buckets=list(self.platform.buckets),
                          secret_ids=list(self.platform.secret_ids), aws_config=str(config))
        self.say(f"moto: buckets {', '.join(self.platform.buckets)}; zone {self.platform.domain} "
                 f"({zone_id}); {len(self.platform.secret_ids)} secrets")
        return zone_id

    def _start_scheduler(self) -> None:
        argv = [sys.executable, "-m", "drillbook.twin.scheduler", "--state-dir",
                str(self.layout.root), "--interval", str(self.settings.snapshot_interval_s),
                "--keep", str(self.settings.snapshot_keep)]
        self.spawn("scheduler", argv)
        self.say(f"scheduler: a snapshot every {self.settings.snapshot_interval_s:g}s, "
                 f"keeping {self.settings.snapshot_keep}")

    def _repoint(self, toxiproxy: ProcessRecord, links: list[Link], ports: dict[str, int]) -> list[Link]:
        """Links whose server moved to another port (its own was taken: see PostgresCluster.start)
        point at the new one, in the running server and in its config file."""
        assert toxiproxy.port is not None
        moved = [replace(link, upstream=f"127.0.0.1:{ports[link.name]}") for link in links
                 if link.name in ports and link.upstream != f"127.0.0.1:{ports[link.name]}"]
        if not moved:
            return links
        net = LocalNetwork(network.api_url(toxiproxy.port))
        for link in moved:
            net.link_to(link.name, ports[link.name])
            self.say(f"toxiproxy: {link.name} now -> {link.upstream} (the planned port was taken)")
        updated = [next((m for m in moved if m.name == link.name), link) for link in links]
        write_config(self.layout.root / "toxiproxy.json", updated)
        return updated

    def _check_links(self, toxiproxy: ProcessRecord, links: list[Link], *,
                     primary: PostgresCluster) -> list[Link]:
        assert toxiproxy.port is not None
        net = LocalNetwork(network.api_url(toxiproxy.port))
        silent = StartFailed(f"the toxiproxy server did not answer on port {toxiproxy.port}; "
                             f"see {toxiproxy.log}")

        def answer() -> str | None:
            try:
                return str(net.client.version())
            except ToxiproxyError:
                if not processes.alive(toxiproxy):
                    raise silent from None
                return None

        try:
            version = wait_until(answer, what=f"the toxiproxy server on port {toxiproxy.port}", timeout=30.0,
                                 interval=0.05, until=lambda answered: answered is not None)
        except WaitTimeout:
            raise silent from None
        missing = {link.name for link in links} - set(net.proxies())
        if missing:
            raise StartFailed(f"toxiproxy lacks the links {', '.join(sorted(missing))}; see {toxiproxy.log}")
        links = self._repoint(toxiproxy, links, {network.APP_DB: primary.port})
        self.record_facts(toxiproxy_url=net.api_url(), links={link.name: link.listen_port for link in links})
        self.say(f"toxiproxy {version}: links {', '.join(link.name for link in links)} ready")
        return links

    def _start_app(self, links: list[Link], moto: ProcessRecord, zone_id: str) -> None:
        """The API and workers under the supervisor, and the front door (the app plane)."""
        ports = {link.name: link.listen_port for link in links}
        settings = self.settings

        def record(proc: AppProcess) -> None:
            self.record_process(ProcessRecord(name=proc.name, pid=proc.pid, ticks=proc.ticks,
                                              argv=list(proc.argv), port=proc.port, log=proc.log))

        plane = start_app_plane(
            self.layout.app,
            database_url=app_database_url(ports[network.APP_DB]),
            redis_url=f"redis://127.0.0.1:{ports[network.APP_CACHE]}/0",
            dr_database_url=app_database_url(ports[network.APP_DB_DR]),
            aws_endpoint=moto_server.url(int(moto.port or 0)),
            hosted_zone_id=zone_id, record_name=self.platform.api_record,
            replicas=settings.replicas, workers=settings.workers, zones=settings.zones,
            max_surge=settings.max_surge, version=settings.release,
            label=self.app_label, logs_dir=self.layout.logs, on_process=record,
            timeout=settings.start_timeout_s)
        kubeconfig = write_kubeconfig(self.layout.kubeconfig, plane.kube_url, plane.namespace,
                                      dr=plane.dr_enabled)
        self.record_facts(front_door_url=plane.front_door_url, kube_url=plane.kube_url,
                          kubeconfig=str(kubeconfig))
        self.say(f"app plane: {settings.replicas} API replicas over {', '.join(settings.zones)}, "
                 f"{settings.workers} workers, front door {plane.front_door_url}")
        wait_healthy(plane.front_door_url, timeout=settings.start_timeout_s)
        self.say("api: /api/health is 200 through the front door")
        self.say(f"kubernetes api: {plane.kube_url} (KUBECONFIG={kubeconfig})")


def app_database_url(port: int) -> str:
    """The service's DATABASE_URL: no password (the service reads it from Secrets Manager)."""
    return f"postgresql://{APP_USER}@127.0.0.1:{port}/{APP_DATABASE}"


def wait_healthy(front_door_url: str, *, timeout: float) -> None:
    probe = http_probe(f"{front_door_url}/api/health", timeout=2.0)
    try:
        wait_until(probe.run, what=f"{front_door_url}/api/health to answer 200", timeout=timeout,
                   interval=0.1, until=lambda result: result.passed,
                   describe=lambda result: str(result.detail))
    except WaitTimeout as exc:
        raise StartFailed(f"{front_door_url}/api/health did not answer 200 within {timeout:.0f}s "
                          f"(last: {exc.last_state})") from None


def _settings_facts(env: LocalEnvironment) -> dict[str, Any]:
    s = env.settings
    return {"data_size": s.data_size, "replicas": s.replicas, "workers": s.workers, "zones": list(s.zones),
            "snapshot_interval_s": s.snapshot_interval_s, "archive_timeout_s": s.archive_timeout_s,
            "multi_az": s.multi_az}
