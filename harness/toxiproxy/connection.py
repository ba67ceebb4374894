"""One client connection through a proxy and its own upstream connection: two links."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct

from drillbook.harness.toxiproxy.chain import ToxicChain
from drillbook.harness.toxiproxy.link import Link
from drillbook.harness.toxiproxy.stream import Stream

log = logging.getLogger("drillbook.toxiproxy")

_LINGER_ZERO = struct.pack("ii", 1, 0)


class Connection:
    def __init__(
        self,
        proxy_name: str,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        toxics: ToxicChain,
    ) -> None:
        self.proxy_name = proxy_name
        self.client = client[1]
        self.upstream = upstream[1]
        self.peer = str(self.client.get_extra_info("peername"))
        rng = random.Random()
        self.links = {
            Stream.UPSTREAM: Link(
                Stream.UPSTREAM,
                client[0],
                upstream[1],
                toxics.streams[Stream.UPSTREAM],
                reset=self.reset,
                rng=rng,
                on_crash=self._crashed,
            ),
            Stream.DOWNSTREAM: Link(
                Stream.DOWNSTREAM,
                upstream[0],
                client[1],
                toxics.streams[Stream.DOWNSTREAM],
                reset=self.reset,
                rng=rng,
                on_crash=self._crashed,
            ),
        }

    async def run(self) -> None:
        """Carry data both ways until both directions have ended; cancelling cuts the connection."""
        writers = [link.start() for link in self.links.values()]
        try:
            await asyncio.wait(writers)
        except asyncio.CancelledError:
            self.abort()
            raise
        finally:
            tasks = [t for link in self.links.values() for t in link.all_tasks() if not t.done()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks)
            for writer in (self.client, self.upstream):
                writer.close()

    def abort(self) -> None:
        """Cut both sockets now, without delivering what is still queued."""
        for writer in (self.client, self.upstream):
            writer.transport.abort()
        for link in self.links.values():
            for task in link.all_tasks():
                task.cancel()

    def reset(self) -> None:
        """Cut both sockets with a TCP RST (SO_LINGER 0), as reset_peer does."""
        for writer in (self.client, self.upstream):
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
        self.abort()

    def _crashed(self, exc: BaseException) -> None:
        log.error(
            "proxy %s: a toxic failed on connection from %s; cutting it: %r", self.proxy_name, self.peer, exc
        )
        self.abort()
