"""resourceVersions and watch events for objects rendered from the supervisor's state.

The supervisor knows nothing of resource versions: its state is plain data. Each time the
API renders a resource (on a request, and every 50 ms while someone watches it),
the cache compares every object with the one it saw last; a changed object gets the next
resourceVersion and an ``ADDED``/``MODIFIED`` event, a vanished one a ``DELETED`` event. A
watch replays the events after its resourceVersion; one older than the kept window is
answered ``410 Expired``, after which clients list again, as with a real API server.

Versions start from the clock in milliseconds (or above the last one saved), so they keep
growing across supervisor restarts.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from drillbook.twin.kube.meta import Rendered

Key = tuple[str, str | None, str]


@dataclass(frozen=True)
class WatchEvent:
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    rendered: Rendered


@dataclass
class _Entry:
    rv: int
    body: dict[str, Any]  # without metadata.resourceVersion
    rendered: Rendered


def _key(r: Rendered) -> Key:
    return (r.resource, r.namespace, r.name)


def _without_rv(obj: dict[str, Any]) -> dict[str, Any]:
    body = dict(obj)
    body["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
    return body


class ObjectCache:
    def __init__(self, *, floor: int = 0, window: int = 4096) -> None:
        self.rv = max(int(time.time() * 1000), floor)
        self._entries: dict[Key, _Entry] = {}
        self._events: deque[WatchEvent] = deque(maxlen=window)
        #: Per resource, the newest event dropped from the window: a watch from before it is too old.
        self._horizon: dict[str, int] = {}
        self._lock = threading.Lock()

    def observe(self, resource: str, rendered: list[Rendered]) -> int:
        """Give each object of ``resource`` its resourceVersion (in place); the list's version."""
        with self._lock:
            seen = set()
            for r in rendered:
                key = _key(r)
                seen.add(key)
                body = _without_rv(r.obj)
                entry = self._entries.get(key)
                if entry is None or entry.body != body:
                    self.rv += 1
                    r.obj["metadata"]["resourceVersion"] = str(self.rv)
                    self._entries[key] = _Entry(self.rv, body, copy.deepcopy(r))
                    self._record(
                        WatchEvent(
                            self.rv, "ADDED" if entry is None else "MODIFIED", self._entries[key].rendered
                        )
                    )
                else:
                    r.obj["metadata"]["resourceVersion"] = str(entry.rv)
            for key in [k for k in self._entries if k[0] == resource and k not in seen]:
                gone = self._entries.pop(key)
                self.rv += 1
                self._record(WatchEvent(self.rv, "DELETED", gone.rendered))
            return self.rv

    def prime(self, rendered: list[Rendered]) -> None:
        """Objects saved with their resourceVersion (leases after a restart): no events."""
        with self._lock:
            for r in rendered:
                rv = int(r.obj["metadata"].get("resourceVersion") or 0)
                self._entries[_key(r)] = _Entry(rv, _without_rv(r.obj), copy.deepcopy(r))
                self.rv = max(self.rv, rv)

    def version_of(self, resource: str, namespace: str | None, name: str) -> str | None:
        with self._lock:
            entry = self._entries.get((resource, namespace, name))
            return None if entry is None else str(entry.rv)

    def events_after(self, resource: str, rv: int) -> list[WatchEvent] | None:
        """Events of ``resource`` newer than ``rv``; None when ``rv`` is older than what is kept."""
        with self._lock:
            if rv < self._horizon.get(resource, 0):
                return None
            return [e for e in self._events if e.rv > rv and e.rendered.resource == resource]

    def _record(self, event: WatchEvent) -> None:
        if len(self._events) == self._events.maxlen:
            dropped = self._events[0]
            self._horizon[dropped.rendered.resource] = max(
                self._horizon.get(dropped.rendered.resource, 0), dropped.rv
            )
        self._events.append(event)
