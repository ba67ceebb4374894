"""A small Redis client (RESP2 over TCP) for the service's sessions: the few commands
it sends, a pool of connections shared by the request threads, a timeout on every call.

The service used redis-py, whose import (with ``redis.asyncio``, clusters, parsers)
took 70 ms of CPU in every replica start, a third of the Compliant API's start on
these 2 cores, paid on each pod of every rollout. What the sessions need fits here.
One attempt per call, no retry behind the caller's back: a call fails with
:class:`RedisError` within ``timeout`` (connect, send or reply).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import urllib.parse
from typing import IO, Any, NamedTuple


class RedisError(Exception):
    """No answer in time, a refused or broken connection, or an error reply."""


class ReplyError(RedisError):
    """The server answered with an error (``-ERR ...``): the connection stays usable."""


Reply = None | int | bytes | str | list[Any]


class Address(NamedTuple):
    host: str
    port: int
    username: str | None
    password: str | None
    db: int


def parse_url(url: str) -> Address:
    """``redis://[[user]:password@]host[:port][/db]``; ValueError (without the URL, which may
    hold a password) for anything else."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "redis" or not parts.hostname:
        raise ValueError(f"REDIS_URL must be redis://host:port/db (scheme {parts.scheme or 'none'!r}, "
                         f"host {parts.hostname or 'none'!r})")
    path = parts.path.strip("/")
    if path and not (path.isascii() and path.isdigit()):
        # Not echoed: with an unencoded "/" in the password, the "path" holds part of it.
        raise ValueError("REDIS_URL: the database (after the last /) must be a number")
    try:
        port = parts.port if parts.port is not None else 6379
    except ValueError:
        raise ValueError("REDIS_URL: the port is not a number from 0 to 65535") from None
    return Address(parts.hostname, port,
                   urllib.parse.unquote(parts.username) if parts.username else None,
                   urllib.parse.unquote(parts.password) if parts.password else None,
                   int(path or 0))


class Redis:
    """A client for ``url`` (see :func:`parse_url`); every call within ``timeout``."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self.host, self.port, self.username, self.password, self.db = parse_url(url)
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    def ping(self) -> bool:
        return self.execute("PING") == "PONG"

    def get(self, key: str) -> bytes | None:
        reply = self.execute("GET", key)
        assert reply is None or isinstance(reply, bytes)
        return reply

    def set(self, key: str, value: str, *, ex: int | None = None) -> None:
        self.execute("SET", key, value, *(("EX", str(ex)) if ex is not None else ()))

    def execute(self, *args: str) -> Reply:
        conn = self._take()
        try:
            reply = conn.call(args)
        except ReplyError:
            self._give_back(conn)
            raise
        except BaseException:
            conn.close()
            raise
        self._give_back(conn)
        return reply

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _take(self) -> _Connection:
        while True:
            with self._lock:
                if not self._idle:
                    break
                conn = self._idle.pop()
            if conn.fresh():
                return conn
            conn.close()  # closed by the server while idle (a restart, CLIENT KILL, a proxy cut)
        conn = _Connection(self.host, self.port, self.timeout)
        try:
            if self.password is not None:
                auth = (self.username, self.password) if self.username else (self.password,)
                conn.call(("AUTH", *auth))
            if self.db:
                conn.call(("SELECT", str(self.db)))
        except BaseException:
            conn.close()
            raise
        return conn

    def _give_back(self, conn: _Connection) -> None:
        with self._lock:
            self._idle.append(conn)


class _Connection:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise RedisError(f"cannot connect to {host}:{port}: {exc}") from exc
        try:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.reader: IO[bytes] = self.sock.makefile("rb")
        except OSError as exc:
            self.sock.close()
            raise RedisError(f"cannot use the connection to {host}:{port}: {exc}") from exc

    def fresh(self) -> bool:
        """Idle and still open: nothing to read (a server that closed it made it readable)."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def call(self, args: tuple[str, ...]) -> Reply:
        encoded = [a.encode() for a in args]
        request = b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in encoded)
        try:
            self.sock.sendall(request)
            return self._reply()
        except TimeoutError as exc:
            raise RedisError("Timeout reading from the server") from exc
        except OSError as exc:
            raise RedisError(f"connection lost: {exc}") from exc
        except ValueError as exc:  # a length that is not a number
            raise RedisError(f"not a RESP reply: {exc}") from exc

    def _reply(self) -> Reply:
        line = self.reader.readline()
        if not line.endswith(b"\r\n"):
            raise RedisError("connection closed by the server")
        kind, body = line[:1], line[1:-2]
        if kind == b"+":
            return body.decode()
        if kind == b"-":
            raise ReplyError(body.decode(errors="replace"))
        if kind == b":":
            return int(body)
        if kind == b"$":
            size = int(body)
            if size < 0:
                return None
            data = self.reader.read(size + 2)
            if len(data) != size + 2:
                raise RedisError("connection closed by the server")
            return data[:-2]
        if kind == b"*":
            count = int(body)
            items: list[Any] = []
            for _ in range(max(count, 0)):
                try:
                    items.append(self._reply())
                except ReplyError as exc:  # the rest is unread: the connection must go
                    raise RedisError(f"error inside an array reply: {exc}") from exc
            return None if count < 0 else items
        raise RedisError(f"not a RESP reply: {line[:40]!r}")

    def close(self) -> None:
        for closing in (self.reader, self.sock):
            with contextlib.suppress(OSError):
                closing.close()
