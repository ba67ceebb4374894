"""What a toxic sees of one direction of one connection (toxiproxy's ``ToxicStub``).

A toxic reads chunks from ``input`` and writes them, changed or not, to
``output``. The stub remembers the bytes read and not yet forwarded, so that a
toxic interrupted at any ``await`` (because it is being updated or removed)
loses nothing: the link puts those bytes back at the head of the input.
A toxic drops bytes only on purpose, by calling :meth:`drop`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

from drillbook.harness.toxiproxy.stream import Chunk, Pipe


class ToxicStub:
    def __init__(
        self, input: Pipe, output: Pipe, *, reset: Callable[[], None], rng: random.Random, state: Any = None
    ) -> None:
        self.input = input
        self.output = output
        self.rng = rng
        #: Per-connection state of a stateful toxic (limit_data counts bytes); survives updates.
        self.state = state
        self._reset = reset
        self._pending: Chunk | None = None
        self._offset = 0

    async def read(self) -> Chunk | None:
        """The next chunk, or None at the end of the stream."""
        chunk = await self.input.get()
        self._pending, self._offset = chunk, 0
        return chunk

    async def write(self, chunk: Chunk) -> None:
        """Forward ``chunk``: the chunk last read, or the next slice of it."""
        await self.output.put(chunk)
        if self._pending is not None:
            self._offset += len(chunk.data)
            if self._offset >= len(self._pending.data):
                self._pending, self._offset = None, 0

    def drop(self) -> None:
        """Forget the unforwarded bytes of the chunk last read: the toxic drops them."""
        self._pending, self._offset = None, 0

    def rollback(self) -> None:
        """Put the unforwarded bytes back at the head of the input (after an interrupt)."""
        if self._pending is not None:
            rest = self._pending.data[self._offset :]
            if rest:
                self.input.unget(Chunk(rest, self._pending.at))
        self._pending, self._offset = None, 0

    def close(self) -> None:
        """End the stream here: what was written is delivered, then the connection closes."""
        self.drop()
        self.output.close()

    def reset(self) -> None:
        """Reset the connection (TCP RST to both peers) at once."""
        self.drop()
        self._reset()

    @staticmethod
    async def sleep_until(deadline: float) -> None:
        delay = deadline - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    @staticmethod
    async def wait_forever() -> None:
        """Block until the toxic is interrupted."""
        await asyncio.get_running_loop().create_future()
