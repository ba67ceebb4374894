"""The Toxiproxy 2.x HTTP API as toxiproxy documents it (README: Proxy fields,
Toxic fields, Endpoints, Toxics; api.go's error table), checked over raw HTTP.

Runs against drillbook's server always, and also against a real toxiproxy when
``TOXIPROXY_URL`` is set (``TOXIPROXY_URL=http://127.0.0.1:8474 pytest ...``), so
the two are held to the same contract. Proxies created here are named with a
unique prefix and deleted afterwards, so a shared real toxiproxy is left as found
(except for ``/reset``, which by definition resets every proxy).
"""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from drillbook.harness.toxiproxy import ToxiproxyServer

TARGETS = ["drillbook"] + (["toxiproxy"] if os.environ.get("TOXIPROXY_URL") else [])

# Every toxic the README documents, with its attributes.
DOCUMENTED_TOXICS = {
    "latency": {"latency": 100, "jitter": 10},
    "bandwidth": {"rate": 100},
    "slow_close": {"delay": 100},
    "timeout": {"timeout": 100},
    "reset_peer": {"timeout": 100},
    "slicer": {"average_size": 64, "size_variation": 32, "delay": 10},
    "limit_data": {"bytes": 1000},
}


@dataclass
class Target:
    url: str
    prefix: str
    created: set[str] = field(default_factory=set)

    @property
    def local(self) -> bool:
        """The proxies' listen addresses are reachable from this process."""
        return urlsplit(self.url).hostname in ("127.0.0.1", "localhost", "::1")

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw) if raw.strip() else None
        except ValueError:
            return status, raw.decode()

    def name(self, suffix: str) -> str:
        name = f"{self.prefix}{suffix}"
        self.created.add(name)
        return name

    def new_proxy(self, suffix: str = "p", **fields: Any) -> dict[str, Any]:
        body = {"name": self.name(suffix), "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", **fields}
        status, proxy = self.call("POST", "/proxies", body)
        assert status == 201, proxy
        return dict(proxy)


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    server = None
    if request.param == "drillbook":
        server = ToxiproxyServer().start()
        url = server.url
    else:
        url = os.environ["TOXIPROXY_URL"].rstrip("/")
    t = Target(url, f"contract-{uuid.uuid4().hex[:8]}-")
    try:
        yield t
    finally:
        for name in t.created:
            t.call("DELETE", f"/proxies/{name}")
        if server is not None:
            server.stop()


def _listening(listen: str) -> bool:
    host, _, port = listen.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=1):
            return True
    except OSError:
        return False


def _error(body: Any, status: int) -> None:
    assert isinstance(body, dict) and body["status"] == status and isinstance(body["error"], str), body


def test_version(target: Target) -> None:
    status, body = target.call("GET", "/version")
    assert status == 200
    # 2.x servers before 2.7 answer the bare version; later ones {"version": "..."}.
    version = body["version"] if isinstance(body, dict) else str(body)
    assert version.strip().lstrip("v")[:2] == "2."


def test_create_show_list_delete_proxy(target: Target) -> None:
    proxy = target.new_proxy()
    assert set(proxy) >= {"name", "listen", "upstream", "enabled", "toxics"}
    assert proxy["enabled"] is True, "enabled defaults to true on creation"
    assert proxy["toxics"] == []
    assert proxy["upstream"] == "127.0.0.1:1"
    assert not proxy["listen"].endswith(":0"), "port 0 is replaced by the port picked"
    if target.local:
        assert _listening(proxy["listen"])

    status, shown = target.call("GET", f"/proxies/{proxy['name']}")
    assert status == 200 and shown == proxy

    status, index = target.call("GET", "/proxies")
    assert status == 200 and index[proxy["name"]] == proxy

    status, body = target.call("DELETE", f"/proxies/{proxy['name']}")
    assert status == 204 and body is None
    if target.local:
        assert not _listening(proxy["listen"])
    status, body = target.call("DELETE", f"/proxies/{proxy['name']}")
    assert status == 404
    _error(body, 404)
    assert body["error"] == "proxy not found"


