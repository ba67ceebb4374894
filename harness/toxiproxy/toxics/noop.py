"""noop: passes data through unchanged; also runs in place of a toxic that
``toxicity`` left out for a connection."""

from __future__ import annotations

from dataclasses import dataclass

from drillbook.harness.toxiproxy.stub import ToxicStub
from drillbook.harness.toxiproxy.toxics.base import Toxic, register


@register("noop")
@dataclass
class Noop(Toxic):
    async def pipe(self, stub: ToxicStub) -> None:
        while (chunk := await stub.read()) is not None:
            await stub.write(chunk)
        stub.close()
