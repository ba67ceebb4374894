"""One direction of one proxied connection (toxiproxy's ``ToxicLink``):

    source socket -> reader -> [toxic] -> [toxic] -> ... -> writer -> destination socket

With no toxic and nothing queued, the reader (called from ``select()`` as bytes
arrive) sends them straight to the destination socket: a plain relay. After
``PROMOTE_AFTER`` chunks so, the link is handed to a relay thread (``relay.py``)
until a toxic is added or the connection closes. Otherwise
it feeds the first pipe, and each toxic runs as a task between two pipes, ahead
of a writer task. Adding a toxic appends a stage in front of the writer, so the
next bytes read go through it; removing one interrupts it, puts back what it
held, and hands its queue and producer on to the next stage, so no byte is
lost, duplicated or reordered while toxics come and go on open connections.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable

from drillbook.harness.toxiproxy.chain import ToxicSpec
from drillbook.harness.toxiproxy.endpoint import DONTWAIT, Endpoint
from drillbook.harness.toxiproxy.relay import Relay
from drillbook.harness.toxiproxy.stream import Chunk, Pipe, Stream
from drillbook.harness.toxiproxy.stub import ToxicStub
from drillbook.harness.toxiproxy.toxics.noop import Noop

log = logging.getLogger("drillbook.toxiproxy")

#: Chunks waiting for the writer: lets the reader run one read ahead.
WRITER_QUEUE = 4
#: Chunks relayed from ``select()`` before a relay thread takes the link over: a
#: short connection (a health check, a connection per request) is over before a
#: thread would have paid for itself.
PROMOTE_AFTER = 8
#: Set once a relay thread could not be started: later failures are logged at debug level.
_no_thread_logged = threading.Event()


class Feed:
    """The reader's end of the link: where it puts what it reads."""

    def __init__(self, output: Pipe) -> None:
        self.output = output


