"""A PostgreSQL cluster run by drillbook: initdb, configure, start, stop, promote, connect.

Clusters run as the current user, or as an unprivileged user when the process
is root (PostgreSQL refuses root). The superuser ``postgres`` may connect over
loopback without a password (the cluster listens on 127.0.0.1 only); every other
role authenticates with scram-sha-256, so a rotated password is really checked.

This module knows one server. What makes it a primary, a standby, a restored
snapshot or a point-in-time copy lives beside it (``archive``, ``snapshots``,
``standby``, ``pitr``).
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillbook.harness import pg
from drillbook.harness.errors import DrillbookError, InvalidDrillConfig
from drillbook.harness.polling import WaitTimeout, wait_until
from drillbook.twin import pg_template
from drillbook.twin.pgbin import RunAs, find_bindir, run_as, server_version
from drillbook.twin.trash import discard_tree

SUPERUSER = "postgres"
STOP_MODES = ("fast", "immediate", "smart")
#: What a server logs when its port was taken between choosing it and binding it.
PORT_TAKEN = ("Address already in use", "could not create any TCP/IP sockets")
PORT_ATTEMPTS = 5
#: Lines of the server log a failed start's error carries.
LOG_TAIL = 8
LOG_READ_MAX = 64_000


class ClusterError(DrillbookError):
    pass


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, chosen below the kernel's ephemeral range.

    A server often binds its port seconds after it was chosen. A port from the
    ephemeral range may meanwhile become the source port of some outgoing
    connection, and the server's bind then fails; ports below that range are
    never handed out that way.
    """
    low = _ephemeral_low()
    for _ in range(50):
        port = random.randrange(PORT_FLOOR, low) if low > PORT_FLOOR + 1000 else 0
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen = int(s.getsockname()[1])
        if _claim(chosen):
            return chosen
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PORT_FLOOR = 10_000
#: A port handed out is claimed here for a while (a file named after it), so that two drillbook
#: processes (the start-up and the supervisor starting pods, or two test sessions on one machine)
#: never get the same port in the minutes before its server binds it.
CLAIMS = Path(tempfile.gettempdir()) / "drillbook-ports"
CLAIM_S = 600.0


