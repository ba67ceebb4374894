"""The shared machinery of the faults that add one toxiproxy toxic to a proxy
(latency, bandwidth, reset). Not a fault itself: each fault is its own module.

A toxic fault owns exactly one toxic, named uniquely when the fault is made
(``drillbook-network_latency-downstream-1a2b3c4d``) and kept in ``describe()``,
so reverting (here or from ``drillbook revert`` in another process) removes that
toxic and nothing else, and reverting twice finds it gone and does nothing.
"""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from drillbook.faults.base import Fault
from drillbook.harness.errors import FaultError, InvalidDrillConfig
from drillbook.harness.toxiproxy.client import STREAMS, ToxiproxyClient
from drillbook.harness.toxiproxy.errors import ToxiproxyConflict, ToxiproxyError, ToxiproxyNotFound


def check_int(name: str, value: object, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidDrillConfig(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_stream(value: object, allowed: tuple[str, ...] = STREAMS) -> str:
    if value not in allowed:
        raise InvalidDrillConfig(f"stream must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def client_for(api_url: str, api_timeout: float) -> ToxiproxyClient:
    return ToxiproxyClient(api_url, timeout=api_timeout)


def require_proxy(client: ToxiproxyClient, proxy: str) -> None:
    """Fail injection clearly when the proxy is not there."""
    try:
        client.proxy(proxy)
    except ToxiproxyNotFound:
        known = ", ".join(sorted(client.proxies())) or "none"
        raise FaultError(
            f"toxiproxy at {client.url} has no proxy named {proxy!r} (it has: {known}); "
            "create it first (the local environment creates app-db and app-cache)"
        ) from None


class ToxicFault(Fault):
    """A fault made of one toxic on one proxy; subclasses say which toxic and its attributes."""

    toxic_type: ClassVar[str]
    blast_radius = "every connection through one toxiproxy proxy (one network link)"
    rollback = "remove the fault's own toxic from the proxy"

    def __init__(
        self,
        api_url: str,
        proxy: str,
        *,
        stream: str,
        toxicity: float,
        toxic_name: str | None,
        api_timeout: float,
    ) -> None:
        if not proxy:
            raise InvalidDrillConfig("proxy must name a toxiproxy proxy (like 'app-db')")
        if isinstance(toxicity, bool) or not isinstance(toxicity, int | float) or not 0 <= toxicity <= 1:
            raise InvalidDrillConfig(f"toxicity must be a number between 0 and 1, got {toxicity!r}")
        self.client = client_for(api_url, api_timeout)
        self.api_url = api_url
        self.proxy = proxy
        self.stream = check_stream(stream)
        self.toxicity = float(toxicity)
        self.api_timeout = api_timeout
        self.toxic_name = toxic_name or f"drillbook-{self.name}-{self.stream}-{secrets.token_hex(4)}"

    def attributes(self) -> dict[str, int]:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """The fault's own constructor arguments (besides the common ones)."""
        raise NotImplementedError

    def inject(self) -> None:
        require_proxy(self.client, self.proxy)
        try:
            self.client.add_toxic(
                self.proxy,
                self.toxic_type,
                attributes=self.attributes(),
                stream=self.stream,
                toxicity=self.toxicity,
                name=self.toxic_name,
            )
        except ToxiproxyConflict as exc:
            raise FaultError(
                f"proxy {self.proxy!r} already has a toxic named {self.toxic_name!r}: a leftover of an "
                "earlier run? run `drillbook revert`, or give this fault another toxic_name"
            ) from exc
        except ToxiproxyError as exc:
            raise FaultError(
                f"could not add the {self.toxic_type} toxic to proxy {self.proxy!r}: {exc}"
            ) from exc

    def revert(self) -> None:
        # Gone already (reverted before, proxy deleted or server reset): nothing to undo.
        self.client.remove_toxic(self.proxy, self.toxic_name, missing_ok=True)

    def describe(self) -> dict[str, Any]:
        return {
            "api_url": self.api_url,
            "proxy": self.proxy,
            **self.params(),
            "stream": self.stream,
            "toxicity": self.toxicity,
            "toxic_name": self.toxic_name,
            "api_timeout": self.api_timeout,
        }
