"""reset_peer: once data (or the end of the stream) reaches it, waits ``timeout`` ms
and resets the connection: both peers get a TCP RST ("connection reset by peer")."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from drillbook.harness.toxiproxy.stub import ToxicStub
from drillbook.harness.toxiproxy.toxics.base import Toxic, register


@register("reset_peer")
@dataclass
class ResetPeer(Toxic):
    timeout: int = 0

    async def pipe(self, stub: ToxicStub) -> None:
        await stub.read()
        stub.drop()
        await asyncio.sleep(max(0, self.timeout) / 1000.0)
        stub.reset()
