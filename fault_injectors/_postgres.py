"""What the PostgreSQL data faults share: a DSN by reference, never a secret in params."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from drillbook.harness.errors import FaultError, InvalidDrillConfig
from drillbook.harness.pgbin import find_bindir
from drillbook.harness.redact import redact_text


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


def pg_tool(name: str, args: list[str], *, timeout: float, dsn: str | None = None) -> str:
    """Run a PostgreSQL client tool (pg_dump, pg_restore) from the server's bindir.

    ``dsn`` is passed without its password (which goes in PGPASSWORD): a command line
    is visible to every user of the machine in ``ps``.
    """
    binary = Path(find_bindir()) / name
    env = dict(os.environ)
    if dsn is not None:
        params = conninfo_to_dict(dsn)
        password = params.pop("password", None)
        if password:
            env["PGPASSWORD"] = str(password)
        args = [*args, "--dbname=" + make_conninfo("", **params)]
    try:
        done = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=timeout,
                              env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise FaultError(f"{name} timed out after {timeout:.0f}s") from exc
    if done.returncode != 0:
        raise FaultError(f"{name} failed: {redact_text(done.stderr.strip())[-1500:]}")
    return done.stdout
