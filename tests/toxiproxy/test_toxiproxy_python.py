"""The toxiproxy-python client (0.1.1), unchanged, end to end against drillbook's server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import toxiproxy as toxiproxy_python
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import NotFound, ProxyExists

from drillbook.harness.toxiproxy import ToxiproxyServer
from drillbook.twin.redis import RedisServer
from tests.toxiproxy.services import connect_fails, redis_client


@pytest.fixture
def tp(toxiproxy: ToxiproxyServer) -> Iterator[toxiproxy_python.Toxiproxy]:
    # The library keeps the server address in class attributes: restore them.
    saved = (APIConsumer.host, APIConsumer.port)
    client = toxiproxy_python.Toxiproxy()
    client.update_api_consumer(toxiproxy.host, toxiproxy.port)
    try:
        yield client
    finally:
        APIConsumer.host, APIConsumer.port = saved


def _port(proxy: toxiproxy_python.Proxy) -> int:
    return int(proxy.listen.rpartition(":")[2])


def _ping_seconds(port: int) -> float:
    import time

    client = redis_client(port)
    try:
        start = time.monotonic()
        assert client.ping()
        return time.monotonic() - start
    finally:
        client.close()


def test_end_to_end(tp: toxiproxy_python.Toxiproxy, redis_server: RedisServer) -> None:
    assert tp.running()
    assert b"version" in tp.version()

    proxy = tp.create(upstream=f"127.0.0.1:{redis_server.port}", name="cache")
    assert proxy.enabled is True
    assert _port(proxy) > 0
    assert set(tp.proxies()) == {"cache"}
    listed = tp.get_proxy("cache")
    assert listed is not None and listed.upstream == f"127.0.0.1:{redis_server.port}"
    with pytest.raises(ProxyExists):
        tp.create(upstream=f"127.0.0.1:{redis_server.port}", name="cache")

    port = _port(proxy)
    assert _ping_seconds(port) < 0.2

    proxy.add_toxic(type="latency", attributes={"latency": 300})
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream"}
    toxic = toxics["latency_downstream"]
    assert (toxic.type, toxic.stream, toxic.toxicity) == ("latency", "downstream", 1)
    assert toxic.attributes == {"latency": 300, "jitter": 0}
    assert proxy.get_toxic("latency_downstream") is not None
    assert _ping_seconds(port) >= 0.29

    assert proxy.destroy_toxic("latency_downstream") is True
    assert proxy.toxics() == {}
    assert _ping_seconds(port) < 0.2

    with proxy.down():
        assert connect_fails(port)
    assert _ping_seconds(port) < 0.2

    proxy.disable()
    assert connect_fails(port)
    proxy.add_toxic(type="bandwidth", stream="upstream", attributes={"rate": 10})
    assert tp.reset() is True
    after = tp.get_proxy("cache")
    assert after is not None and after.enabled
    assert after.toxics() == {}
    assert _ping_seconds(port) < 0.2

    assert tp.destroy(proxy) is True
    assert tp.get_proxy("cache") is None
    assert connect_fails(port)
    with pytest.raises(NotFound):
        proxy.toxics()


def test_populate_creates_once(tp: toxiproxy_python.Toxiproxy, redis_server: RedisServer) -> None:
    spec = {"name": "cache", "upstream": f"127.0.0.1:{redis_server.port}", "listen": "127.0.0.1:0"}
    created = tp.populate([spec])
    assert [p.name for p in created] == ["cache"]
    port = _port(created[0])
    assert _ping_seconds(port) < 0.2
    tp.destroy_all()
    assert tp.proxies() == {}
