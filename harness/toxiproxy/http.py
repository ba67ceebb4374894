"""A small HTTP/1.1 server on asyncio streams: enough for toxiproxy's JSON API
(keep-alive, Content-Length and chunked request bodies), with a timeout on every
read so an idle or stalled client never holds a connection for ever."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

log = logging.getLogger("drillbook.toxiproxy")

MAX_BODY = 1 << 20
MAX_HEADERS = 100
#: toxiproxy's own API server times out reads after 15 s and idle connections after 60 s.
READ_TIMEOUT = 15.0
IDLE_TIMEOUT = 60.0


class BadRequest(Exception):
    pass


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    client: str

    @property
    def path(self) -> list[str]:
        """The path's segments, percent-decoded: ``/proxies/a%20b`` -> ``["proxies", "a b"]``."""
        return [unquote(part) for part in urlsplit(self.target).path.split("/")[1:]]


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    def encode(self, keep_alive: bool) -> bytes:
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.status != 204:
            lines.append(f"Content-Length: {len(self.body)}")
        if not keep_alive:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (
            b"" if self.status == 204 else self.body
        )


Handler = Callable[[Request], Awaitable[Response]]


async def _line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise BadRequest("truncated request") from exc
        return b""
    except asyncio.LimitOverrunError as exc:
        raise BadRequest("request line or header too long") from exc


async def read_request(reader: asyncio.StreamReader, client: str) -> Request | None:
    """The next request on the connection, or None when the client closed it."""
    async with asyncio.timeout(IDLE_TIMEOUT):
        first = await _line(reader)
    if not first:
        return None
    async with asyncio.timeout(READ_TIMEOUT):
        parts = first.decode("latin-1").strip().split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest(f"malformed request line {first[:80]!r}")
        method, target, version = parts
        headers: dict[str, str] = {"_version": version}
        while (line := await _line(reader)) not in (b"\r\n", b"\n"):
            if not line:
                raise BadRequest("truncated headers")
            if len(headers) > MAX_HEADERS:
                raise BadRequest("too many headers")
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise BadRequest(f"malformed header {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
        body = await _body(reader, headers)
    return Request(method.upper(), target, headers, body, client)


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size_line = (await _line(reader)).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as exc:
                raise BadRequest("malformed chunk size") from exc
            if size == 0:
                while (await _line(reader)) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY:
                raise BadRequest("request body too large")
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    length = headers.get("content-length", "0") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        raise BadRequest(f"bad Content-Length {length!r}")
    return await reader.readexactly(int(length)) if int(length) else b""


def _keep_alive(request: Request) -> bool:
    connection = request.headers.get("connection", "").lower()
    if request.headers.get("_version") == "HTTP/1.0":
        return connection == "keep-alive"
    return connection != "close"


class HttpServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen; returns the bound host and port. OSError if the address is taken."""
        self._server = await asyncio.start_server(self._accept, host, port, backlog=128)
        sockname = self._server.sockets[0].getsockname()
        return str(sockname[0]), int(sockname[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections))

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        client = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        try:
            while True:
                try:
                    request = await read_request(reader, client)
                except BadRequest as exc:
                    writer.write(
                        Response(400, f"{exc}\n".encode(), {"Content-Type": "text/plain"}).encode(False)
                    )
                    await writer.drain()
                    return
                if request is None:
                    return
                started = time.monotonic()
                response = await self.handler(request)
                keep_alive = _keep_alive(request)
                writer.write(response.encode(keep_alive))
                async with asyncio.timeout(READ_TIMEOUT):
                    await writer.drain()
                log.info(
                    "API %s %s -> %d (%.1f ms) from %s",
                    request.method,
                    request.target,
                    response.status,
                    (time.monotonic() - started) * 1000,
                    client,
                )
                if not keep_alive:
                    return
        except (TimeoutError, ConnectionError, OSError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()
