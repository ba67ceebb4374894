"""One direction of a toxic-free connection relayed by a thread of its own, with blocking I/O.

Served from ``select()``, each hop of a byte costs an ``epoll_wait`` and a turn of
the event loop on top of the ``recv`` and ``send``; a thread blocked in ``recv`` is
woken by the kernel straight into the loop below, two system calls a hop and no
Python in between worth the name (issue #16: a ``SELECT 1`` loop went from 0.4x to
0.6x direct, faster than HAProxy on the same machine). Starting a thread costs more
than a short connection's whole life, so a link is handed to a relay only once it
has carried a few chunks (``Link.PROMOTE_AFTER``).

The event loop keeps the say: :meth:`Relay.stop` (a toxic was added, or the
connection is closing) makes the thread stop before its next send; bytes it read
after that are handed back to the loop, which puts them through the toxics. The
thread touches nothing of the loop's: it reports how it ended with one
``call_soon_threadsafe`` (:meth:`Owner.relay_stopped`). Until then the loop reads
nothing from the source, so whatever the toxics send comes after the thread's last
send, and no lock is needed.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import select
import socket
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from drillbook.harness.toxiproxy.splice import Lane

#: How much one read takes, on the loop and in a relay thread alike.
READ_SIZE = 64 * 1024


class Owner(Protocol):
    def relay_stopped(self, relay: Relay, data: bytes | None, failed: bool) -> None:
        """Called on the loop once the thread is gone. ``data``: bytes read and not sent
        (``b""`` for the end of the stream, None if nothing is pending); ``failed``:
        sending to the destination failed."""


class Relay:
    def __init__(
        self,
        owner: Owner,
        source: socket.socket,
        dest: socket.socket,
        loop: asyncio.AbstractEventLoop,
        *,
        lane: Lane | None = None,
    ) -> None:
        self.owner = owner
        self.lane = lane
        self.source = source
        self.dest = dest
        self.loop = loop
        #: Resolved on the loop when the thread has ended and reported.
        self.finished: asyncio.Future[None] = loop.create_future()
        self._wanted = True

    def start(self) -> None:
        """Start the thread; RuntimeError if the system will not start one."""
        # Not threading.Thread: its start() waits for the thread to run, a context switch
        # the event loop would sit through.
        _thread.start_new_thread(self._run, ())

    def stop(self) -> None:
        """Stop before the next send (from the loop). The thread may be blocked in
        ``recv``: what it reads next is handed back."""
        self._wanted = False

    def _run(self) -> None:
        recv, sendall, lane = self.source.recv, self.dest.sendall, self.lane
        data: bytes | None = None
        failed = False
        try:
            while True:
                try:
                    data = recv(READ_SIZE)
                except BlockingIOError:
                    # A blocking socket the kernel splice holds (splice.py) may return
                    # EAGAIN when woken with nothing to read: wait for bytes, then read.
                    _wait_readable(self.source)
                    continue
                except OSError:
                    data = b""
                if not self._wanted or not data:
                    break
                try:
                    sendall(data)
                    if lane is not None:
                        lane.sent(len(data))
                except OSError:
                    failed = True
                if failed or not self._wanted:
                    data = None
                    break
        finally:
            # RuntimeError: the loop is closed, the server gone, and its sockets with it.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._report, data, failed)

    def _report(self, data: bytes | None, failed: bool) -> None:
        self.finished.set_result(None)
        self.owner.relay_stopped(self, data, failed)


def _wait_readable(sock: socket.socket) -> None:
    """Until ``sock`` has bytes, its end of stream or an error (or it is shut down)."""
    poller = select.poll()
    try:
        poller.register(sock, select.POLLIN)
        poller.poll()
    except (OSError, ValueError):
        pass
