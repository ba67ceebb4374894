"""``host:port`` strings as toxiproxy writes them (``[::1]:80`` for IPv6)."""

from __future__ import annotations

import asyncio
import socket


def split(address: str) -> tuple[str, int]:
    """``"127.0.0.1:5432"`` -> ``("127.0.0.1", 5432)``; ValueError naming the problem."""
    host, sep, port = address.rpartition(":")
    if not sep:
        raise ValueError(f"address {address}: missing port in address")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"address {address}: invalid port {port!r}")
    return host, int(port)


def join(sockname: tuple[object, ...]) -> str:
    host, port = str(sockname[0]), int(sockname[1])  # type: ignore[call-overload]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def bind(address: str) -> socket.socket:
    """A bound, non-blocking TCP socket for ``address`` (IPv4 preferred, like Go)."""
    host, port = split(address)
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    if not infos:
        raise OSError(f"no address for {address}")
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
