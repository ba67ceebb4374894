"""Reset connections on a network link: a toxiproxy ``reset_peer`` toxic."""

from __future__ import annotations

from typing import Any

from drillbook.faults.network_toxic import ToxicFault, check_int


class NetworkReset(ToxicFault):
    """Reset (TCP RST, "connection reset by peer") every connection through one
    proxy ``timeout_ms`` after data first reaches the toxic on ``stream``.

    Open connections are reset at their next exchange and new ones at their
    first, so clients see resets rather than refusals, until reverted.
    """

    name = "network_reset"
    toxic_type = "reset_peer"

    def __init__(
        self,
        api_url: str,
        proxy: str,
        timeout_ms: int = 0,
        *,
        stream: str = "downstream",
        toxicity: float = 1.0,
        toxic_name: str | None = None,
        api_timeout: float = 5.0,
    ) -> None:
        self.timeout_ms = check_int("timeout_ms", timeout_ms)
        super().__init__(
            api_url, proxy, stream=stream, toxicity=toxicity, toxic_name=toxic_name, api_timeout=api_timeout
        )

    def attributes(self) -> dict[str, int]:
        return {"timeout": self.timeout_ms}

    def params(self) -> dict[str, Any]:
        return {"timeout_ms": self.timeout_ms}
