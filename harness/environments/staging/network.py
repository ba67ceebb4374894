"""The ``network`` role in staging: a real toxiproxy (its REST API) in front of the links."""

from __future__ import annotations

from harness.environments.staging.settings import NetworkSettings
from harness.toxiproxy.client import ToxiproxyClient


class ToxiproxyNetwork:
    def __init__(self, settings: NetworkSettings) -> None:
        self.settings = settings

    def api_url(self) -> str:
        return self.settings.url

    def client(self) -> ToxiproxyClient:
        return ToxiproxyClient(self.settings.url, timeout=self.settings.timeout)

    def proxies(self) -> list[str]:
        return sorted(self.client().proxies())

    def configured(self) -> tuple[str, ...]:
        """The proxies the profile names (``proxies = [...]``)."""
        return self.settings.proxies
