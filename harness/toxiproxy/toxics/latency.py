"""latency: delays each chunk by ``latency`` ± ``jitter`` milliseconds from its arrival."""

from __future__ import annotations

from dataclasses import dataclass

from drillbook.harness.toxiproxy.stream import Chunk
from drillbook.harness.toxiproxy.stub import ToxicStub
from drillbook.harness.toxiproxy.toxics.base import Toxic, register


@register("latency")
@dataclass
class Latency(Toxic):
    latency: int = 0
    jitter: int = 0

    # Queue chunks behind the one being delayed, so latency does not also cap bandwidth.
    buffer_size = 1024

    def delay(self, stub: ToxicStub) -> float:
        ms = self.latency
        if self.jitter > 0:
            # Uniform over [latency - jitter, latency + jitter), as toxiproxy draws it.
            ms += stub.rng.randrange(-self.jitter, self.jitter)
        return max(0, ms) / 1000.0

    async def pipe(self, stub: ToxicStub) -> None:
        while (chunk := await stub.read()) is not None:
            # From the chunk's arrival, not from now: a chunk that queued behind
            # another is not delayed twice.
            release = chunk.at + self.delay(stub)
            await stub.sleep_until(release)
            await stub.write(Chunk(chunk.data, release))
        stub.close()
