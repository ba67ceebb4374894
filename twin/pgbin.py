"""Find PostgreSQL server binaries (``drillbook.harness.pgbin``) and the user to run them as."""

from __future__ import annotations

import os
import pwd
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from drillbook.harness.errors import DrillbookError
from drillbook.harness.pgbin import NEEDED as NEEDED
from drillbook.harness.pgbin import PostgresNotFound as PostgresNotFound
from drillbook.harness.pgbin import find_bindir as find_bindir
from drillbook.harness.pgbin import server_version as server_version


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
