"""The network links of the local environment, through the toxiproxy-compatible server.

The application reaches the database and the cache only through proxies of
``drillbook.harness.toxiproxy`` (``app-db``, ``app-cache``; ``app-db-dr`` for the DR
region), so network faults (partition, latency, bandwidth, reset) act on real
TCP connections. The proxies are also written to the server's ``--config``
file with fixed listen ports: a server that is restarted comes back with the
same links on the same ports.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from drillbook.harness.toxiproxy.client import ToxiproxyClient
from drillbook.twin.postgres import free_port

APP_DB = "app-db"
APP_DB_DR = "app-db-dr"
APP_CACHE = "app-cache"


@dataclass(frozen=True)
class Link:
    name: str
    listen_port: int
    upstream: str

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "listen": f"127.0.0.1:{self.listen_port}", "upstream": self.upstream,
                "enabled": True}


def plan_links(*, database_port: int, cache_port: int, dr_database_port: int | None) -> list[Link]:
    links = [Link(APP_DB, free_port(), f"127.0.0.1:{database_port}"),
             Link(APP_CACHE, free_port(), f"127.0.0.1:{cache_port}")]
    if dr_database_port is not None:
        links.append(Link(APP_DB_DR, free_port(), f"127.0.0.1:{dr_database_port}"))
    return links


def write_config(path: Path, links: list[Link]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([link.to_json() for link in links], indent=2))
    return path


def server_argv(port: int, config: Path) -> list[str]:
    return [sys.executable, "-m", "drillbook.harness.toxiproxy", "--host", "127.0.0.1", "--port", str(port),
            "--config", str(config)]


def api_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


class LocalNetwork:
    """The ``network`` role: the toxiproxy in front of the application's links."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.client = ToxiproxyClient(url, timeout=timeout)

    def api_url(self) -> str:
        return self.url

    def proxies(self) -> list[str]:
        return sorted(self.client.proxies())

    def listen_port(self, proxy: str) -> int:
        return self.client.proxy(proxy).listen_port

    def link_to(self, name: str, port: int) -> int:
        """A proxy ``name`` to ``127.0.0.1:port`` (created, or repointed if it exists); its port."""
        upstream = f"127.0.0.1:{port}"
        existing = self.client.proxies().get(name)
        if existing is None:
            return self.client.create_proxy(name, upstream).listen_port
        if existing.upstream != upstream:
            return self.client.update_proxy(name, upstream=upstream).listen_port
        return existing.listen_port
