"""slicer: cuts each chunk into slices of about ``average_size`` ± ``size_variation``
bytes, waiting ``delay`` microseconds after each slice."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass

from drillbook.harness.toxiproxy.stream import Chunk
from drillbook.harness.toxiproxy.stub import ToxicStub
from drillbook.harness.toxiproxy.toxics.base import Toxic, register


@register("slicer")
@dataclass
class Slicer(Toxic):
    average_size: int = 0
    size_variation: int = 0
    delay: int = 0

    def cuts(self, stub: ToxicStub, start: int, end: int) -> list[int]:
        """Offsets splitting [start, end), halving recursively so no end of the
        chunk tends to get the small or large slices."""
        if self.average_size <= 0 or (end - start) - self.average_size <= self.size_variation:
            return [start, end]
        variation = (
            stub.rng.randrange(-self.size_variation, self.size_variation) if self.size_variation > 0 else 0
        )
        mid = min(end - 1, max(start + 1, start + (end - start) // 2 + variation))
        return self.cuts(stub, start, mid)[:-1] + self.cuts(stub, mid, end)

    async def pipe(self, stub: ToxicStub) -> None:
        while (chunk := await stub.read()) is not None:
            offsets = self.cuts(stub, 0, len(chunk.data))
            for begin, end in itertools.pairwise(offsets):
                await stub.write(Chunk(chunk.data[begin:end], chunk.at))
                if self.delay > 0:
                    await asyncio.sleep(self.delay / 1_000_000)
        stub.close()
