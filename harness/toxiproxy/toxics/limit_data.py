"""limit_data: closes the connection once ``bytes`` bytes have gone through it."""

from __future__ import annotations

from dataclasses import dataclass

from drillbook.harness.toxiproxy.stream import Chunk
from drillbook.harness.toxiproxy.stub import ToxicStub
from drillbook.harness.toxiproxy.toxics.base import Toxic, register


@dataclass
class Transmitted:
    bytes: int = 0


@register("limit_data")
@dataclass
class LimitData(Toxic):
    bytes: int = 0

    def new_state(self) -> Transmitted:
        return Transmitted()

    async def pipe(self, stub: ToxicStub) -> None:
        sent: Transmitted = stub.state
        while (chunk := await stub.read()) is not None:
            allowed = chunk.data[: max(0, self.bytes - sent.bytes)]
            if allowed:
                await stub.write(Chunk(allowed, chunk.at))
                sent.bytes += len(allowed)
            if sent.bytes >= self.bytes:
                break
        stub.close()
