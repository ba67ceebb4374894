"""Slow a network link: a toxiproxy ``latency`` toxic (latency ± jitter, in ms)."""

from __future__ import annotations

from typing import Any

from drillbook.faults.network_toxic import ToxicFault, check_int


class NetworkLatency(ToxicFault):
    """Delay the data on one proxy by ``latency_ms`` ± ``jitter_ms`` milliseconds.

    ``stream="downstream"`` (the default) delays what the server sends back, so
    each request/response round trip takes about ``latency_ms`` longer;
    ``"upstream"`` delays what the client sends. Connections stay open.
    """

    name = "network_latency"
    toxic_type = "latency"

    def __init__(
        self,
        api_url: str,
        proxy: str,
        latency_ms: int,
        jitter_ms: int = 0,
        *,
        stream: str = "downstream",
        toxicity: float = 1.0,
        toxic_name: str | None = None,
        api_timeout: float = 5.0,
    ) -> None:
        self.latency_ms = check_int("latency_ms", latency_ms)
        self.jitter_ms = check_int("jitter_ms", jitter_ms)
        super().__init__(
            api_url, proxy, stream=stream, toxicity=toxicity, toxic_name=toxic_name, api_timeout=api_timeout
        )

    def attributes(self) -> dict[str, int]:
        return {"latency": self.latency_ms, "jitter": self.jitter_ms}

    def params(self) -> dict[str, Any]:
        return {"latency_ms": self.latency_ms, "jitter_ms": self.jitter_ms}
