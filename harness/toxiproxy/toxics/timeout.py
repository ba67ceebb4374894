"""timeout: lets no data through and closes the connection after ``timeout`` ms;
with 0 it holds the connection open, dropping data, until the toxic is removed.

Removing it closes the connections it held, as toxiproxy does: they lost data,
so carrying on would corrupt the protocol running over them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from drillbook.harness.toxiproxy.stub import ToxicStub
from drillbook.harness.toxiproxy.toxics.base import Toxic, register


@register("timeout")
@dataclass
class Timeout(Toxic):
    timeout: int = 0

    closes_on_removal = True

    async def pipe(self, stub: ToxicStub) -> None:
        if self.timeout > 0:
            try:
                async with asyncio.timeout(self.timeout / 1000.0):
                    await self._swallow(stub)
            except TimeoutError:
                pass
        else:
            await self._swallow(stub)
        stub.close()

    @staticmethod
    async def _swallow(stub: ToxicStub) -> None:
        while await stub.read() is not None:
            stub.drop()
