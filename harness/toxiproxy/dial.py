"""Opening a client's upstream connection: a non-blocking connect served inline.

On the path of every new connection, so without a task: a numeric upstream is
connected at once and the connect's completion is handled from ``select()``;
only a host name goes through a resolver task first. Each address is tried in
turn, as ``asyncio.open_connection`` does; the whole dial gives up after
``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import ipaddress
import os
import selectors
import socket
from collections.abc import Callable

from drillbook.harness.toxiproxy import address
from drillbook.harness.toxiproxy.reactor import Inline

Address = tuple[socket.AddressFamily, tuple[object, ...]]

#: Linux creates the socket non-blocking: one call fewer per connection.
_NONBLOCK: int = getattr(socket, "SOCK_NONBLOCK", 0)


@functools.lru_cache(maxsize=256)
def numeric(upstream: str) -> list[Address] | None:
    """The one address of ``host:port`` with a numeric host, or None for a name
    (to resolve at each dial). Cached: parsing costs more than the rest of a dial."""
    host, port = address.split(upstream)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    return [(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, (host, port))]


class Dial(Inline):
    def __init__(
        self,
        upstream: str,
        *,
        selector: selectors.BaseSelector,
        loop: asyncio.AbstractEventLoop,
        timeout: float,
        on_connected: Callable[[socket.socket], None],
        on_failed: Callable[[BaseException], None],
        before_connect: Callable[[socket.socket, tuple[object, ...]], None] | None = None,
    ) -> None:
        self.upstream = upstream
        self.before_connect = before_connect
        self.selector = selector
        self.loop = loop
        self.on_connected = on_connected
        self.on_failed = on_failed
        self.done = False
        self._sock: socket.socket | None = None
        self._left: list[Address] = []
        self._error: OSError = OSError(f"no address for {upstream}")
        self._resolving: asyncio.Task[None] | None = None
        self._timeout = timeout
        self._timer: asyncio.TimerHandle | None = None

    def _wait(self) -> None:
        """From here on the dial waits (for a resolver or a handshake): time it out."""
        if self._timer is None:
            self._timer = self.loop.call_later(self._timeout, self._timed_out)

    def start(self) -> None:
        try:
            addresses = numeric(self.upstream)
        except ValueError as exc:
            self._finish(exc)
            return
        if addresses is not None:
            self._try(list(addresses))
            return
        host, port = address.split(self.upstream)  # numeric() parsed it already
        self._wait()
        self._resolving = self.loop.create_task(self._resolve(host, port))

    async def _resolve(self, host: str, port: int) -> None:
        try:
            infos = await self.loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            self._finish(exc)
            return
        self._resolving = None
        self._try([(family, sockaddr) for family, _, _, _, sockaddr in infos])

    def _try(self, addresses: list[Address]) -> None:
        self._left = addresses
        while self._left:
            family, sockaddr = self._left.pop(0)
            sock = socket.socket(family, socket.SOCK_STREAM | _NONBLOCK)
            if not _NONBLOCK:
                sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.before_connect is not None:
                self.before_connect(sock, sockaddr)
            code = sock.connect_ex(sockaddr)
            if code == 0:
                self._finish(sock)
                return
            if code in (errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK):
                try:
                    # Over loopback the handshake is usually over already: no need to wait.
                    sock.getpeername()
                except OSError:
                    pass
                else:
                    self._finish(sock)
                    return
                self._wait()
                self._sock = sock
                self.selector.register(sock.fileno(), selectors.EVENT_WRITE, self)
                return
            sock.close()
            self._error = OSError(code, os.strerror(code))
        self._finish(self._error)

    def ready(self, events: int) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        self.selector.unregister(sock.fileno())
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code == 0:
            self._finish(sock)
            return
        sock.close()
        self._error = OSError(code, os.strerror(code))
        self._try(self._left)

    def crashed(self, exc: Exception) -> None:
        self._finish(exc)

    def _timed_out(self) -> None:
        self._finish(TimeoutError(f"no connection within {self._timeout:g}s"))

    def cancel(self) -> None:
        """Give up (the proxy stops); neither callback is called."""
        self._finish(None)

    def _finish(self, outcome: socket.socket | BaseException | None) -> None:
        if self.done:
            if isinstance(outcome, socket.socket):
                outcome.close()
            return
        self.done = True
        if self._timer is not None:
            self._timer.cancel()
        if self._resolving is not None:
            self._resolving.cancel()
        if self._sock is not None:
            self.selector.unregister(self._sock.fileno())
            self._sock.close()
            self._sock = None
        if isinstance(outcome, socket.socket):
            self.on_connected(outcome)
        elif outcome is not None:
            self.on_failed(outcome)
