"""Stopping and starting single components of a running local environment, as the
DR procedures' "Restart Services in Order" does: the database, Redis, the service,
the front door, the workers. Used by faults and runbooks; ``env down`` still stops
whatever is running (the state file and the app plane's manifest are kept current)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from drillbook.harness.errors import DrillbookError
from drillbook.harness.polling import WaitTimeout, wait_until
from drillbook.twin import processes
from drillbook.twin.state import EnvRecord, ProcessRecord

if TYPE_CHECKING:
    from drillbook.twin.environment import LocalEnvironment


def redis_running(env: LocalEnvironment) -> bool:
    record = env.record.processes.get("redis") if env.record else None
    return record is not None and processes.alive(record)


def stop_redis(env: LocalEnvironment, timeout: float = 10.0) -> None:
    """SIGTERM redis-server (it writes its AOF and RDB first), SIGKILL after ``timeout``."""
    record = env.record.processes.get("redis") if env.record else None
    if record is not None:
        processes.stop(record, timeout=timeout)


def start_redis(env: LocalEnvironment, timeout: float = 10.0) -> None:
    """Start redis-server again with its configuration (same port, same data directory)."""
    if env.record is None or "redis" not in env.record.processes:
        raise DrillbookError("this environment has no Redis to start; run `drillbook env up`")
    old = env.record.processes["redis"]
    if processes.alive(old):
        return
    new = processes.spawn("redis", old.argv, label=env.record.label, log=Path(old.log or "/dev/null"),
                          port=old.port, pidfile=Path(old.pidfile) if old.pidfile else None)

    def keep(record: EnvRecord) -> None:
        record.processes["redis"] = new

    env.state.update(keep)
    env.record.processes["redis"] = new
    silent = DrillbookError(f"redis-server did not answer on port {new.port}; see {new.log}")

    def answers() -> bool:
        if env.cache.ping(timeout=0.5):
            return True
        if not processes.alive(new):
            raise silent
        return False

    try:
        wait_until(answers, what=f"redis-server on port {new.port}", timeout=timeout, interval=0.05)
    except WaitTimeout:
        raise silent from None


def front_door_running(env: LocalEnvironment) -> bool:
    return env.app_plane is not None and env.app_plane.front_door_running()


def stop_front_door(env: LocalEnvironment, timeout: float = 10.0) -> None:
    if env.app_plane is not None:
        env.app_plane.stop_front_door(timeout=timeout)


def start_front_door(env: LocalEnvironment, timeout: float = 30.0) -> None:
    """Start the front door again on its port; the state file follows its new pid."""
    if env.app_plane is None:
        raise DrillbookError("this environment has no app plane; run `drillbook env up`")
    door = env.app_plane.start_front_door(timeout=timeout)
    old = env.record.processes.get("frontdoor") if env.record else None
    if old is None:
        return
    new = ProcessRecord(name="frontdoor", pid=door.pid, ticks=door.ticks, argv=door.argv,
                        port=door.port or old.port, log=door.log, pidfile=old.pidfile)

    def keep(record: EnvRecord) -> None:
        record.processes["frontdoor"] = new

    env.state.update(keep)
    if env.record is not None:
        env.record.processes["frontdoor"] = new
