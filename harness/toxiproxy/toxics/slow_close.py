"""slow_close: delays closing the connection by ``delay`` milliseconds after the stream ends."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from drillbook.harness.toxiproxy.stub import ToxicStub
from drillbook.harness.toxiproxy.toxics.base import Toxic, register


@register("slow_close")
@dataclass
class SlowClose(Toxic):
    delay: int = 0

    async def pipe(self, stub: ToxicStub) -> None:
        while (chunk := await stub.read()) is not None:
            await stub.write(chunk)
        await asyncio.sleep(max(0, self.delay) / 1000.0)
        stub.close()
