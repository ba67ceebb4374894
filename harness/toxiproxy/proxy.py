"""A proxy: listens on ``listen`` and gives each client its own connection to ``upstream``."""

from __future__ import annotations

import asyncio
import logging
import random
import selectors
import socket
from typing import Any

from drillbook.harness.toxiproxy import address, errors, splice
from drillbook.harness.toxiproxy.chain import ToxicChain, ToxicSpec
from drillbook.harness.toxiproxy.connection import Connection
from drillbook.harness.toxiproxy.dial import Dial
from drillbook.harness.toxiproxy.endpoint import DONTWAIT
from drillbook.harness.toxiproxy.listener import Listener

log = logging.getLogger("drillbook.toxiproxy")

#: Connecting to the upstream gives up after this long (the client is then closed).
DIAL_TIMEOUT = 10.0
#: How long stopping a proxy waits for its relay threads to end (they are woken at once).
RELAY_STOP_TIMEOUT = 5.0


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str, *, selector: selectors.BaseSelector) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.toxics = ToxicChain()
        self.connections: set[Connection] = set()
        self._selector = selector
        self._listener: Listener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Clients whose upstream connection is being opened.
        self._dials: dict[Dial, socket.socket] = {}
        # toxicity and jitter draws; one generator, as seeding one per connection costs a syscall.
        self._rng = random.Random()
        self._splicer = splice.splicer()
        self._splice_key: bytes | None = None
        self._guard_timer: asyncio.TimerHandle | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [spec.to_json() for spec in self.toxics.all()],
        }

    # -- listening ---------------------------------------------------------------

    async def start(self) -> None:
        """Listen (a no-op if enabled); raises the API's 500 if the address cannot be bound."""
        if self.enabled:
            return
        try:
            sock = await address.bind(self.listen)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise errors.ApiError(f"listen tcp {self.listen}: bind: {reason.lower()}", 500) from exc
        self._loop = asyncio.get_running_loop()  # kept: asking for it costs a getpid() per client
        try:
            self._listener = Listener(sock, self._selector, self._accepted)
        except OSError as exc:
            sock.close()
            reason = (exc.strerror or str(exc)).lower()
            raise errors.ApiError(f"listen tcp {self.listen}: listen: {reason}", 500) from exc
        self.listen = address.join(sock.getsockname())
        if self._splicer is not None:
            self._splice_key = self._splicer.listen(sock)
        self.enabled = True
        log.info("proxy %s: listening on %s -> %s", self.name, self.listen, self.upstream)

    async def stop(self) -> None:
        """Close the listener and cut every open connection (a no-op if disabled)."""
        if not self.enabled:
            return
        self.enabled = False
        if self._guard_timer is not None:
            self._guard_timer.cancel()
            self._guard_timer = None
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._splice_key is not None and self._splicer is not None:
            self._splicer.unlisten(self._splice_key)
            self._splice_key = None
        dials, self._dials = self._dials, {}
        for dial, client in dials.items():
            dial.cancel()
            client.close()
        connections = list(self.connections)
        for connection in connections:
            connection.abort()
        # Relay threads were woken by the abort; their sockets close as they end.
        relays = [link.relay.finished for c in connections for link in c.links.values() if link.relay]
        if relays:
            await asyncio.wait(relays, timeout=RELAY_STOP_TIMEOUT)
        log.info("proxy %s: stopped, %d connection(s) cut", self.name, len(dials) + len(connections))

    def _accepted(self, client: socket.socket) -> None:
        assert self._loop is not None  # set by start(), before anything is accepted
        dial = Dial(
            self.upstream,
            selector=self._selector,
            loop=self._loop,
            timeout=DIAL_TIMEOUT,
            on_connected=lambda upstream: self._connected(dial, client, upstream),
            on_failed=lambda exc: self._failed(dial, client, exc),
            before_connect=self._splicer.dialing_from if self._splicer is not None else None,
        )
        self._dials[dial] = client
        dial.start()

    def _failed(self, dial: Dial, client: socket.socket, exc: BaseException) -> None:
        self._dials.pop(dial, None)
        log.warning(
            "proxy %s: cannot connect to upstream %s (%s); closing the client", self.name, self.upstream, exc
        )
        client.close()

    def _connected(self, dial: Dial, client: socket.socket, upstream: socket.socket) -> None:
        self._dials.pop(dial, None)
        if not DONTWAIT:
            client.setblocking(False)  # else it may stay blocking: see endpoint.py
        connection = Connection(
            self.name,
            client,
            upstream,
            self.toxics,
            selector=self._selector,
            rng=self._rng,
            on_done=self.connections.discard,
            splicer=self._splicer,
        )
        connection.on_spliced = self._spliced
        self.connections.add(connection)
        connection.start()

    def _spliced(self, connection: Connection) -> None:
        if self._guard_timer is None and self._loop is not None:
            self._guard_timer = self._loop.call_later(splice.GUARD_INTERVAL, self._guard)

    def _guard(self) -> None:
        """Hand a spliced direction whose reader is slow back to the proxy (splice.py)."""
        self._guard_timer = None
        spliced = [c for c in self.connections if c.spliced is not None]
        for connection in spliced:
            connection.check_backlog()
        if spliced and self._loop is not None:
            self._guard_timer = self._loop.call_later(splice.GUARD_INTERVAL, self._guard)

    # -- toxics on open connections ------------------------------------------------

    def add_toxic(self, spec: ToxicSpec) -> None:
        self.toxics.add(spec)
        for connection in self.connections:
            connection.links[spec.direction].add_toxic(spec)

    async def update_toxic(self, spec: ToxicSpec) -> None:
        self.toxics.replace(spec)
        await asyncio.gather(*(c.links[spec.direction].update_toxic(spec) for c in list(self.connections)))

    async def remove_toxic(self, name: str) -> None:
        spec = self.toxics.remove(name)
        await asyncio.gather(*(c.links[spec.direction].remove_toxic(name) for c in list(self.connections)))

    async def reset_toxics(self) -> None:
        for spec in self.toxics.all():
            await self.remove_toxic(spec.name)
