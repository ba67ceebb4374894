"""Bring the local environment up: every component started, recorded, then checked healthy.

Independent components start side by side (moto and Redis while PostgreSQL
initialises; the first snapshot while the DR replica is cloned). Each process is
written to the state file the moment it exists. A start-up that fails half-way
stops everything it started (from the state file, as ``env down`` would) and
raises :class:`StartFailed` naming the step that failed.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harness.environments.local import moto_server, processes, sample_data
from harness.environments.local.archive import WalArchive
from harness.environments.local.aws import AwsEndpoint, SecretsManagerSecrets
from harness.environments.local.aws_platform import PlatformAws, bootstrap
from harness.environments.local.postgres import PostgresCluster, free_port
from harness.environments.local.primary import APP_DATABASE, create_app_database, init_primary
from harness.environments.local.redis import RedisServer
from harness.environments.local.shutdown import stop_environment
from harness.environments.local.snapshots import SnapshotCatalogue
from harness.environments.local.standby import build_standby
from harness.environments.local.state import LABEL_VARIABLE, ClusterRecord, EnvRecord, ProcessRecord
from harness.errors import DrillbookError

if TYPE_CHECKING:
    from harness.environments.local.environment import LocalEnvironment

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
        self.platform = PlatformAws(domain=self.settings.domain)

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
        self.state.write(EnvRecord(label=self.label, facts={"settings": _settings_facts(self.env)}))
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
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="env-up") as pool:
            with self.stepping("starting moto (AWS APIs)"):
                moto_port = free_port()
                moto = processes.spawn("moto", moto_server.argv(moto_port), label=self.label, port=moto_port,
                                       log=self.layout.log("moto"), pidfile=self.layout.pidfile("moto"))
                self.record_process(moto)
                self.say(f"moto: starting on port {moto_port}")
                aws: Future[str] = pool.submit(self._bootstrap_aws, moto)
            with self.stepping("starting redis"):
                redis = RedisServer(self.layout.redis)
                redis.write_config()
                redis_proc = processes.spawn("redis", redis.argv(), label=self.label, port=redis.port,
                                             log=self.layout.log("redis-stdout"),
                                             pidfile=self.layout.pidfile("redis"))
                self.record_process(redis_proc)
                self.say(f"redis: starting on port {redis.port} (AOF everysec + RDB)")
            with self.stepping("initialising the primary (initdb)"):
                archive = WalArchive(self.layout.archive).create(self.cluster("primary").user)
                primary = self.cluster("primary")
                self.record_cluster(primary, "primary")
                self.say("primary: initdb with data checksums, WAL archiving")
                init_primary(primary, archive, archive_timeout_s=settings.archive_timeout_s)
            with self.stepping("starting the primary"):
                primary.start()
                primary.wait_ready()
                self.say(f"primary: accepting connections on port {primary.port}")
            with self.stepping("bootstrapping the AWS APIs (buckets, hosted zone, secrets)"):
                aws.result()
            with self.stepping("creating the application database"):
                vault = SecretsManagerSecrets(self._aws_endpoint(moto.port))
                create_app_database(primary, vault.get(self.platform.db_password_secret_id))
                self.say("primary: database compliant, role compliant_app (password from "
                         f"{self.platform.db_password_secret_id})")
            with self.stepping(f"loading the sample data ({settings.data_size})"):
                loaded = sample_data.load(primary, settings.data_size, progress=self.say)
                self.record_facts(sample_data={"users": loaded.users, "projects": loaded.projects,
                                               "audit_rows": loaded.audit_rows,
                                               "data_bytes": loaded.data_bytes})
            with self.stepping("taking the first snapshot and cloning the DR replica"):
                catalogue = SnapshotCatalogue(self.layout.snapshots)
                first = pool.submit(catalogue.take, primary, kind="scheduled")
                standby = self.cluster("dr-replica")
                self.record_cluster(standby, "standby")
                build_standby(primary, standby, archive)
                self.say(f"dr-replica: streaming on port {standby.port}")
                snap = first.result()
                self.say(f"snapshot {snap.id}: {snap.size_bytes} bytes, verified={snap.verified}")
            with self.stepping("waiting for redis"):
                redis.wait_ready(timeout=10.0)
            if settings.snapshot_interval_s > 0:
                with self.stepping("starting the snapshot schedule"):
                    self._start_scheduler()
            with self.stepping("starting the network links (toxiproxy)"):
                self._start_network(primary, redis)
            with self.stepping("starting the app plane"):
                self._start_app(primary, redis, moto.port)

    def _aws_endpoint(self, port: int | None) -> AwsEndpoint:
        assert port is not None
        return AwsEndpoint(moto_server.url(port))

    def _bootstrap_aws(self, moto: ProcessRecord) -> str:
        assert moto.port is not None
        moto_server.wait_ready(moto.port, timeout=60.0, alive=lambda: processes.alive(moto))
        zone_id = bootstrap(self._aws_endpoint(moto.port), self.platform)
        self.record_facts(moto_url=moto_server.url(moto.port), zone_id=zone_id, domain=self.platform.domain,
                          api_record=self.platform.api_record, buckets=list(self.platform.buckets),
                          secret_ids=list(self.platform.secret_ids))
        self.say(f"moto: buckets {', '.join(self.platform.buckets)}; zone {self.platform.domain} "
                 f"({zone_id}); {len(self.platform.secret_ids)} secrets")
        return zone_id

    def _start_scheduler(self) -> None:
        argv = [sys.executable, "-m", "harness.environments.local.scheduler", "--state-dir",
                str(self.layout.root), "--interval", str(self.settings.snapshot_interval_s),
                "--keep", str(self.settings.snapshot_keep)]
        proc = processes.spawn("scheduler", argv, label=self.label, log=self.layout.log("scheduler"),
                               pidfile=self.layout.pidfile("scheduler"))
        self.record_process(proc)
        self.say(f"scheduler: a snapshot every {self.settings.snapshot_interval_s:g}s, "
                 f"keeping {self.settings.snapshot_keep}")

    def _start_network(self, primary: PostgresCluster, redis: RedisServer) -> None:
        """The app→database and app→cache links through the toxiproxy-compatible server."""
        self.say("network: toxiproxy server not integrated yet")

    def _start_app(self, primary: PostgresCluster, redis: RedisServer, moto_port: int | None) -> None:
        """The API replicas, the workers and the front door (the app plane)."""
        self.say("app plane: not integrated yet")


def _settings_facts(env: LocalEnvironment) -> dict[str, Any]:
    s = env.settings
    return {"data_size": s.data_size, "replicas": s.replicas, "workers": s.workers, "zones": list(s.zones),
            "snapshot_interval_s": s.snapshot_interval_s, "archive_timeout_s": s.archive_timeout_s}
