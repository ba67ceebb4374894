"""The platform monitor of release 1.2.0: the database and the cache pinged on a clock of
its own, so that the cache breaker (breaker.py) hears of every outage.

Without it the breaker heard only the replica's traffic: readiness probes (each waiting
up to a second for a slow cache), the ledger's writes and the front door's health checks,
shared unevenly between replicas. Whether a short database outage met a slow cache on
*every* replica then depended on where requests happened to fall, so the same schedule of
faults latched the replicas on one run and not on the next, and ``drillbook explore``
could not shrink it (a replay that passes looks like a smaller schedule that passes). With
the monitor a replica sees a database error every ``PERIOD_S`` while the database is lost
and a cache call in flight while the cache is slow (a failed one while it is cut or reset),
whatever its traffic: whether the
breaker latches depends on the faults, not on the requests.

Each side is one loop in a thread of its own, one call at a time (one pooled database
connection at most; a hanging cache call is seen in flight by the other loop).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

#: Between two pings of the same side: a database outage of 0.2 s is seen twice.
PERIOD_S = 0.1


class PlatformMonitor:
    def __init__(self, check_database: Callable[[], object], check_cache: Callable[[], object],
                 *, period_s: float = PERIOD_S) -> None:
        self._stop = threading.Event()
        self._period_s = period_s
        self._threads = [
            threading.Thread(target=self._loop, args=(check,), name=f"monitor-{side}", daemon=True)
            for side, check in (("database", check_database), ("cache", check_cache))
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self, check: Callable[[], object]) -> None:
        while not self._stop.is_set():
            # The checks report failures to the breaker themselves; a failure here is the
            # information the monitor exists to gather, never a reason to stop gathering it.
            with contextlib.suppress(Exception):
                check()
            self._stop.wait(self._period_s)
