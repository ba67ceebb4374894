"""What the PostgreSQL data faults share: a DSN by reference, never a secret in params."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from harness.environments.local.pgbin import find_bindir
from harness.errors import FaultError, InvalidDrillConfig
from harness.redact import redact_text


def resolve_dsn(dsn: str | None, dsn_env: str | None) -> str:
    """The DSN itself (password-free) or the name of an environment variable holding it."""
    if dsn_env:
        value = os.environ.get(dsn_env)
        if not value:
            raise InvalidDrillConfig(f"environment variable {dsn_env} (the database URL) is not set")
        return value
    if not dsn:
        raise InvalidDrillConfig("give the database as dsn=... (without a password) or dsn_env=VAR")
    return dsn


def check_no_secret(dsn: str | None) -> None:
    if dsn and redact_text(dsn) != dsn:
        raise InvalidDrillConfig(
            "a fault's dsn must not hold a password (it is written to the undo log): "
            "pass dsn_env='VAR' naming an environment variable instead"
        )


def pg_tool(name: str, args: list[str], *, timeout: float, env: dict[str, str] | None = None) -> str:
    """Run a PostgreSQL client tool (pg_dump, pg_restore) from the server's bindir."""
    binary = Path(find_bindir()) / name
    try:
        done = subprocess.run(
            [str(binary), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise FaultError(f"{name} timed out after {timeout:.0f}s") from exc
    if done.returncode != 0:
        raise FaultError(f"{name} failed: {redact_text(done.stderr.strip())[-1500:]}")
    return done.stdout
