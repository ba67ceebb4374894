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
from drillbook.harness.toxiproxy.splice import Spliced, Splicer
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
        splicer: Splicer | None = None,
    ) -> None:
        self.proxy_name = proxy_name
        self._on_done = on_done
        #: Called once the connection is spliced (the proxy starts watching backlogs).
        self.on_spliced: Callable[[Connection], None] = lambda connection: None
        self._open = 2
        self.client = Endpoint(client, selector, on_closed=self._endpoint_closed)
        self.upstream = Endpoint(upstream, selector, on_closed=self._endpoint_closed)
        #: The kernel's share of the connection (splice.py), once it has one.
        self.spliced: Spliced | None = None
        self._splicer = splicer
        self.links = {
            direction: Link(
                direction,
                source,
                dest,
                toxics.streams[direction],
                reset=self.reset,
                rng=rng,
                on_crash=self._crashed,
                splice=self.splice,
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
            if self.spliced is not None:
                self.spliced.close()
            self._on_done(self)

    def splice(self) -> bool:
        """Hand the connection to the kernel (splice.py), once it has shown itself busy;
        False if it cannot be (no splicer, a remote or IPv6 peer, tried before)."""
        splicer, self._splicer = self._splicer, None
        if splicer is None or self.client.is_closed or self.upstream.is_closed:
            return False
        up, down = self.links[Stream.UPSTREAM], self.links[Stream.DOWNSTREAM]
        self.spliced = splicer.open(
            self.client.sock,
            self.upstream.sock,
            forwarded=(self.upstream.sent_total, self.client.sent_total),
            toxic_free=(not up.stages, not down.stages),
        )
        if self.spliced is None:
            return False
        self.upstream.lane = self.spliced.to_upstream
        self.client.lane = self.spliced.to_client
        self.on_spliced(self)
        return True

    def check_backlog(self) -> None:
        """Let a direction whose destination backs up go through the proxy (splice.py)."""
        for endpoint in (self.upstream, self.client):
            if endpoint.lane is not None and not endpoint.is_closed:
                endpoint.lane.check(endpoint.sock)

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
