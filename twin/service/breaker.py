"""The cache circuit breaker of a release: what a replica does with Redis after trouble.

``retry`` (every release up to 1.1.1): no breaker; each call tries Redis again, so the
replica recovers as soon as the cache answers. ``latch`` (release 1.2.0, "fail fast on a
sick cache"): a database error while the cache is sick is taken for a platform-wide outage,
and at the second such error within ``OUTAGE_S`` the breaker opens, and it never closes
again: every cache call fails at once with ``circuit open`` until the replica restarts.

The cache is sick while a cache call is slow (in flight for more than ``SLOW_S``) and for
``WINDOW_S`` after a call that ended slow or *failed* (a refused, reset or timed-out
connection, an error reply). A failed call counts as a slow one does because both are
what a sick cache looks like from the replica, and because a reset connection makes calls
fail fast or hang depending on when the client reconnects: counting only slow calls made
the weakness depend on that race, so the same schedule latched on one replay and not on
the next (``drillbook explore`` then kept a fault the failure does not need).

Neither a sick cache nor a lost database alone opens it; only the two together do. The
breaker is armed once the replica has been healthy (a replica starting up, slow to reach
both, does not trip it). The release's platform monitor (monitor.py) pings the database and
the cache on a clock of its own, so whether the breaker opens depends on the faults, not on
where the replica's requests happened to fall.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MODES = ("retry", "latch")
#: A cache call slower than this is a slow one (well above a cache call on a busy machine).
SLOW_S = 0.5
#: A call that ended slow, or failed, this recently still counts as "the cache is sick".
WINDOW_S = 1.0
#: Two database errors with the cache sick within this long mean an outage.
OUTAGE_S = 3.0


class CacheBreaker:
    def __init__(self, mode: str = "retry") -> None:
        if mode not in MODES:
            raise ValueError(f"cache breaker must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self._lock = threading.Lock()
        self._in_flight: dict[int, float] = {}
        self._last_sick = -1e9
        self._next = 0
        self._suspect: float | None = None
        self.armed = False
        self.opened_at: float | None = None

    @property
    def open(self) -> bool:
        return self.opened_at is not None

    @contextmanager
    def call(self) -> Iterator[None]:
        """Wrap one cache call (timed, and watched for failure: is the cache sick?)."""
        start = time.monotonic()
        with self._lock:
            self._next += 1
            key = self._next
            self._in_flight[key] = start
        failed = True
        try:
            yield
            failed = False
        finally:
            end = time.monotonic()
            with self._lock:
                del self._in_flight[key]
                if failed or end - start > SLOW_S:
                    self._last_sick = end

    def arm(self) -> None:
        """The replica has been healthy: from now on the breaker may open."""
        self.armed = True

    def database_failed(self) -> None:
        """A database call failed: twice with the cache sick at the same time, a latch opens
        for good."""
        if self.mode != "latch" or self.open or not self.armed:
            return
        now = time.monotonic()
        with self._lock:
            slow_now = any(now - started > SLOW_S for started in self._in_flight.values())
            if not (slow_now or now - self._last_sick < WINDOW_S):
                return
            if self._suspect is not None and now - self._suspect < OUTAGE_S:
                self.opened_at = now
            else:
                self._suspect = now
