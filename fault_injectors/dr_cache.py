"""A Redis server started in the DR region (``aws elasticache create-cache-cluster``)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from drillbook.faults._env import open_environment
from drillbook.faults.base import Change
from drillbook.harness.errors import DrillbookError
from drillbook.twin import processes
from drillbook.twin.cache import LocalCache
from drillbook.twin.postgres import free_port
from drillbook.twin.redis import find_redis_server


class DrCache(Change):
    """Starts an empty Redis for the DR region on ``port`` (sessions are rebuilt: the
    cache's RPO is "acceptable loss"). A recovery change: revert stops it and deletes
    its data directory. Local environment only."""

    name = "dr_cache"
    blast_radius = "none (a new cache server)"
    rollback = "stop the DR Redis and delete its data"

    def __init__(self, env_name: str, state_dir: str, port: int | None = None, timeout: float = 15.0) -> None:
        self.env_name, self.state_dir, self.timeout = env_name, state_dir, timeout
        self.port = port if port is not None else free_port()

    @property
    def directory(self) -> Path:
        return Path(self.state_dir) / "local" / "redis-dr"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def inject(self) -> None:
        env = open_environment(self.env_name, self.state_dir)
        label = env.record.label if getattr(env, "record", None) else "drillbook"  # type: ignore[attr-defined]
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / "redis.conf"
        conf.write_text(
            f"bind 127.0.0.1\nport {self.port}\nprotected-mode yes\ndir {self.directory}\n"
            "daemonize no\nappendonly yes\nappendfsync everysec\n"
        )
        processes.spawn(
            "redis-dr",
            [str(find_redis_server()), str(conf)],
            label=label,
            log=self.directory / "redis.log",
            port=self.port,
            pidfile=self.directory / "pid",
        )
        cache = LocalCache("127.0.0.1", self.port)
        deadline = time.monotonic() + self.timeout
        while not cache.ping(timeout=0.5):
            if time.monotonic() > deadline:
                raise DrillbookError(
                    f"the DR Redis did not start on port {self.port}; see {self.directory / 'redis.log'}"
                )
            time.sleep(0.05)

    def revert(self) -> None:
        pidfile = self.directory / "pid"
        if pidfile.exists():
            pid_text, _, ticks_text = pidfile.read_text().strip().partition(" ")
            ticks = int(ticks_text) if ticks_text and ticks_text != "None" else None
            processes.terminate(int(pid_text), ticks, timeout=self.timeout)
        shutil.rmtree(self.directory, ignore_errors=True)

    def describe(self) -> dict[str, Any]:
        return {
            "env_name": self.env_name,
            "state_dir": self.state_dir,
            "port": self.port,
            "timeout": self.timeout,
        }