class Stage:
    """One toxic running on one link."""

    def __init__(self, spec: ToxicSpec, stub: ToxicStub, on_crash: Callable[[BaseException], None]) -> None:
        self.spec = spec
        self.stub = stub
        self.active = False
        self.task: asyncio.Task[None] | None = None
        self._on_crash = on_crash

    def start(self) -> None:
        # toxicity is drawn per connection, as toxiproxy does: 0.3 acts on ~30 % of them.
        self.active = self.stub.rng.random() < self.spec.toxicity
        toxic = self.spec.toxic if self.active else Noop()
        self.task = asyncio.get_running_loop().create_task(toxic.pipe(self.stub))
        self.task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._on_crash(task.exception())  # type: ignore[arg-type]

    @property
    def finished(self) -> bool:
        """The toxic ended its stream (closed or reset) rather than being interrupted."""
        return self.task is not None and self.task.done() and not self.task.cancelled()

    async def interrupt(self) -> None:
        """Stop the toxic and put back the bytes it had read and not forwarded."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.wait([self.task])
        self.stub.rollback()


class Link:
    def __init__(
        self,
        direction: Stream,
        source: Endpoint,
        dest: Endpoint,
        specs: list[ToxicSpec],
        *,
        reset: Callable[[], None],
        rng: random.Random,
        on_crash: Callable[[BaseException], None],
        splice: Callable[[], bool] = lambda: False,
    ) -> None:
        self.direction = direction
        self._splice = splice
        self.source = source
        self.dest = dest
        source.reader = self
        dest.writer = self
        self.out = Pipe(WRITER_QUEUE)
        self.feed = Feed(self.out)
        self.stages: list[Stage] = []
        self._reset = reset
        self._rng = rng
        self._on_crash = on_crash
        self._specs = list(specs)
        self._writer: asyncio.Task[None] | None = None
        # The source is not read while the destination's buffer is full (plain relay)
        # or while the first pipe is (then ``_room`` waits for it to have room).
        self._dest_full = False
        self._room: asyncio.Task[None] | None = None
        self._relayed = 0
        #: The relay thread carrying this direction, or still stopping.
        self.relay: Relay | None = None

    def start(self) -> None:
        """Start carrying data."""
        for spec in self._specs:
            self.add_toxic(spec)
        self.source.resume_reading()

    def all_tasks(self) -> list[asyncio.Task[None]]:
        tasks = [t for t in (self._writer, self._room) if t is not None]
        return [*tasks, *(s.task for s in self.stages if s.task is not None)]

    # -- toxics ----------------------------------------------------------------

    def add_toxic(self, spec: ToxicSpec) -> None:
        if self.dest.lane is not None:
            # The next bytes the client sends come through the proxy, and the toxic.
            self.dest.lane.set_toxic_free(False)
        self._relayed = 0
        if self.relay is not None:
            self.relay.stop()
        producer = self.stages[-1].stub if self.stages else self.feed
        if producer.output.closed:
            return  # the stream already ended; nothing more will flow here
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())
        pipe = Pipe(spec.toxic.buffer_size)
        stub = ToxicStub(
            pipe, producer.output, reset=self._reset, rng=self._rng, state=spec.toxic.new_state()
        )
        # A put the producer is blocked in still lands in the old pipe, ahead of
        # everything that now goes through the new toxic: order is kept.
        producer.output = pipe
        stage = Stage(spec, stub, self._on_crash)
        self.stages.append(stage)
        stage.start()

    def _stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.spec.name == name), None)

    async def update_toxic(self, spec: ToxicSpec) -> None:
        stage = self._stage(spec.name)
        if stage is None or stage.finished:
            return
        await stage.interrupt()
        stage.spec = spec
        stage.start()

    async def remove_toxic(self, name: str) -> None:
        stage = self._stage(name)
        if stage is None:
            return
        await stage.interrupt()
        index = self.stages.index(stage)
        self.stages.remove(stage)
        if not self.stages and self.dest.lane is not None:
            # Back to the kernel once the proxy has written what it holds.
            self.dest.lane.set_toxic_free(True)
        producer = self.stages[index - 1].stub if index > 0 else self.feed
        if stage.active and stage.spec.toxic.closes_on_removal:
            stage.stub.output.close()
            return
        stage.stub.input.redirect(stage.stub.output)
        producer.output = stage.stub.output

    # -- the reading end: called from select() -------------------------------------

    def received(self, data: bytes) -> None:
        out = self.out
        # No toxic was ever added (one check, for most links), or none is left and
        # nothing is queued: a plain relay. Bytes the writer task took from the queue
        # are already in the destination's buffer, so writing behind them keeps the order.
        if self._writer is None or (self.feed.output is out and not out and not out.closed):
            if not self.dest.write(data):
                self._dest_full = True
                self.source.pause_reading()
            else:
                self._relayed += 1
                if self._relayed >= PROMOTE_AFTER:
                    self._promote()
        elif not self.feed.output.offer(Chunk(data, time.monotonic())):
            self.source.pause_reading()
            self._room = asyncio.get_running_loop().create_task(self._resume_when_room())

    # -- the relay thread --------------------------------------------------------------

    def _promote(self) -> None:
        if self._splice():
            # The kernel carries the connection from now on; what still comes through
            # the loop (while a toxic is on, or a reader is slow) may get a thread later.
            self._relayed = 0
            return
        source, dest = self.source, self.dest
        if (
            not DONTWAIT
            or self.relay is not None
            or self._room is not None
            or not source.reading
            or dest.is_closed
            or dest.buffered
        ):
            return
        relay = Relay(self, source.sock, dest.sock, asyncio.get_running_loop(), lane=dest.lane)
        source.make_blocking()
        dest.make_blocking()
        try:
            relay.start()
        except RuntimeError as exc:  # out of threads (a limit, memory): the inline relay goes on
            self._relayed = 0  # and tries again later
            log.log(
                logging.WARNING if not _no_thread_logged.is_set() else logging.DEBUG,
                "toxiproxy: cannot start a relay thread (%s); relaying from the event loop",
                exc,
            )
            _no_thread_logged.set()
            return
        source.pause_reading()
        self.relay = relay
        source.attach(relay)
        dest.attach(relay)

    def relay_stopped(self, relay: Relay, data: bytes | None, failed: bool) -> None:
        self.relay = None
        self._relayed = 0
        self.source.detach(relay)
        self.dest.detach(relay)
        if failed:
            self.dest.abort()
        if self.source.is_closed:
            return
        if data is not None:
            if not data:
                self.source.end()
                return
            self.received(data)
        if not self._dest_full and self._room is None:
            self.source.resume_reading()

    async def _resume_when_room(self) -> None:
        await self.feed.output.room()
        self._room = None
        if not self._dest_full:
            self.source.resume_reading()

    def ended(self) -> None:
        self.feed.output.close()
        if self._writer is None:
            # Like toxiproxy: the end of one direction closes the destination socket,
            # which ends the other direction once it has delivered what it holds.
            self.dest.close()

    def drained(self) -> None:
        if self._dest_full:
            self._dest_full = False
            if self._room is None:
                self.source.resume_reading()

    # -- the writing end, while toxics are or were on the link ------------------------

    async def _write(self) -> None:
        try:
            while (chunk := await self.out.get()) is not None:
                self.dest.write(chunk.data)
                await self.dest.drain()
        except ConnectionError:
            self.dest.abort()
            return
        self.dest.close()
