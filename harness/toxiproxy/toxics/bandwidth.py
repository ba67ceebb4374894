"""bandwidth: limits a connection to ``rate`` KB/s (1 KB = 1000 bytes, as toxiproxy counts)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from drillbook.harness.toxiproxy.stream import Chunk
from drillbook.harness.toxiproxy.stub import ToxicStub
from drillbook.harness.toxiproxy.toxics.base import Toxic, register


@register("bandwidth")
@dataclass
class Bandwidth(Toxic):
    rate: int = 0

    async def pipe(self, stub: ToxicStub) -> None:
        bytes_per_s = self.rate * 1000
        # Large chunks go out in pieces of 100 ms worth, like toxiproxy, so a
        # slow rate shows as a steady trickle rather than long silences.
        piece = max(1, self.rate * 100)
        free_at = time.monotonic()
        while (chunk := await stub.read()) is not None:
            if self.rate <= 0:
                await stub.write(chunk)
                continue
            data = chunk.data
            for start in range(0, len(data), piece):
                part = data[start : start + piece]
                # Schedule from the chunk's arrival, not from when a late wake-up got
                # here: while data is queued the schedule is absolute, so sleeps that
                # overshoot (a busy machine) do not add up; after an idle spell it
                # starts again from the arrival.
                free_at = max(free_at, chunk.at) + len(part) / bytes_per_s
                await stub.sleep_until(free_at)
                await stub.write(Chunk(part, chunk.at))
        stub.close()
