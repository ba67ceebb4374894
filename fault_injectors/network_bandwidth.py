"""Throttle a network link: a toxiproxy ``bandwidth`` toxic (KB/s)."""

from __future__ import annotations

from typing import Any

from drillbook.faults.network_toxic import ToxicFault, check_int


class NetworkBandwidth(ToxicFault):
    """Cap each connection through one proxy at ``rate_kb_s`` kilobytes per second
    (1 KB = 1000 bytes, as toxiproxy counts) in the direction ``stream``
    (default ``downstream``: what the server sends back)."""

    name = "network_bandwidth"
    toxic_type = "bandwidth"

    def __init__(
        self,
        api_url: str,
        proxy: str,
        rate_kb_s: int,
        *,
        stream: str = "downstream",
        toxicity: float = 1.0,
        toxic_name: str | None = None,
        api_timeout: float = 5.0,
    ) -> None:
        self.rate_kb_s = check_int("rate_kb_s", rate_kb_s, minimum=1)
        super().__init__(
            api_url, proxy, stream=stream, toxicity=toxicity, toxic_name=toxic_name, api_timeout=api_timeout
        )

    def attributes(self) -> dict[str, int]:
        return {"rate": self.rate_kb_s}

    def params(self) -> dict[str, Any]:
        return {"rate_kb_s": self.rate_kb_s}
