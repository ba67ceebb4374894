"""The ``network`` role in staging: a real toxiproxy (its REST API) in front of the links.
The same shape as the local environment's (``client``, ``proxies()``, ``listen_port()``)."""

from __future__ import annotations

from drillbook.harness.environments.staging.settings import NetworkSettings
from drillbook.harness.toxiproxy.client import ToxiproxyClient


class ToxiproxyNetwork:
    def __init__(self, settings: NetworkSettings) -> None:
        self.settings = settings
        self.url = settings.url
        self.client = ToxiproxyClient(settings.url, timeout=settings.timeout)

    def api_url(self) -> str:
        return self.url

    def proxies(self) -> list[str]:
        return sorted(self.client.proxies())

    def listen_port(self, proxy: str) -> int:
        return self.client.proxy(proxy).listen_port

    def configured(self) -> tuple[str, ...]:
        """The proxies the profile names (``proxies = [...]``)."""
        return self.settings.proxies
