"""The network faults against a real Redis behind drillbook's toxiproxy server:
what the contract test does not cover (partition by timeout, ownership of
toxics, validation, errors)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from drillbook.faults.network_bandwidth import NetworkBandwidth
from drillbook.faults.network_latency import NetworkLatency
from drillbook.faults.network_partition import NetworkPartition
from drillbook.faults.network_reset import NetworkReset
from drillbook.harness.errors import FaultError, InvalidDrillConfig
from drillbook.harness.registry import build
from drillbook.harness.toxiproxy import ProxyInfo, ToxiproxyClient, ToxiproxyServer, ToxiproxyUnavailable
from tests.toxiproxy.services import redis_client


def _ping_ok(proxy: ProxyInfo, timeout: float = 0.5) -> bool:
    client = redis_client(proxy.listen_port, timeout)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def test_partition_by_timeout_holds_connections_then_heals(
    toxiproxy: ToxiproxyServer, api: ToxiproxyClient, redis_proxy: ProxyInfo
) -> None:
    held = redis_client(redis_proxy.listen_port, timeout=30)
    assert held.ping()
    fault = NetworkPartition(toxiproxy.url, "app-cache", mode="timeout")
    fault.inject()
    assert sorted(t.stream for t in api.toxics("app-cache")) == ["downstream", "upstream"]
    outcome: list[BaseException] = []

    def wait_on_held() -> None:
        try:
            held.ping()
        except redis.RedisError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=wait_on_held)
    worker.start()
    try:
        assert not _ping_ok(redis_proxy), "new connections get no answer"
        time.sleep(0.5)
        assert worker.is_alive(), "open connections hang, as behind a real partition"
    finally:
        fault.revert()
    worker.join(5)
    assert isinstance(outcome[0], redis.ConnectionError), "healing closes the held connection"
    assert _ping_ok(redis_proxy)
    assert api.toxics("app-cache") == []
    fault.revert()


def test_partition_timeout_ms_closes_connections(toxiproxy: ToxiproxyServer, redis_proxy: ProxyInfo) -> None:
    fault = NetworkPartition(toxiproxy.url, "app-cache", mode="timeout", timeout_ms=300, stream="upstream")
    fault.inject()
    try:
        client = redis_client(redis_proxy.listen_port, timeout=5)
        start = time.monotonic()
        with pytest.raises(redis.ConnectionError):
            client.ping()
        assert 0.25 <= time.monotonic() - start <= 2.0
    finally:
        fault.revert()


def test_each_fault_removes_only_its_own_toxic(
    toxiproxy: ToxiproxyServer, api: ToxiproxyClient, redis_proxy: ProxyInfo
) -> None:
    first = NetworkLatency(toxiproxy.url, "app-cache", latency_ms=10)
    second = NetworkLatency(toxiproxy.url, "app-cache", latency_ms=20)
    throttle = NetworkBandwidth(toxiproxy.url, "app-cache", rate_kb_s=5000, stream="upstream")
    api.add_toxic("app-cache", "latency", name="someone-elses", attributes={"latency": 1})
    for fault in (first, second, throttle):
        fault.inject()
    assert len(api.toxics("app-cache")) == 4
    first.revert()
    first.revert()
    assert sorted(t.name for t in api.toxics("app-cache")) == sorted(
        ["someone-elses", second.toxic_name, throttle.toxic_name]
    )
    rebuilt = build("network_bandwidth", throttle.describe())
    rebuilt.revert()
    second.revert()
    assert [t.name for t in api.toxics("app-cache")] == ["someone-elses"]


def test_describe_rebuilds_an_equal_fault(toxiproxy: ToxiproxyServer) -> None:
    faults = [
        NetworkLatency(toxiproxy.url, "app-db", 200, 50, stream="upstream", toxicity=0.5),
        NetworkBandwidth(toxiproxy.url, "app-db", 100),
        NetworkReset(toxiproxy.url, "app-db", 250),
        NetworkPartition(toxiproxy.url, "app-db", mode="timeout", timeout_ms=1000, stream="downstream"),
    ]
    for fault in faults:
        assert build(fault.name, fault.describe()).describe() == fault.describe()


def test_a_missing_proxy_fails_injection_clearly(toxiproxy: ToxiproxyServer, redis_proxy: ProxyInfo) -> None:
    fault = NetworkLatency(toxiproxy.url, "app-db", latency_ms=100)
    with pytest.raises(FaultError, match=r"no proxy named 'app-db' \(it has: app-cache\)"):
        fault.inject()
    fault.revert()  # harmless after a failed injection
    partition = NetworkPartition(toxiproxy.url, "app-db")
    with pytest.raises(FaultError, match="no proxy named"):
        partition.inject()
    partition.revert()


def test_a_name_clash_fails_injection_and_leaves_the_other_toxic(
    toxiproxy: ToxiproxyServer, api: ToxiproxyClient, redis_proxy: ProxyInfo
) -> None:
    NetworkReset(toxiproxy.url, "app-cache", toxic_name="clash").inject()
    with pytest.raises(FaultError, match="already has a toxic named 'clash'"):
        NetworkLatency(toxiproxy.url, "app-cache", 10, toxic_name="clash").inject()
    assert api.toxic("app-cache", "clash").type == "reset_peer"


def test_revert_with_toxiproxy_gone_raises_so_the_undo_log_keeps_it(redis_proxy: ProxyInfo) -> None:
    fault = NetworkLatency("http://127.0.0.1:9", "app-cache", latency_ms=10, api_timeout=0.5)
    with pytest.raises(ToxiproxyUnavailable):
        fault.revert()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: NetworkLatency("http://x:1", "p", latency_ms=-1), "latency_ms"),
        (lambda: NetworkLatency("http://x:1", "p", latency_ms=1.5), "latency_ms"),  # type: ignore[arg-type]
        (lambda: NetworkLatency("http://x:1", "p", 10, stream="both"), "stream"),
        (lambda: NetworkLatency("http://x:1", "p", 10, toxicity=1.5), "toxicity"),
        (lambda: NetworkLatency("http://x:1", "", 10), "proxy"),
        (lambda: NetworkLatency("x:1", "p", 10), "http://"),
        (lambda: NetworkBandwidth("http://x:1", "p", rate_kb_s=0), "rate_kb_s"),
        (lambda: NetworkReset("http://x:1", "p", timeout_ms=-5), "timeout_ms"),
        (lambda: NetworkPartition("http://x:1", "p", mode="sever"), "mode"),
        (lambda: NetworkPartition("http://x:1", "p", stream="sideways"), "stream"),
    ],
)
def test_bad_parameters_are_rejected(make: object, message: str) -> None:
    with pytest.raises(InvalidDrillConfig, match=message):
        make()  # type: ignore[operator]


DRILL = """
import time, pytest
from drillbook.faults.network_latency import NetworkLatency
from drillbook.faults.network_partition import NetworkPartition