def _claim(port: int) -> bool:
    """True if ``port`` was not handed out by drillbook in the last ``CLAIM_S`` seconds (it is now)."""
    try:
        if not CLAIMS.is_dir():
            CLAIMS.mkdir(exist_ok=True)
            CLAIMS.chmod(0o1777)  # shared by every user, like /tmp
        path = CLAIMS / str(port)
        with contextlib.suppress(FileNotFoundError):
            if time.time() - path.stat().st_mtime < CLAIM_S:
                return False
            path.unlink()  # an old claim: its server bound the port long ago, or never will
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError:
        return False  # claimed by another process this very moment
    except OSError:
        return True  # no claims directory here: the bind check alone
    return True


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class PostgresCluster:
    datadir: Path
    port: int = field(default_factory=free_port)
    bindir: Path = field(default_factory=find_bindir)
    user: RunAs = field(default_factory=run_as)
    host: str = "127.0.0.1"
    #: What drills and the status table call this server (primary, dr-replica, ...).
    name: str = "postgres"
    #: The database :meth:`dsn` names when none is given.
    dbname: str = "postgres"
    #: Extra environment of the server processes: the environment's label, by which
    #: a later ``env down`` finds them even if the runner died before recording them.
    environ: dict[str, str] = field(default_factory=dict)
    #: The server log (default: beside the data directory).
    log: Path | None = None
    #: The kept initdb output (``pg_template``) :meth:`init` copied, or kept from its own initdb;
    #: None when there is none (the cache is off or could not be written).
    template: Path | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def logfile(self) -> Path:
        return self.log if self.log is not None else self.datadir.parent / f"{self.datadir.name}.log"

    @property
    def version(self) -> str:
        return server_version(self.bindir)

    def dsn(self, dbname: str | None = None, user: str = SUPERUSER, password: str | None = None) -> str:
        auth = f"{user}:{password}@" if password else f"{user}@"
        return f"postgresql://{auth}{self.host}:{self.port}/{dbname or self.dbname}"

    def tool(self, name: str) -> Path:
        """A PostgreSQL program of the same installation (pg_basebackup, pg_amcheck, ...)."""
        return self.bindir / name

    # -- lifecycle -------------------------------------------------------------

    def init(self, *, checksums: bool = True, conf: dict[str, Any] | None = None,
             wal_segment_mb: int | None = None, seed: pg_template.Seed | None = None) -> PostgresCluster:
        """A new data directory (initdb's output, copied when kept), configured, not started.

        With a ``seed``, a kept template that holds it is copied instead; the first such init
        makes it (see :mod:`pg_template`). With the cache off the seed is not applied here:
        the caller applies it after the first start, as it would anyway."""
        self.prepare_parent()
        options = ["-U", SUPERUSER, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                   "--locale=C"]
        if checksums:
            options.append("--data-checksums")
        if wal_segment_mb is not None:
            options.append(f"--wal-segsize={wal_segment_mb}")
        # initdb's output is the same for the same binaries and options: copied when kept.
        name = pg_template.key(self.bindir, self.version, options, self.user.uid)
        with_seed = pg_template.template(pg_template.seeded(name, seed)) if seed is not None else None
        if with_seed is not None and pg_template.materialize(with_seed, self.datadir):
            self.template = with_seed
        else:
            kept = pg_template.template(name)
            if kept is None or not pg_template.materialize(kept, self.datadir):
                self._run([str(self.bindir / "initdb"), "-D", str(self.datadir), *options], timeout=120)
                pg_template.keep(self.datadir, name)
                kept = pg_template.template(name)
            self.template = kept
            if seed is not None and kept is not None:
                self.template = self._keep_seeded(pg_template.seeded(name, seed), seed) or kept
        self.write_hba()
        self.write_conf({**self.base_settings(), **(conf or {})})
        self.user.own(self.datadir)
        return self

    def _keep_seeded(self, name: str, seed: pg_template.Seed) -> Path | None:
        """Start this fresh copy on a port of its own, apply ``seed``, stop it cleanly and keep
        the result as the template ``name``; the copy stays seeded. None if it was not kept."""
        planned = self.port
        self.write_hba()
        self.write_conf(self.base_settings())
        self.user.own(self.datadir)
        self.port = free_port()
        try:
            self.start(move_if_taken=True)
            try:
                seed.apply(self)
            finally:
                self.stop("fast")
        finally:
            self.port = planned
        pg_template.keep(self.datadir, name)
        return pg_template.template(name)

    def write_hba(self) -> None:
        """Loopback only: ``postgres`` without a password (also for replication), others by scram."""
        (self.datadir / "pg_hba.conf").write_text(
            "local all all trust\n"
            f"host all {SUPERUSER} 127.0.0.1/32 trust\n"
            f"host replication {SUPERUSER} 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )

    def base_settings(self) -> dict[str, Any]:
        """What every drillbook server has: loopback only, its own port, real fsync, and an
        autovacuum tuned as a production database with a bloat alarm is: Scenario 2A's
        assessment calls more than 1000 dead tuples in a table bloat, so the normal churn of
        the other drills (a DELETE and a restore's INSERTs) is vacuumed within seconds and
        well below that (PostgreSQL's defaults, a minute and 20 % of the table, left a
        table the last drill had churned "bloated" at the next drill's start)."""
        return {
            "listen_addresses": "'127.0.0.1'",
            "port": self.port,
            "unix_socket_directories": "''",
            "fsync": "on",
            "max_connections": 100,
            "shared_buffers": "'32MB'",
            "logging_collector": "off",
            "autovacuum_naptime": "'5s'",
            "autovacuum_vacuum_scale_factor": 0.02,
            "autovacuum_vacuum_threshold": 50,
        }

    def configure(self, settings: dict[str, Any]) -> None:
        """Replace drillbook's settings with the base ones plus ``settings`` (at next start)."""
        self.write_conf({**self.base_settings(), **settings})

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

    def start(self, timeout: float = 60.0, *, move_if_taken: bool = False) -> PostgresCluster:
        """Start the server and wait until it accepts connections (a no-op if it runs).

        A start that fails raises with what the server logged while starting, so the error
        explains itself after the log is gone. With ``move_if_taken``, a port that another
        process took since it was chosen is replaced by a free one and the start retried
        (the caller reads the new :attr:`port`): a server binds its port seconds or minutes
        after it is chosen (a primary after initdb, a standby after its clone).
        """
        if self.running():
            return self
        attempt = 0
        while True:
            attempt += 1
            since = self._log_size()
            try:
                self._run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile),
                           "-o", f"-p {self.port}", "-w", "-t", str(int(timeout)), "start"],
                          timeout=timeout + 10)
                return self
            except ClusterError as exc:
                logged = self._log_since(since)
                if move_if_taken and attempt < PORT_ATTEMPTS and any(m in logged for m in PORT_TAKEN):
                    self._move_to(free_port())
                    continue
                tail = " | ".join(line.strip() for line in logged.splitlines()[-LOG_TAIL:] if line.strip())
                said = " ".join(str(exc).split())
                raise ClusterError(f"{self.name} did not start on port {self.port}: {said}; its log "
                                   f"({self.logfile}) said: {tail or '(nothing)'}") from exc

    def _move_to(self, port: int) -> None:
        conf = self.datadir / "drillbook.conf"
        lines = conf.read_text().splitlines() if conf.exists() else []
        kept = [line for line in lines if not line.startswith("port =")]
        conf.write_text("".join(f"{line}\n" for line in [*kept, f"port = {port}"]))
        self.user.own(conf)
        self.port = port

    def _log_size(self) -> int:
        try:
            return self.logfile.stat().st_size
        except OSError:
            return 0

    def _log_since(self, offset: int) -> str:
        try:
            with open(self.logfile, "rb") as handle:
                handle.seek(offset)
                return handle.read(LOG_READ_MAX).decode("utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self, mode: str = "fast", timeout: float = 60.0) -> None:
        """Stop the server: ``fast`` (clean), ``immediate`` (like a crash) or ``smart``."""
        if mode not in STOP_MODES:
            raise InvalidDrillConfig(f"stop mode {mode!r} is not one of {', '.join(STOP_MODES)}")
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
        # A pid file left behind by a crash may name a pid since reused by another program:
        # stopping "the server" must never signal that one.
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() not in ("postgres", "postmaster"):
                return None
        except OSError:
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def promote(self, timeout: float = 60.0) -> PostgresCluster:
        """End recovery (a standby or a recovering copy) and accept writes."""
        self._run([str(self.tool("pg_ctl")), "-D", str(self.datadir), "-w", "-t", str(int(timeout)),
                   "promote"], timeout=timeout + 10)
        return self

    def in_recovery(self, timeout: float = 5.0) -> bool:
        return bool(self.sql("SELECT pg_is_in_recovery()", timeout=timeout)[0][0])

    def wait_writable(self, timeout: float = 60.0) -> None:
        """Wait until the server runs as a primary (recovery over), or raise."""
        def writable() -> bool:
            try:
                return not self.in_recovery(timeout=2.0)
            except Exception:
                if not self.running():
                    raise ClusterError(f"{self.name} stopped while recovering; see {self.logfile}: "
                                       f"{self.log_tail()}") from None
                return False

        try:
            wait_until(writable, what=f"{self.name} out of recovery", timeout=timeout, interval=0.05)
        except WaitTimeout:
            raise ClusterError(f"{self.name} still in recovery after {timeout:.0f}s; "
                               f"see {self.logfile}") from None

    def lsn(self, timeout: float = 5.0) -> str:
        """The current WAL position (the replay position on a server in recovery)."""
        row = self.sql("SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
                       "ELSE pg_current_wal_lsn() END::text", timeout=timeout)
        return str(row[0][0])

    def size_bytes(self) -> int:
        """Bytes on disk of the data directory."""
        return directory_size(self.datadir)

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.logfile.read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(line.strip() for line in text.splitlines()[-lines:])

    def destroy(self) -> None:
        """Stop the server (immediately) and delete its data directory (in the background,
        see :mod:`~drillbook.twin.trash`) and log."""
        self.stop("immediate")
        discard_tree(self.datadir)
        self.logfile.unlink(missing_ok=True)

    def ready(self, timeout: float = 2.0) -> bool:
        try:
            pg.query(self.dsn("postgres"), "SELECT 1", timeout=timeout)
        except Exception:
            return False
        return True

    def wait_ready(self, timeout: float = 30.0) -> None:
        try:
            wait_until(self.ready, what=f"PostgreSQL on port {self.port} ready", timeout=timeout,
                       interval=0.05)
        except WaitTimeout:
            raise ClusterError(f"PostgreSQL on port {self.port} not ready after {timeout:.0f}s; "
                               f"see {self.logfile}") from None

    # -- SQL -------------------------------------------------------------------

    def sql(self, query: str, params: tuple[Any, ...] | None = None, *, dbname: str = "postgres",
            timeout: float = 30.0) -> list[tuple[Any, ...]]:
        return pg.query(self.dsn(dbname), query, params, timeout)

    def create_database(self, name: str) -> None:
        if not self.sql("SELECT 1 FROM pg_database WHERE datname = %s", (name,)):
            self.sql(f'CREATE DATABASE "{name}"')

    # -- helpers ---------------------------------------------------------------

    def run_tool(self, args: list[str], *, timeout: float,
                 check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL program as the server's user, with a timeout."""
        return self._run(args, timeout=timeout, check=check)

    def _run(self, args: list[str], *, timeout: float,
             check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **self.environ} if self.environ else None
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                                  stdin=subprocess.DEVNULL, **self.user.popen_kwargs())  # type: ignore[call-overload]
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(f"{Path(args[0]).name} timed out after {timeout:.0f}s") from exc
        if check and done.returncode != 0:
            output = (done.stderr or done.stdout).strip()[-2000:]
            raise ClusterError(f"{Path(args[0]).name} failed ({done.returncode}): {output}")
        return done  # type: ignore[no-any-return]

    def prepare_parent(self) -> None:
        """Create the data directory's parent, where the server user writes its log."""
        parent = self.datadir.parent
        parent.mkdir(parents=True, exist_ok=True)
        self._own_parent(parent)
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            self.log.touch()
            self.user.reach(self.log.parent)
            if not self.user.is_self:
                os.chown(self.log, self.user.uid, self.user.gid)

    def _own_parent(self, parent: Path) -> None:
        # The server user must be able to create the data directory and its log.
        if not self.user.is_self:
            self.user.reach(parent)
            os.chown(parent, self.user.uid, self.user.gid)


def directory_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                continue
    return total


def parse_lsn(text: str) -> int:
    """A WAL position (``16/B374D848``) as a byte offset, for comparisons."""
    try:
        high, low = text.split("/")
        return (int(high, 16) << 32) + int(low, 16)
    except ValueError:
        raise InvalidDrillConfig(f"{text!r} is not a WAL position (expected like 0/3000060)") from None
