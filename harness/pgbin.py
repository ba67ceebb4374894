"""Find the host's PostgreSQL binaries: the twin runs its servers from them, and the data faults
run the client tools (pg_dump, pg_restore) of the same installation, on any environment."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

from drillbook.harness.errors import DrillbookError

NEEDED = ("initdb", "pg_ctl", "postgres")


class PostgresNotFound(DrillbookError):
    pass


@cache
def find_bindir() -> Path:
    """The system's PostgreSQL (PATH, ``pg_config --bindir``, /usr/lib/postgresql/*/bin),
    else the one shipped in the ``pgserver`` wheel."""
    candidates: list[Path] = []
    override = os.environ.get("DRILLBOOK_PG_BINDIR")
    if override:
        candidates.append(Path(override))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0:
                candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for directory in candidates:
        if all((directory / name).is_file() for name in NEEDED):
            return directory
    wheel = _pgserver_bindir()
    if wheel is not None and all((wheel / name).is_file() for name in NEEDED):
        return wheel
    raise PostgresNotFound(
        "no PostgreSQL server binaries found (looked on PATH, pg_config --bindir, "
        "/usr/lib/postgresql/*/bin and the pgserver wheel). Install them with "
        "`apt-get install -y postgresql` or `pip install pgserver` (drillbook installs it on "
        "Python < 3.13), or set DRILLBOOK_PG_BINDIR"
    )


def _pgserver_bindir() -> Path | None:
    # Located without importing pgserver: its import has side effects (platformdirs).
    import importlib.util

    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "pginstall" / "bin"


def _version_key(path: Path) -> float:
    try:
        return float(path.parent.name)
    except ValueError:
        return 0.0


@cache
def server_version(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10)
    return out.stdout.strip().rsplit(" ", 1)[-1]
