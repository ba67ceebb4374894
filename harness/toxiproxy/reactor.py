"""The server's event loop: asyncio's selector loop, with the proxies' sockets served inline.

Profiling the relay path (issue #16) showed where a proxied byte's time went on
asyncio's own machinery: per hop a ``Handle`` created and run, a transport's read
callback, a ``StreamReader`` waking a task, the task's step, ``drain()``. Taken
together that cost more than the kernel's work of the hop itself, and the selector
loop alone (without streams) still cost about 1.5 times a C proxy's CPU per query.

So the sockets of proxied connections (listeners, dials, both ends of each
connection) register with the selector directly, with an :class:`Inline` handler
as their key's data, and :class:`InlineSelector` calls that handler from within
``select()`` instead of handing the event to asyncio: a readable socket is read
and its bytes sent on in the same call. Everything else (the HTTP API, toxics,
timers) is ordinary asyncio on the same thread, so a toxic that an API call adds
sees the very next byte read, and nothing needs a lock.

A handler that touches asyncio (resolving a future, starting a task) only
schedules callbacks; ``select()`` returns after one poll, so the loop runs them
at once.

Even so, a hop served here costs an ``epoll_wait`` and a turn of the loop; a
toxic-free direction that keeps busy is handed to a relay thread instead
(``relay.py``), which the loop takes back when a toxic is added.
"""

from __future__ import annotations

import asyncio
import logging
import selectors

log = logging.getLogger("drillbook.toxiproxy")


class Inline:
    """A socket's handler, called by :class:`InlineSelector` when the socket is ready."""

    def ready(self, events: int) -> None:
        """``events``: ``selectors.EVENT_READ`` and/or ``EVENT_WRITE``. Must not block."""
        raise NotImplementedError

    def crashed(self, exc: Exception) -> None:
        """``ready`` raised: a bug, not an I/O error (those it handles). Cut what it serves."""
        raise NotImplementedError


class InlineSelector(selectors.DefaultSelector):
    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events = super().select(timeout)
        for_asyncio = []
        for key, mask in events:
            handler = key.data
            if isinstance(handler, Inline):
                try:
                    handler.ready(mask)
                except Exception as exc:  # one connection's bug must not stop the server
                    log.exception("toxiproxy: a socket handler failed")
                    handler.crashed(exc)
            else:
                for_asyncio.append((key, mask))
        return for_asyncio


def new_event_loop() -> tuple[asyncio.AbstractEventLoop, InlineSelector]:
    """A new event loop and its selector, with which proxied sockets register."""
    selector = InlineSelector()
    return asyncio.SelectorEventLoop(selector), selector
