"""moto's server: the AWS APIs the runbooks call (S3, Route 53, Secrets Manager, RDS),
in its own process on loopback. Its state lives in memory: it is bootstrapped at
every start (``aws_platform``). It runs through the twin's launcher
(:mod:`~drillbook.twin.rds.server`), which binds moto's RDS to the environment's
PostgreSQL servers."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from pathlib import Path

from drillbook.harness.errors import DrillbookError
from drillbook.harness.polling import WaitTimeout, wait_until


class MotoNotReady(DrillbookError):
    pass


def argv(port: int, state_dir: Path | None = None, *, multi_az: bool = True,
         host: str = "127.0.0.1") -> list[str]:
    """moto's server with the RDS API bound to the environment in ``state_dir`` (moto's own
    server, unbound, without one)."""
    if state_dir is None:
        return [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)]
    return [sys.executable, "-m", "drillbook.twin.rds.server", "--state-dir", str(state_dir),
            *([] if multi_az else ["--single-az"]), "-H", host, "-p", str(port)]


def url(port: int, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{port}"


def ready(port: int, timeout: float = 1.0) -> bool:
    # /moto-api/config is cheap; data.json serialises every model moto holds (and fails on
    # moto's RDS DB instances, whose subnet group property is write-only).
    try:
        with urllib.request.urlopen(f"{url(port)}/moto-api/config", timeout=timeout) as response:
            return bool(200 <= response.status < 300)  # moto answers config with 201
    except (OSError, urllib.error.URLError):
        return False


def wait_ready(port: int, timeout: float = 30.0, alive: object = None) -> None:
    """Wait until moto answers; ``alive`` (a callable) ends the wait early if the process died."""

    def answers() -> bool:
        if ready(port):
            return True
        if callable(alive) and not alive():
            raise MotoNotReady(f"moto's server exited before listening on port {port}")
        return False

    try:
        wait_until(answers, what=f"moto's server to answer on port {port}", timeout=timeout, interval=0.05)
    except WaitTimeout:
        raise MotoNotReady(f"moto's server did not answer on port {port} within {timeout:.0f}s") from None
