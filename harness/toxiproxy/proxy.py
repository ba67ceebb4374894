"""A proxy: listens on ``listen`` and gives each client its own connection to ``upstream``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from drillbook.harness.toxiproxy import address, errors
from drillbook.harness.toxiproxy.chain import ToxicChain, ToxicSpec
from drillbook.harness.toxiproxy.connection import Connection

log = logging.getLogger("drillbook.toxiproxy")

#: Connecting to the upstream gives up after this long (the client is then closed).
DIAL_TIMEOUT = 10.0
BACKLOG = 1024


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.toxics = ToxicChain()
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

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
        self._server = await asyncio.start_server(self._accept, sock=sock, backlog=BACKLOG)
        self.listen = address.join(sock.getsockname())
        self.enabled = True
        log.info("proxy %s: listening on %s -> %s", self.name, self.listen, self.upstream)

    async def stop(self) -> None:
        """Close the listener and cut every open connection (a no-op if disabled)."""
        if not self.enabled:
            return
        self.enabled = False
        server, self._server = self._server, None
        if server is not None:
            server.close()
        clients = list(self._clients)
        for task in clients:
            task.cancel()
        if clients:
            await asyncio.wait(clients)
        if server is not None:
            try:
                await asyncio.wait_for(server.wait_closed(), 5.0)
            except TimeoutError:
                log.warning("proxy %s: listener slow to close", self.name)
        log.info("proxy %s: stopped, %d connection(s) cut", self.name, len(clients))

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._clients.add(task)
        task.add_done_callback(self._clients.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            host, port = address.split(self.upstream)
            async with asyncio.timeout(DIAL_TIMEOUT):
                upstream = await asyncio.open_connection(host, port)
        except asyncio.CancelledError:
            writer.transport.abort()
            raise
        except (OSError, ValueError, TimeoutError) as exc:
            log.warning(
                "proxy %s: cannot connect to upstream %s (%s); closing the client",
                self.name,
                self.upstream,
                exc,
            )
            writer.close()
            return
        connection = Connection(self.name, (reader, writer), upstream, self.toxics)
        self.connections.add(connection)
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)

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
