"""The toxiproxy client's calls, recorded against drillbook's toxiproxy server over HTTP: each
with its operation (the path's template), the proxy and toxic it named, and its outcome."""

from __future__ import annotations

import pytest

from drillbook.harness.calls.scope import CallLog, scope
from drillbook.harness.records import CallerKind
from drillbook.harness.toxiproxy.client import ToxiproxyClient
from drillbook.harness.toxiproxy.errors import ToxiproxyNotFound


def test_toxiproxy_calls_are_recorded(api: ToxiproxyClient) -> None:
    api.create_proxy("app-db", "127.0.0.1:9")  # outside any scope: not recorded
    log = CallLog()
    with scope(log, CallerKind.FAULT, "network_partition"):
        api.add_toxic("app-db", "timeout", attributes={"timeout": 0}, name="cut")
        api.remove_toxic("app-db", "cut")
        with pytest.raises(ToxiproxyNotFound):
            api.proxy("no-such-proxy")
    calls = log.records()
    assert [(c.service, c.operation, c.params, c.outcome) for c in calls] == [
        ("toxiproxy", "POST /proxies/{proxy}/toxics", {"proxy": "app-db"}, "ok"),
        ("toxiproxy", "DELETE /proxies/{proxy}/toxics/{toxic}", {"proxy": "app-db", "toxic": "cut"}, "ok"),
        ("toxiproxy", "GET /proxies/{proxy}", {"proxy": "no-such-proxy"}, "404"),
    ]
    assert all(c.caller == "network_partition" and c.permission == "" for c in calls)