def test_create_proxy_errors(target: Target) -> None:
    proxy = target.new_proxy()
    status, body = target.call(
        "POST", "/proxies", {"name": proxy["name"], "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}
    )
    assert status == 409
    _error(body, 409)
    assert body["error"] == "proxy already exists"

    status, body = target.call("POST", "/proxies", {"listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"})
    assert status == 400 and body["error"] == "missing required field: name"
    status, body = target.call("POST", "/proxies", {"name": target.name("nu"), "listen": "127.0.0.1:0"})
    assert status == 400 and body["error"] == "missing required field: upstream"
    status, body = target.call("POST", "/proxies", [1, 2])
    assert status == 400 and body["error"].startswith("bad request body")

    status, body = target.call("GET", f"/proxies/{target.prefix}missing")
    assert status == 404 and body["error"] == "proxy not found"


def test_disabled_proxy_closes_listener_and_enables_again(target: Target) -> None:
    proxy = target.new_proxy()
    status, updated = target.call("POST", f"/proxies/{proxy['name']}", {"enabled": False})
    assert status == 200 and updated["enabled"] is False
    assert updated["listen"] == proxy["listen"]
    if target.local:
        assert not _listening(proxy["listen"])
    status, updated = target.call("POST", f"/proxies/{proxy['name']}", {"enabled": True})
    assert status == 200 and updated["enabled"] is True
    if target.local:
        assert _listening(updated["listen"])

    disabled = target.new_proxy("d", enabled=False)
    assert disabled["enabled"] is False
    status, _body = target.call("POST", f"/proxies/{target.prefix}missing", {"enabled": False})
    assert status == 404


def test_toxic_lifecycle(target: Target) -> None:
    name = target.new_proxy()["name"]
    base = f"/proxies/{name}/toxics"
    status, toxic = target.call("POST", base, {"type": "latency", "attributes": {"latency": 100}})
    assert status == 200
    assert toxic == {
        "attributes": {"latency": 100, "jitter": 0},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1,
    }

    status, body = target.call("POST", base, {"type": "latency", "attributes": {"latency": 5}})
    assert status == 409 and body["error"] == "toxic already exists"

    status, up = target.call(
        "POST",
        base,
        {
            "name": "slow_up",
            "type": "latency",
            "stream": "upstream",
            "toxicity": 0.5,
            "attributes": {"latency": 7},
        },
    )
    assert status == 200 and (up["stream"], up["toxicity"], up["name"]) == ("upstream", 0.5, "slow_up")

    status, listed = target.call("GET", base)
    assert status == 200 and sorted(t["name"] for t in listed) == ["latency_downstream", "slow_up"]
    status, shown = target.call("GET", f"/proxies/{name}")
    assert sorted(t["name"] for t in shown["toxics"]) == ["latency_downstream", "slow_up"]

    status, shown = target.call("GET", f"{base}/latency_downstream")
    assert status == 200 and shown == toxic

    status, updated = target.call("POST", f"{base}/latency_downstream", {"attributes": {"latency": 250}})
    assert status == 200
    assert updated["attributes"] == {"latency": 250, "jitter": 0}, "unset attributes keep their value"
    assert (updated["stream"], updated["toxicity"]) == ("downstream", 1)

    status, body = target.call("DELETE", f"{base}/latency_downstream")
    assert status == 204 and body is None
    status, body = target.call("DELETE", f"{base}/latency_downstream")
    assert status == 404 and body["error"] == "toxic not found"
    status, body = target.call("GET", f"{base}/latency_downstream")
    assert status == 404 and body["error"] == "toxic not found"
    status, body = target.call("POST", f"{base}/latency_downstream", {"attributes": {"latency": 1}})
    assert status == 404


def test_toxic_errors(target: Target) -> None:
    name = target.new_proxy()["name"]
    base = f"/proxies/{name}/toxics"
    status, body = target.call("POST", base, {"type": "latency", "stream": "sideways"})
    assert status == 400 and body["error"] == "stream was invalid, can be either upstream or downstream"
    status, body = target.call("POST", base, {"type": "no_such_toxic"})
    assert status == 400 and body["error"] == "invalid toxic type"
    status, body = target.call("POST", base, {"type": "latency", "attributes": {"latency": "slow"}})
    assert status == 400 and body["error"].startswith("bad request body")
    status, body = target.call("POST", f"/proxies/{target.prefix}missing/toxics", {"type": "latency"})
    assert status == 404 and body["error"] == "proxy not found"
    status, body = target.call("GET", f"/proxies/{target.prefix}missing/toxics")
    assert status == 404


@pytest.mark.parametrize("kind", sorted(DOCUMENTED_TOXICS))
def test_documented_toxics_and_attributes(target: Target, kind: str) -> None:
    name = target.new_proxy()["name"]
    for stream in ("upstream", "downstream"):
        status, toxic = target.call(
            "POST",
            f"/proxies/{name}/toxics",
            {"type": kind, "stream": stream, "attributes": DOCUMENTED_TOXICS[kind]},
        )
        assert status == 200, toxic
        assert toxic["name"] == f"{kind}_{stream}"
        assert toxic["attributes"] == DOCUMENTED_TOXICS[kind]


def test_populate_creates_then_leaves_unchanged_proxies_alone(target: Target) -> None:
    items: list[dict[str, Any]] = [
        {"name": target.name("a"), "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"},
        {"name": target.name("b"), "listen": "127.0.0.1:0", "upstream": "127.0.0.1:2", "enabled": False},
    ]
    status, body = target.call("POST", "/populate", items)
    assert status == 201
    proxies = {p["name"]: p for p in body["proxies"]}
    assert proxies[items[0]["name"]]["enabled"] is True
    assert proxies[items[1]["name"]]["enabled"] is False

    pinned = [{**items[0], "listen": proxies[items[0]["name"]]["listen"]}]
    status, again = target.call("POST", "/populate", pinned)
    assert status == 201 and again["proxies"][0] == proxies[items[0]["name"]]

    status, body = target.call("POST", "/populate", [{"name": target.name("c")}])
    assert status == 400 and "missing required field" in body["error"]


def test_reset_enables_proxies_and_removes_toxics(target: Target) -> None:
    proxy = target.new_proxy()
    name = proxy["name"]
    target.call("POST", f"/proxies/{name}/toxics", {"type": "timeout", "attributes": {"timeout": 0}})
    target.call("POST", f"/proxies/{name}", {"enabled": False})
    status, body = target.call("POST", "/reset")
    assert status == 204 and body is None
    status, after = target.call("GET", f"/proxies/{name}")
    assert after["enabled"] is True and after["toxics"] == []
    if target.local:
        assert _listening(after["listen"])
