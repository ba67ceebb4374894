"""A proxy's listening socket, accepting clients from within ``select()``."""

from __future__ import annotations

import asyncio
import errno
import logging
import selectors
import socket
from collections.abc import Callable

from drillbook.harness.toxiproxy.reactor import Inline

log = logging.getLogger("drillbook.toxiproxy")

BACKLOG = 1024
#: Out of file descriptors: stop accepting for this long rather than spin on a ready socket
#: (what asyncio's servers do).
RETRY_DELAY = 1.0
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class Listener(Inline):
    def __init__(
        self,
        sock: socket.socket,
        selector: selectors.BaseSelector,
        on_client: Callable[[socket.socket], None],
    ) -> None:
        self.sock = sock
        self.selector = selector
        self.on_client = on_client
        self.closed = False
        self._retry: asyncio.TimerHandle | None = None
        # Each write is sent at once, as asyncio's transports (and toxiproxy) do;
        # accepted sockets inherit the option, which saves a call per client.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.listen(BACKLOG)
        selector.register(sock.fileno(), selectors.EVENT_READ, self)

    def ready(self, events: int) -> None:
        # One client per wake-up. Clients mostly come one at a time, and trying for a
        # second costs a failed accept() each time (issue #16: 2 % of a connection's CPU);
        # a flood is still taken at once, a client per turn of the loop, as the listener
        # stays ready, and between them open connections get their turn.
        if self.closed:
            return
        try:
            client, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        except OSError as exc:
            if exc.errno not in _OUT_OF_RESOURCES:
                raise
            where = self.sock.getsockname()
            log.warning("cannot accept on %s: %s; retrying in %.0fs", where, exc, RETRY_DELAY)
            self.selector.unregister(self.sock.fileno())
            self._retry = asyncio.get_running_loop().call_later(RETRY_DELAY, self._resume)
            return
        self.on_client(client)

    def _resume(self) -> None:
        self._retry = None
        if not self.closed:
            self.selector.register(self.sock.fileno(), selectors.EVENT_READ, self)

    def crashed(self, exc: Exception) -> None:
        pass  # logged by the selector; the next client gets another try

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._retry is not None:
            self._retry.cancel()
        else:
            self.selector.unregister(self.sock.fileno())
        self.sock.close()
