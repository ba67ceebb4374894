"""The ``workers`` deployment: processes the jobs the API enqueues.

Every ``WORKER_INTERVAL_S`` (default 0.5 s) a worker claims up to
``WORKER_BATCH`` pending jobs (``FOR UPDATE SKIP LOCKED``: workers never take
the same job), marks them done, and writes a heartbeat to Redis. Its
``/api/health`` on ``PORT`` is 200 while its last cycles succeeded, which is
the readiness the supervisor gates on. Same exit statuses as the API.

``python -m drillbook.twin.service.worker``
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg

from drillbook.twin.service.awssecrets import SecretError, SecretsClient
from drillbook.twin.service.config import EX_CONFIG, ConfigError, checked_redis_url
from drillbook.twin.service.main import exit_now, fail, say, stop_on_sigterm
from drillbook.twin.service.sessions import CacheUnavailable, Sessions
from drillbook.twin.service.store import Database, DatabaseUnavailable

REQUIRED = ("PORT", "DATABASE_URL", "REDIS_URL", "DB_PASSWORD_SECRET_ID")
CLAIM = (
    "WITH claimed AS (SELECT id FROM jobs WHERE status = 'pending' ORDER BY id LIMIT %s "
    "FOR UPDATE SKIP LOCKED) "
    "UPDATE jobs SET status = 'done', attempts = jobs.attempts + 1, processed_at = now(), "
    "processed_by = %s FROM claimed WHERE jobs.id = claimed.id RETURNING jobs.id"
)


@dataclass(frozen=True)
class WorkerConfig:
    port: int
    database_url: str
    redis_url: str
    db_password_secret_id: str
    replica: str = "worker"
    version: str = "dev"
    interval_s: float = 0.5
    batch: int = 10
    timeout_s: float = 2.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WorkerConfig:
        missing = [name for name in REQUIRED if not env.get(name)]
        if missing:
            raise ConfigError(f"missing required environment variable(s) {', '.join(missing)}: "
                              "set them in the release")
        try:
            return cls(int(env["PORT"]), env["DATABASE_URL"], checked_redis_url(env["REDIS_URL"]),
                       env["DB_PASSWORD_SECRET_ID"], env.get("REPLICA_NAME", "worker"),
                       env.get("APP_VERSION", "dev"), float(env.get("WORKER_INTERVAL_S", "0.5")),
                       int(env.get("WORKER_BATCH", "10")), float(env.get("DB_TIMEOUT_S", "2.0")))
        except ValueError as exc:
            raise ConfigError(f"bad worker setting: {exc}") from exc


class Worker:
    def __init__(self, config: WorkerConfig, db_password: str) -> None:
        self.config = config
        self.db = Database(config.database_url, db_password, timeout=config.timeout_s, size=1)
        self.cache = Sessions(config.redis_url, ttl_s=60, timeout=config.timeout_s)
        self.processed = 0
        self.last_ok: float | None = None
        self.last_error = ""
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.cycle()
            except (DatabaseUnavailable, CacheUnavailable, psycopg.Error) as exc:
                if str(exc) != self.last_error:
                    say(f"cycle failed: {exc}")
                self.last_error = str(exc)
            self.stopping.wait(self.config.interval_s)

    def cycle(self) -> int:
        def claim(conn: psycopg.Connection[Any]) -> int:
            with conn.transaction():
                return len(conn.execute(CLAIM, (self.config.batch, self.config.replica)).fetchall())

        done = self.db.run(claim)
        self.processed += done
        self.cache.heartbeat(f"worker:{self.config.replica}",
                             json.dumps({"processed": self.processed, "at": time.time()}))
        self.last_ok = time.monotonic()
        self.last_error = ""
        return done

    def healthy(self) -> tuple[bool, dict[str, Any]]:
        age = None if self.last_ok is None else time.monotonic() - self.last_ok
        ok = age is not None and age < max(3.0, 5 * self.config.interval_s)
        return ok, {"status": "ok" if ok else "unavailable", "replica": self.config.replica,
                    "version": self.config.version, "processed": self.processed,
                    "last_cycle_age_s": None if age is None else round(age, 3),
                    "error": self.last_error or None}


class _Handler(BaseHTTPRequestHandler):
    server: _HealthServer

    def do_GET(self) -> None:
        if self.path.startswith("/livez"):
            status, body = 200, {"status": "alive"}
        elif self.path.startswith("/api/health"):
            ok, body = self.server.worker.healthy()
            status = 200 if ok else 503
        else:
            status, body = 404, {"error": "not_found", "message": f"no route GET {self.path}"}
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HealthServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], worker: Worker) -> None:
        self.worker = worker
        super().__init__(address, _Handler)


def main() -> int:
    try:
        config = WorkerConfig.from_env(os.environ)
    except ConfigError as exc:
        return fail(f"configuration error: {exc}", EX_CONFIG)
    client = SecretsClient.from_env(os.environ, timeout=3.0)
    try:
        password = client.get(config.db_password_secret_id)
    except SecretError as exc:
        return fail(f"cannot start: {exc}", 1)
    worker = Worker(config, password)
    try:
        server = _HealthServer((os.environ.get("HOST", "127.0.0.1"), config.port), worker)
    except OSError as exc:
        return fail(f"cannot listen on port {config.port}: {exc}", 1)

    def stop() -> None:
        worker.stopping.set()
        server.shutdown()

    stop_on_sigterm(stop)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    say(f"worker {config.version} replica={config.replica} health on port {config.port}")
    worker.run()
    server.server_close()
    worker.db.close()
    say("stopped (SIGTERM)")
    return 0


if __name__ == "__main__":
    exit_now(main())
