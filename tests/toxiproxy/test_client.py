"""The harness's toxiproxy client: typed answers, clear errors, a timeout on every call."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from drillbook.harness.errors import DrillbookError, InvalidDrillConfig
from drillbook.harness.toxiproxy import (
    ToxiproxyBadRequest,
    ToxiproxyClient,
    ToxiproxyConflict,
    ToxiproxyNotFound,
    ToxiproxyUnavailable,
)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


def test_a_server_that_never_answers_times_out(silent_port: int) -> None:
    client = ToxiproxyClient(f"http://127.0.0.1:{silent_port}", timeout=0.5)
    start = time.monotonic()
    with pytest.raises(ToxiproxyUnavailable, match=r"did not answer GET /proxies within 0\.5s"):
        client.proxies()
    assert time.monotonic() - start < 2.0
    with pytest.raises(ToxiproxyUnavailable):
        client.add_toxic("app-db", "latency", attributes={"latency": 1})


def test_nothing_listening_is_unavailable_and_says_how_to_fix() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ToxiproxyClient(f"http://127.0.0.1:{port}", timeout=1)
    with pytest.raises(ToxiproxyUnavailable, match="drillbook toxiproxy-server") as info:
        client.version()
    assert isinstance(info.value, DrillbookError)
    with pytest.raises(ToxiproxyUnavailable):
        client.wait_ready(timeout=0.3)


def test_bad_arguments_are_rejected_before_any_call() -> None:
    with pytest.raises(InvalidDrillConfig, match="must start with http://"):
        ToxiproxyClient("127.0.0.1:8474")
    with pytest.raises(InvalidDrillConfig):
        ToxiproxyClient(timeout=0)
    client = ToxiproxyClient("http://127.0.0.1:9", timeout=0.2)
    with pytest.raises(InvalidDrillConfig, match="stream"):
        client.add_toxic("p", "latency", stream="sideways")
    with pytest.raises(InvalidDrillConfig, match="toxicity"):
        client.add_toxic("p", "latency", toxicity=2)


def test_typed_answers_and_error_classes(api: ToxiproxyClient, echo_port: int) -> None:
    assert "2." in api.wait_ready()
    proxy = api.create_proxy("db", f"127.0.0.1:{echo_port}")
    assert proxy.enabled and proxy.listen_host == "127.0.0.1" and proxy.listen_port > 0
    assert api.proxies() == {"db": proxy}
    with pytest.raises(ToxiproxyConflict) as conflict:
        api.create_proxy("db", f"127.0.0.1:{echo_port}")
    assert conflict.value.status == 409
    with pytest.raises(ToxiproxyNotFound, match="proxy not found"):
        api.proxy("nope")
    with pytest.raises(ToxiproxyBadRequest, match="invalid toxic type"):
        api.add_toxic("db", "nonsense")

    toxic = api.add_toxic("db", "latency", attributes={"latency": 10}, stream="upstream", name="slow")
    assert (toxic.name, toxic.type, toxic.stream, toxic.attributes) == (
        "slow",
        "latency",
        "upstream",
        {"latency": 10, "jitter": 0},
    )
    assert api.proxy("db").toxics == (toxic,)
    assert api.update_toxic("db", "slow", attributes={"jitter": 5}).attributes == {"latency": 10, "jitter": 5}
    assert api.remove_toxic("db", "slow") is True
    assert api.remove_toxic("db", "slow", missing_ok=True) is False
    with pytest.raises(ToxiproxyNotFound):
        api.remove_toxic("db", "slow")
    assert api.remove_toxic("no-such-proxy", "slow", missing_ok=True) is False

    assert api.disable("db").enabled is False
    api.reset()
    assert api.proxy("db").enabled is True
    populated = api.populate(
        [{"name": "cache", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{echo_port}"}]
    )
    assert [p.name for p in populated] == ["cache"]
    api.delete_proxy("cache")
    api.delete_proxy("cache", missing_ok=True)
    with pytest.raises(ToxiproxyNotFound):
        api.delete_proxy("cache")


def test_names_are_escaped_in_paths(api: ToxiproxyClient, echo_port: int) -> None:
    proxy = api.create_proxy("app db/1", f"127.0.0.1:{echo_port}")
    assert api.proxy("app db/1") == proxy
    api.add_toxic("app db/1", "latency", name="a b")
    assert api.toxic("app db/1", "a b").name == "a b"
