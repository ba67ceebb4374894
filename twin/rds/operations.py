"""The work the RDS API does in the background.

A call returns at once with the intermediate status (``stopping``, ``rebooting``,
``creating``, ...) and its work runs in a thread, as RDS works asynchronously; boto3's
waiters and the staging drivers poll until the status changes. While the work runs, the
instance (or snapshot) shows the intermediate status; afterwards its status comes from
its process again, or, if the work failed and left nothing usable, from the failure
(``incompatible-restore``, ``failed``), as RDS shows it, until it is deleted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

INSTANCE, SNAPSHOT = "instance", "snapshot"


@dataclass(frozen=True)
class Operation:
    action: str
    status: str
    began: float


@dataclass(frozen=True)
class Failure:
    action: str
    status: str
    error: str


class Operations:
    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], Operation] = {}
        self._failed: dict[tuple[str, str], Failure] = {}

    def running(self, kind: str, identifier: str) -> Operation | None:
        with self._lock:
            return self._running.get((kind, identifier))

    def failed(self, kind: str, identifier: str) -> Failure | None:
        with self._lock:
            return self._failed.get((kind, identifier))

    def status(self, kind: str, identifier: str) -> str | None:
        """The intermediate status of the work on it, else the status its failure left."""
        with self._lock:
            op = self._running.get((kind, identifier))
            if op is not None:
                return op.status
            failure = self._failed.get((kind, identifier))
            return None if failure is None else failure.status

    def identifiers(self, kind: str) -> list[str]:
        """What has work running or a failure standing (it may not exist in the state yet)."""
        with self._lock:
            return sorted({key[1] for key in (*self._running, *self._failed) if key[0] == kind})

    def forget_failure(self, kind: str, identifier: str) -> None:
        with self._lock:
            self._failed.pop((kind, identifier), None)

    def begin(
        self,
        kind: str,
        identifier: str,
        *,
        action: str,
        status: str,
        work: Callable[[], None],
        failed_status: str | None = None,
    ) -> None:
        """Run ``work`` in a thread, showing ``status`` meanwhile. The caller has checked that no
        work runs on it (under the binding's lock)."""
        key = (kind, identifier)
        with self._lock:
            self._failed.pop(key, None)
            self._running[key] = Operation(action, status, time.monotonic())
        thread = threading.Thread(
            target=self._run,
            args=(key, action, work, failed_status),
            name=f"rds-{action}-{identifier}",
            daemon=True,
        )
        thread.start()

    def _run(
        self, key: tuple[str, str], action: str, work: Callable[[], None], failed_status: str | None
    ) -> None:
        began = time.monotonic()
        self._log.info("%s %s: started", action, key[1])
        try:
            work()
        except Exception as exc:
            self._log.error("%s %s: failed after %.2fs: %s", action, key[1], time.monotonic() - began, exc)
            with self._lock:
                if failed_status is not None:
                    self._failed[key] = Failure(action, failed_status, str(exc))
        else:
            self._log.info("%s %s: done in %.2fs", action, key[1], time.monotonic() - began)
        finally:
            with self._lock:
                self._running.pop(key, None)