@pytest.mark.drill(scenario="slow and cut cache link", tier="monthly", rto="1h")
def test_network(drill):
    drill.steady_state(lambda: True)
    drill.inject(NetworkLatency("{url}", "app-cache", latency_ms=300))
    drill.inject(NetworkPartition("{url}", "app-cache", mode="down"))
    open("{flag}", "w").write("injected")
    time.sleep(120)
"""


def test_drillbook_revert_undoes_network_faults_after_the_runner_was_killed(
    toxiproxy: ToxiproxyServer, api: ToxiproxyClient, redis_proxy: ProxyInfo, tmp_path: Path
) -> None:
    flag = tmp_path / "injected.flag"
    (tmp_path / "test_network.py").write_text(DRILL.format(url=toxiproxy.url, flag=flag))
    runner = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_network.py"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert runner.poll() is None, runner.stdout.read().decode() if runner.stdout else ""
            assert time.monotonic() < deadline, "the drill never injected"
            time.sleep(0.05)
    finally:
        runner.kill()
        runner.wait(10)
    assert not api.proxy("app-cache").enabled and len(api.toxics("app-cache")) == 1, (
        "faults outlive the runner"
    )

    done = subprocess.run(
        [sys.executable, "-m", "drillbook", "revert"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "network_partition" in done.stdout and "network_latency" in done.stdout
    assert api.proxy("app-cache").enabled
    assert api.toxics("app-cache") == []
    assert _ping_ok(redis_proxy)
