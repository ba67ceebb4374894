"""A PostgreSQL cluster run by drillbook: initdb, start, stop, connect.

Clusters run as the current user, or as an unprivileged user when the process
is root (PostgreSQL refuses root). The superuser ``postgres`` may connect over
loopback without a password (the cluster listens on 127.0.0.1 only); every other
role authenticates with scram-sha-256, so a rotated password is really checked.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import pg
from harness.environments.local.pgbin import RunAs, find_bindir, run_as, server_version
from harness.errors import DrillbookError

SUPERUSER = "postgres"


class ClusterError(DrillbookError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresCluster:
    datadir: Path
    port: int = field(default_factory=free_port)
    bindir: Path = field(default_factory=find_bindir)
    user: RunAs = field(default_factory=run_as)
    host: str = "127.0.0.1"

    @property
    def logfile(self) -> Path:
        return self.datadir.parent / f"{self.datadir.name}.log"

    @property
    def version(self) -> str:
        return server_version(self.bindir)

    def dsn(self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        auth = f"{user}:{password}@" if password else f"{user}@"
        return f"postgresql://{auth}{self.host}:{self.port}/{dbname}"

    # -- lifecycle -------------------------------------------------------------

    def init(self, *, checksums: bool = True, conf: dict[str, Any] | None = None) -> PostgresCluster:
        parent = self.datadir.parent
        parent.mkdir(parents=True, exist_ok=True)
        self._own_parent(parent)
        args = [str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", SUPERUSER,
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"]
        if checksums:
            args.append("--data-checksums")
        self._run(args, timeout=120)
        hba = self.datadir / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            f"host all {SUPERUSER} 127.0.0.1/32 trust\n"
            f"host replication {SUPERUSER} 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": self.port,
            "unix_socket_directories": "''",
            "fsync": "on",
            "max_connections": 100,
            "shared_buffers": "'32MB'",
            "logging_collector": "off",
        }
        settings.update(conf or {})
        self.write_conf(settings)
        self.user.own(self.datadir)
        return self

    def write_conf(self, settings: dict[str, Any], name: str = "drillbook.conf") -> None:
        """Write settings into an included file (replacing it), keeping postgresql.conf pristine."""
        conf = self.datadir / "postgresql.conf"
        include = f"include_if_exists = '{name}'"
        text = conf.read_text()
        if include not in text:
            conf.write_text(text + f"\n{include}\n")
        path = self.datadir / name
        path.write_text("".join(f"{k} = {v}\n" for k, v in settings.items()))
        self.user.own(path)

    def start(self, timeout: float = 60.0) -> PostgresCluster:
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile),
                   "-o", f"-p {self.port}", "-w", "-t", str(int(timeout)), "start"], timeout=timeout + 10)
        return self

    def stop(self, mode: str = "fast", timeout: float = 60.0) -> None:
        """Stop the server: ``fast`` (clean), ``immediate`` (like a crash) or ``smart``."""
        if not self.running():
            return
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w",
                   "-t", str(int(timeout)), "stop"], timeout=timeout + 10, check=False)

    def pid(self) -> int | None:
        try:
            first = (self.datadir / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first)
        except (FileNotFoundError, IndexError, ValueError, PermissionError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def ready(self, timeout: float = 2.0) -> bool:
        try:
            pg.query(self.dsn(), "SELECT 1", timeout=timeout)
        except Exception:
            return False
        return True

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready():
                return
            time.sleep(0.05)
        raise ClusterError(f"PostgreSQL on port {self.port} not ready after {timeout:.0f}s; see {self.logfile}")

    # -- SQL -------------------------------------------------------------------

    def sql(self, query: str, params: tuple[Any, ...] | None = None, *, dbname: str = "postgres",
            timeout: float = 30.0) -> list[tuple[Any, ...]]:
        return pg.query(self.dsn(dbname), query, params, timeout)

    def create_database(self, name: str) -> None:
        if not self.sql("SELECT 1 FROM pg_database WHERE datname = %s", (name,)):
            self.sql(f'CREATE DATABASE "{name}"')

    # -- helpers ---------------------------------------------------------------

    def _run(self, args: list[str], *, timeout: float, check: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, **self.user.popen_kwargs())  # type: ignore[call-overload]
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(f"{Path(args[0]).name} timed out after {timeout:.0f}s") from exc
        if check and done.returncode != 0:
            raise ClusterError(
                f"{Path(args[0]).name} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-2000:]}"
            )
        return done  # type: ignore[no-any-return]

    def _own_parent(self, parent: Path) -> None:
        # The server user must be able to create the data directory and its log.
        if not self.user.is_self:
            self.user.reach(parent)
            os.chown(parent, self.user.uid, self.user.gid)
