"""moto's server: the AWS APIs the runbooks call (S3, Route 53, Secrets Manager, RDS),
in its own process on loopback. Its state lives in memory: it is bootstrapped at
every start (``aws_platform``)."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request

from drillbook.harness.errors import DrillbookError


class MotoNotReady(DrillbookError):
    pass


def argv(port: int, host: str = "127.0.0.1") -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)]


def url(port: int, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{port}"


def ready(port: int, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url(port)}/moto-api/data.json", timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def wait_ready(port: int, timeout: float = 30.0, alive: object = None) -> None:
    """Wait until moto answers; ``alive`` (a callable) ends the wait early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready(port):
            return
        if callable(alive) and not alive():
            raise MotoNotReady(f"moto's server exited before listening on port {port}")
        time.sleep(0.05)
    raise MotoNotReady(f"moto's server did not answer on port {port} within {timeout:.0f}s")
