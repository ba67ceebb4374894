"""Partition a network link through toxiproxy: the proxy down, or a timeout toxic."""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

from drillbook.faults.base import Fault
from drillbook.faults.network_toxic import check_int, check_stream, client_for, require_proxy
from drillbook.harness.errors import FaultError, InvalidDrillConfig
from drillbook.harness.toxiproxy.client import STREAMS
from drillbook.harness.toxiproxy.errors import ToxiproxyConflict, ToxiproxyError, ToxiproxyNotFound

MODES = ("down", "timeout")


class NetworkPartition(Fault):
    """Cut one network link (a toxiproxy proxy) off.

    ``mode="down"`` disables the proxy: open connections are cut and new ones
    refused, like a host that went away. ``mode="timeout"`` adds a ``timeout``
    toxic on ``stream`` ("both" by default): connections open but no byte gets
    through, like packets silently dropped; with ``timeout_ms > 0`` they are
    closed after that long, with 0 they hang until the fault is reverted, and
    reverting closes the connections that were held (they lost data).
    """

    name = "network_partition"
    blast_radius = "every connection through one toxiproxy proxy (one network link)"
    rollback = "re-enable the proxy (down) or remove the fault's own timeout toxics (timeout)"

    def __init__(
        self,
        api_url: str,
        proxy: str,
        mode: str = "down",
        timeout_ms: int = 0,
        *,
        stream: str = "both",
        toxic_name: str | None = None,
        api_timeout: float = 5.0,
    ) -> None:
        if mode not in MODES:
            raise InvalidDrillConfig(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if not proxy:
            raise InvalidDrillConfig("proxy must name a toxiproxy proxy (like 'app-db')")
        self.client = client_for(api_url, api_timeout)
        self.api_url = api_url
        self.proxy = proxy
        self.mode = mode
        self.timeout_ms = check_int("timeout_ms", timeout_ms)
        self.stream = check_stream(stream, (*STREAMS, "both"))
        self.api_timeout = api_timeout
        self.toxic_name = toxic_name or f"drillbook-network_partition-{secrets.token_hex(4)}"

    def _toxics(self) -> list[tuple[str, str]]:
        streams = STREAMS if self.stream == "both" else (self.stream,)
        return [(f"{self.toxic_name}-{stream}", stream) for stream in streams]

    def inject(self) -> None:
        require_proxy(self.client, self.proxy)
        try:
            if self.mode == "down":
                self.client.disable(self.proxy)
                return
            for name, stream in self._toxics():
                self.client.add_toxic(
                    self.proxy, "timeout", attributes={"timeout": self.timeout_ms}, stream=stream, name=name
                )
        except ToxiproxyConflict as exc:
            raise FaultError(
                f"proxy {self.proxy!r} already has a toxic named like {self.toxic_name!r}: a leftover of an "
                "earlier run? run `drillbook revert`, or give this fault another toxic_name"
            ) from exc
        except ToxiproxyError as exc:
            raise FaultError(f"could not partition proxy {self.proxy!r}: {exc}") from exc

    def revert(self) -> None:
        if self.mode == "down":
            with contextlib.suppress(ToxiproxyNotFound):  # a deleted proxy has nothing to heal
                self.client.enable(self.proxy)
            return
        for name, _ in self._toxics():
            self.client.remove_toxic(self.proxy, name, missing_ok=True)

    def describe(self) -> dict[str, Any]:
        return {
            "api_url": self.api_url,
            "proxy": self.proxy,
            "mode": self.mode,
            "timeout_ms": self.timeout_ms,
            "stream": self.stream,
            "toxic_name": self.toxic_name,
            "api_timeout": self.api_timeout,
        }
