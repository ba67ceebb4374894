"""The lease as a lock in the state directory: ``<state dir>/leases/<env>.lock``.

The lock is an exclusive ``flock``: the kernel drops it when the last process holding
the file open is gone, however it ended (SIGKILL included), so a free lock means a dead
holder. Who holds it is written beside it (``<env>.json``, replaced atomically) for
the messages and for the takeover: a holder that died without releasing the lease is
still named there, and its faults are reverted before the next run records itself.
``drillbook run`` passes the locked descriptor to its pytest, so the lock lives as long
as either of them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Any

from drillbook.harness import undolog
from drillbook.harness.atomic import write_atomic
from drillbook.harness.lease.backend import DEAD, HELD, TAKEN, Attempt, LeaseStatus
from drillbook.harness.lease.holder import LEASE_FD_VARIABLE, LeaseHolder
from drillbook.harness.polling import WaitTimeout, wait_until

UNKNOWN = LeaseHolder(
    run_id="(unknown: the lease record is missing)", host="?", pid=0, pid_ticks=None, since="?", command="?"
)


class LocalLease:
    def __init__(self, state_dir: Path, env: str) -> None:
        self.env = env
        self.directory = Path(state_dir) / "leases"
        self.lock_path = self.directory / f"{env}.lock"
        self.record_path = self.directory / f"{env}.json"
        self.where = str(self.lock_path)
        self._fd: int | None = None

    # -- taking ------------------------------------------------------------------------

    def attempt(self, me: LeaseHolder) -> Attempt:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return Attempt(HELD, self._holder_named())
        self._fd = fd
        recorded = self.recorded()
        if recorded is None or recorded.run_id == me.run_id:
            self._record(me)
            return Attempt(TAKEN)
        if recorded.alive_here():
            # The lock file was replaced under a live holder (someone deleted the state directory's
            # leases): the holder still runs, so the lease is not free.
            self.abandon()
            return Attempt(HELD, recorded)
        return Attempt(DEAD, recorded)

    def take_over(self, me: LeaseHolder, dead: LeaseHolder) -> bool:
        self._record(me)  # the lock is ours since attempt(): nobody else can be quicker
        return True

    def abandon(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor drops the lock
            self._fd = None

    def keep(self, me: LeaseHolder) -> None:
        """The kernel keeps a lock for as long as it is held: nothing to renew."""

    def lost(self) -> str | None:
        return None

    def release(self, me: LeaseHolder) -> None:
        recorded = self.recorded()
        if recorded is not None and recorded.run_id == me.run_id:
            self.record_path.unlink(missing_ok=True)
        self.abandon()

    # -- a child under the parent's lease --------------------------------------------------

    def child_env(self, me: LeaseHolder) -> tuple[dict[str, str], tuple[int, ...]]:
        if self._fd is None:
            return {}, ()
        return {LEASE_FD_VARIABLE: str(self._fd)}, (self._fd,)

    def inherited(self, identity: str, environ: dict[str, str]) -> LeaseHolder | None:
        """The parent's holder when the descriptor we were given is the locked file itself."""
        recorded = self.recorded()
        if recorded is None or recorded.identity != identity:
            return None
        try:
            fd = int(environ.get(LEASE_FD_VARIABLE, ""))
            given, lock = os.fstat(fd), self.lock_path.stat()
        except (ValueError, OSError):
            return None
        if (given.st_dev, given.st_ino) != (lock.st_dev, lock.st_ino) or not self._locked():
            return None
        return recorded

    def mirror(self, identity: str, entries: list[dict[str, Any]]) -> None:
        """The undo log beside the lease already says everything: nothing to mirror."""

    # -- reading ---------------------------------------------------------------------------

    def recorded(self) -> LeaseHolder | None:
        try:
            return LeaseHolder.from_json(json.loads(self.record_path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None

    def status(self) -> LeaseStatus:
        recorded = self.recorded()
        if self._locked():
            return LeaseStatus(self.env, self.where, recorded or UNKNOWN)
        if recorded is None:
            return LeaseStatus(self.env, self.where, None)
        return LeaseStatus(self.env, self.where, None, stale=recorded, detail=self._left_by(recorded))

    def _left_by(self, dead: LeaseHolder) -> str:
        log = self.directory.parent / "undo" / f"{dead.run_id}.jsonl"
        try:
            outstanding = len(undolog.read(log).outstanding) if log.exists() else 0
        except undolog.UndoLogError as exc:
            return str(exc)
        if not outstanding:
            return "nothing of that run is left to revert"
        return (
            f"{outstanding} of its faults not reverted yet: `drillbook revert` reverts them, or the next "
            "run does before it takes the lease"
        )

    def _holder_named(self, wait_s: float = 1.0) -> LeaseHolder:
        """The holder of a lock just found taken: it records itself right after taking the lock,
        so a run started at the same moment may look in between; give it up to ``wait_s``."""
        try:
            found = wait_until(self.recorded, what="the lease holder's record", timeout=wait_s, interval=0.02)
        except WaitTimeout:
            return UNKNOWN
        return found or UNKNOWN

    def _record(self, me: LeaseHolder) -> None:
        write_atomic(self.record_path, json.dumps(me.to_json(), indent=2, sort_keys=True) + "\n")

    def _locked(self) -> bool:
        """Whether some process holds the lock, read from /proc/locks (taking the lock to find out
        would make a run starting at that moment see it held)."""
        try:
            inode = self.lock_path.stat().st_ino
            lines = Path("/proc/locks").read_text().splitlines()
        except OSError:
            return False
        for line in lines:
            fields = line.split()
            if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK":
                continue
            with contextlib.suppress(ValueError, IndexError):
                if int(fields[5].rsplit(":", 1)[1]) == inode:
                    return True
        return False
