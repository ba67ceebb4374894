"""Chunks of a TCP stream and the pipes that carry them between toxics.

A chunk is what one read from a socket returned, stamped with the monotonic
time it arrived, so that a latency toxic delays it from its arrival and not
from whenever a busy toxic ahead of it let it through.

A :class:`Pipe` is a bounded FIFO with one consumer. It differs from
``asyncio.Queue`` in the two operations that removing a toxic from a live
connection needs without losing or reordering a byte: ``unget`` puts a chunk
a toxic had read but not forwarded back at the head, and ``redirect`` hands
everything queued, and every later ``put`` (including one blocked on a full
pipe), to the next pipe. The socket's reader, called from ``select()``, cannot
wait: it ``offer``s each chunk and stops reading the socket while the pipe is full.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from enum import StrEnum


class Stream(StrEnum):
    """The direction a toxic acts on: ``upstream`` is client to server."""

    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"

    @classmethod
    def parse(cls, value: object) -> Stream | None:
        if not isinstance(value, str):
            return None
        try:
            return cls(value.lower())
        except ValueError:
            return None


@dataclass(slots=True)
class Chunk:
    data: bytes
    #: ``time.monotonic()`` when the chunk became available to the next toxic.
    at: float


class Pipe:
    """A bounded single-consumer FIFO of chunks, ended by :meth:`close`."""

    def __init__(self, capacity: int = 1) -> None:
        self.capacity = max(1, capacity)
        self._items: deque[Chunk] = deque()
        self._eof = False
        self._forward: Pipe | None = None
        self._getter: asyncio.Future[None] | None = None
        self._putters: list[asyncio.Future[None]] = []

    def _target(self) -> Pipe:
        pipe = self
        while pipe._forward is not None:
            pipe = pipe._forward
        return pipe

    @property
    def closed(self) -> bool:
        return self._target()._eof

    def __len__(self) -> int:
        return len(self._items)

    async def put(self, chunk: Chunk) -> None:
        """Append ``chunk``, waiting while the pipe is full. A closed pipe drops it:
        the stream it belonged to was ended on purpose by a toxic."""
        await self.room()
        self.offer(chunk)

    def offer(self, chunk: Chunk) -> bool:
        """Append ``chunk`` now, full or not, for a producer that cannot wait (the
        socket's reader); returns False when the pipe is full: the producer should
        stop until :meth:`room`."""
        target = self._target()
        if target._eof:
            return True
        target._items.append(chunk)
        target._wake_getter()
        return len(target._items) < target.capacity

    async def room(self) -> None:
        """Wait until the pipe (or the one it was redirected to) has room, or is closed."""
        while True:
            target = self._target()
            if target._eof or len(target._items) < target.capacity:
                return
            waiter = asyncio.get_running_loop().create_future()
            target._putters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in target._putters:
                    target._putters.remove(waiter)

    async def get(self) -> Chunk | None:
        """The next chunk, or None once the pipe is closed and empty."""
        while not self._items:
            if self._eof:
                return None
            self._getter = asyncio.get_running_loop().create_future()
            try:
                await self._getter
            finally:
                self._getter = None
        chunk = self._items.popleft()
        self._wake_putters()
        return chunk

    def unget(self, chunk: Chunk) -> None:
        """Put back a chunk taken by :meth:`get` and not forwarded, ahead of the rest."""
        self._items.appendleft(chunk)
        self._wake_getter()

    def close(self) -> None:
        """End the stream: the consumer gets what is queued, then None."""
        target = self._target()
        target._eof = True
        target._wake_getter()
        target._wake_putters()

    def redirect(self, target: Pipe) -> None:
        """Hand the queued chunks (behind what ``target`` holds) and every later put to ``target``."""
        final = target._target()
        if not final._eof:
            final._items.extend(self._items)
        self._items.clear()
        if self._eof:
            final._eof = True
        self._forward = final
        final._wake_getter()
        self._wake_putters()

    def _wake_getter(self) -> None:
        if self._getter is not None and not self._getter.done():
            self._getter.set_result(None)

    def _wake_putters(self) -> None:
        for waiter in self._putters:
            if not waiter.done():
                waiter.set_result(None)
