"""One socket of a proxied connection: non-blocking, served inline by the selector.

What an asyncio transport does for a socket, reduced to what a relay needs:
reading on and off, a write buffer with high and low water marks, ``drain()``
for a task that writes, and ways to close: after the buffer is sent, at once,
or (after :meth:`Endpoint.linger_zero`) with a TCP RST. The link that reads
from it (:class:`Reader`) and the link that writes to it (:class:`Writer`) are
called back synchronously from ``select()``.

The socket itself may be in blocking mode, for a relay thread (``relay.py``) that
uses it for the other direction meanwhile: every call made from here passes
``MSG_DONTWAIT``. A socket closed while relays use it is shut down, which wakes
them, and its descriptor is closed only once the last has ended, so that a thread
never calls into a descriptor number the kernel has given to another socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
import socket
import struct
from collections import deque
from collections.abc import Callable
from typing import Protocol

from drillbook.harness.toxiproxy.reactor import Inline
from drillbook.harness.toxiproxy.relay import READ_SIZE, Relay
from drillbook.harness.toxiproxy.splice import Lane

#: Above this many unsent bytes the writer is told to wait; below LOW_WATER it may go on
#: (asyncio's transports use the same defaults).
HIGH_WATER = 64 * 1024
LOW_WATER = 16 * 1024

_LINGER_ZERO = struct.pack("ii", 1, 0)
#: Non-blocking per call, whatever the socket's mode (Linux, the BSDs; 0 elsewhere,
#: where sockets stay non-blocking and links are never handed to relay threads).
DONTWAIT: int = getattr(socket, "MSG_DONTWAIT", 0)


class Reader(Protocol):
    def received(self, data: bytes) -> None:
        """Bytes read from the socket."""

    def ended(self) -> None:
        """Nothing more will be read: end of stream, a socket error, or the socket closed."""


class Writer(Protocol):
    def drained(self) -> None:
        """The write buffer fell to the low water mark or below."""


class _Nobody:
    def received(self, data: bytes) -> None:
        pass

    def ended(self) -> None:
        pass

    def drained(self) -> None:
        pass


class Endpoint(Inline):
    def __init__(
        self, sock: socket.socket, selector: selectors.BaseSelector, *, on_closed: Callable[[], None]
    ) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.selector = selector
        self.reader: Reader = _Nobody()
        self.writer: Writer = _Nobody()
        self._on_closed = on_closed
        self.reading = False
        self.is_closed = False
        self._ended = False
        self._closing = False
        self._events = 0
        self._buffer: deque[bytes] = deque()
        self._buffered = 0
        self._waiters: list[asyncio.Future[None]] = []
        self._lingers = False
        #: Relay threads reading or writing this socket.
        self.relays: set[Relay] = set()
        #: Bytes sent on the socket from the loop (relay threads tell the lane instead).
        self.sent_total = 0
        #: The spliced direction that writes to this socket (splice.py): told of every byte sent.
        self.lane: Lane | None = None

    @property
    def buffered(self) -> int:
        """Bytes written and not yet taken by the socket."""
        return self._buffered

    # -- interest --------------------------------------------------------------

    def _update(self) -> None:
        events = selectors.EVENT_READ if self.reading else 0
        if self._buffered:
            events |= selectors.EVENT_WRITE
        if events == self._events:
            return
        if not self._events:
            self.selector.register(self.fd, events, self)
        elif not events:
            self.selector.unregister(self.fd)
        else:
            self.selector.modify(self.fd, events, self)
        self._events = events

    def resume_reading(self) -> None:
        if not self.reading and not self._closing and not self.is_closed and not self._ended:
            self.reading = True
            self._update()

    def pause_reading(self) -> None:
        if self.reading:
            self.reading = False
            self._update()

    # -- readiness -------------------------------------------------------------

    def ready(self, events: int) -> None:
        if self.is_closed:
            return  # a stale event: this socket was closed earlier in the same poll
        if events & selectors.EVENT_WRITE and self._buffered:
            self._flush()
        if events & selectors.EVENT_READ and self.reading:
            try:
                data = self.sock.recv(READ_SIZE, DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if data:
                self.reader.received(data)
            else:
                self._end()

    def crashed(self, exc: Exception) -> None:
        self.abort()

    def end(self) -> None:
        """The stream from the socket ended (a relay thread read its end)."""
        self._end()

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self.pause_reading()
            self.reader.ended()

    # -- writing ---------------------------------------------------------------

    def write(self, data: bytes) -> bool:
        """Send ``data`` now, or as soon as the socket takes it; dropped if the socket is
        closed. False when the buffer is above the high water mark: the writer should wait."""
        if self.is_closed or self._closing or not data:
            return True
        if not self._buffered:
            try:
                sent = self.sock.send(data, DONTWAIT)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self.abort()
                return True
            self.sent_total += sent
            if sent and self.lane is not None:
                self.lane.sent(sent)
            if sent == len(data):
                return True
            data = data[sent:]
        self._buffer.append(data)
        self._buffered += len(data)
        self._update()
        return self._buffered <= HIGH_WATER

    def _flush(self) -> None:
        while self._buffer:
            data = self._buffer[0]
            try:
                sent = self.sock.send(data, DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.abort()
                return
            self._buffered -= sent
            self.sent_total += sent
            if sent and self.lane is not None:
                self.lane.sent(sent)
            if sent < len(data):
                self._buffer[0] = data[sent:]
                break
            self._buffer.popleft()
        if self._buffered <= LOW_WATER:
            self._wake(None)
            self.writer.drained()
        if not self._buffered and self._closing:
            self._shut()
        else:
            self._update()

    async def drain(self) -> None:
        """Wait while the buffer is above the high water mark; ConnectionResetError once closed."""
        if self.is_closed or self._closing:
            raise ConnectionResetError("connection closed")
        if self._buffered <= HIGH_WATER:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter

    def _wake(self, exc: BaseException | None) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                if exc is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(exc)

    # -- closing ---------------------------------------------------------------

    def close(self) -> None:
        """Close once everything written has been sent; nothing more is read."""
        if self.is_closed or self._closing:
            return
        self._closing = True
        self.reading = False
        if self._buffered:
            self._update()
        else:
            self._shut()

    def abort(self) -> None:
        """Close now; unsent bytes are dropped."""
        if self.is_closed:
            return
        self._buffer.clear()
        self._buffered = 0
        self._shut()

    def linger_zero(self) -> None:
        """Make the close send a TCP RST (SO_LINGER 0): the peer gets "connection reset"."""
        if not self.is_closed:
            self._lingers = True
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)

    # -- relay threads -----------------------------------------------------------

    def make_blocking(self) -> None:
        """For a relay thread (a no-op if the socket already blocks)."""
        if self.sock.gettimeout() is not None:
            self.sock.setblocking(True)

    def attach(self, relay: Relay) -> None:
        self.relays.add(relay)

    def detach(self, relay: Relay) -> None:
        """``relay`` has ended; the descriptor is closed now if the socket was closed meanwhile."""
        self.relays.discard(relay)
        if self.is_closed and not self.relays:
            self.sock.close()

    def _shut(self) -> None:
        self.is_closed = True
        self.reading = False
        if self._events:
            self.selector.unregister(self.fd)
            self._events = 0
        if self.relays:
            for relay in self.relays:
                relay.stop()
            # Wakes a thread blocked in recv (SHUT_RD sends nothing) or, but for a reset,
            # in send; the descriptor is closed when the last relay detaches.
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RD if self._lingers else socket.SHUT_RDWR)
        else:
            self.sock.close()
        self._wake(ConnectionResetError("connection closed"))
        self._end()
        self._on_closed()
