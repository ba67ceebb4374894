"""Find PostgreSQL server binaries and the user to run them as."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
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


@dataclass(frozen=True)
class RunAs:
    """Who runs the database processes: the current user, or an unprivileged one when root."""

    uid: int
    gid: int
    name: str

    @property
    def is_self(self) -> bool:
        return self.uid == os.getuid()

    def popen_kwargs(self) -> dict[str, object]:
        if self.is_self:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def reach(self, path: Path) -> None:
        """Let this user traverse every ancestor of ``path`` (adds search permission, o+x,
        where missing; never read permission): pytest's and mkdtemp's 0700 temp dirs
        would otherwise hide the data directory from the server user."""
        if self.is_self:
            return
        for ancestor in reversed(path.resolve().parents):
            mode = ancestor.stat().st_mode
            if not mode & 0o001:
                ancestor.chmod(mode | 0o001)

    def own(self, path: Path) -> None:
        """Give ``path`` (recursively) to this user."""
        if self.is_self:
            return
        for root, dirs, files in os.walk(path):
            os.chown(root, self.uid, self.gid)
            for name in dirs + files:
                os.lchown(Path(root) / name, self.uid, self.gid)


UNPRIVILEGED_USERS = ("postgres", "drillbook")


@cache
def run_as() -> RunAs:
    if os.getuid() != 0:
        entry = pwd.getpwuid(os.getuid())
        return RunAs(entry.pw_uid, entry.pw_gid, entry.pw_name)
    for name in UNPRIVILEGED_USERS:
        try:
            entry = pwd.getpwnam(name)
            return RunAs(entry.pw_uid, entry.pw_gid, name)
        except KeyError:
            continue
    # Root without a postgres user (e.g. pgserver on a bare machine): make one.
    try:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        "drillbook"], check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise DrillbookError(
            "running as root, PostgreSQL needs an unprivileged user and none exists; "
            "create one with `useradd --system drillbook`"
        ) from exc
    entry = pwd.getpwnam("drillbook")
    return RunAs(entry.pw_uid, entry.pw_gid, "drillbook")
