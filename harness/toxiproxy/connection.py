"""One client connection through a proxy and its own upstream connection: two links."""

from __future__ import annotations

import logging
import random
import selectors
import socket
from collections.abc import Callable

from drillbook.harness.toxiproxy.chain import ToxicChain
from drillbook.harness.toxiproxy.endpoint import Endpoint
from drillbook.harness.toxiproxy.link import Link
from drillbook.harness.toxiproxy.stream import Stream

log = logging.getLogger("drillbook.toxiproxy")


class Connection:
    def __init__(
        self,
        proxy_name: str,
        client: socket.socket,
        upstream: socket.socket,
        toxics: ToxicChain,
        *,
        selector: selectors.BaseSelector,
        rng: random.Random,
        on_done: Callable[[Connection], None],
    ) -> None:
        self.proxy_name = proxy_name
        self._on_done = on_done
        self._open = 2
        self.client = Endpoint(client, selector, on_closed=self._endpoint_closed)
        self.upstream = Endpoint(upstream, selector, on_closed=self._endpoint_closed)
        self.links = {
            direction: Link(
                direction,
                source,
                dest,
                toxics.streams[direction],
                reset=self.reset,
                rng=rng,
                on_crash=self._crashed,
            )
            for direction, source, dest in (
                (Stream.UPSTREAM, self.client, self.upstream),
                (Stream.DOWNSTREAM, self.upstream, self.client),
            )
        }

    def start(self) -> None:
        """Carry data both ways until both sockets are closed."""
        for link in self.links.values():
            link.start()
        # A client usually speaks first, and by the time its upstream connection is
        # open its first bytes are often in: relayed now, they save a turn of the loop.
        self.client.ready(selectors.EVENT_READ)

    def _endpoint_closed(self) -> None:
        self._open -= 1
        if self._open == 0:
            self._cancel_tasks()
            self._on_done(self)

    def _cancel_tasks(self) -> None:
        for link in self.links.values():
            for task in link.all_tasks():
                task.cancel()

    def abort(self) -> None:
        """Cut both sockets now, without delivering what is still queued."""
        self._cancel_tasks()
        self.client.abort()
        self.upstream.abort()

    def reset(self) -> None:
        """Cut both sockets with a TCP RST (SO_LINGER 0), as reset_peer does."""
        # Both before either closes: closing one ends a link, which closes the other.
        self.client.linger_zero()
        self.upstream.linger_zero()
        self.abort()

    def _crashed(self, exc: BaseException) -> None:
        try:
            peer = "{}:{}".format(*self.client.sock.getpeername())
        except OSError:
            peer = "a closed socket"
        log.error(
            "proxy %s: a toxic failed on connection from %s; cutting it: %r", self.proxy_name, peer, exc
        )
        self.abort()
