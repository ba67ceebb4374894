"""A toxiproxy-compatible TCP proxy server (Toxiproxy 2.x HTTP API) and its client.

The local environment puts it on the platform's links (app -> database, app ->
cache); staging uses the real toxiproxy. Faults in ``fault_injectors/network_*``
talk to either through :class:`ToxiproxyClient`.
"""

from drillbook.harness.toxiproxy.client import ProxyInfo, ToxicInfo, ToxiproxyClient
from drillbook.harness.toxiproxy.errors import (
    ServerStartError,
    ToxiproxyBadRequest,
    ToxiproxyConflict,
    ToxiproxyError,
    ToxiproxyNotFound,
    ToxiproxyUnavailable,
)
from drillbook.harness.toxiproxy.server import DEFAULT_PORT, ToxiproxyServer, serve

__all__ = [
    "DEFAULT_PORT",
    "ProxyInfo",
    "ServerStartError",
    "ToxicInfo",
    "ToxiproxyBadRequest",
    "ToxiproxyClient",
    "ToxiproxyConflict",
    "ToxiproxyError",
    "ToxiproxyNotFound",
    "ToxiproxyServer",
    "ToxiproxyUnavailable",
    "serve",
]
