"""A start that cannot fail by chance: a server's port taken by another process between the moment
it was chosen and the moment the server binds it (the DR replica binds minutes later, after its
clone) is replaced, and a start that fails carries the server's own words in its error."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from drillbook.twin.environment import LocalEnvironment
from drillbook.twin.network import APP_DB, APP_DB_DR, LocalNetwork
from drillbook.twin.postgres import ClusterError, PostgresCluster
from drillbook.twin.settings import LocalSettings
from drillbook.twin.state import STATE_FILE
from tests.twin.dataplane_support import server_tmp


def squat(port: int) -> socket.socket:
    """Take ``port`` as another program would: bound and listening."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    with server_tmp("port-taken") as root:
        made = PostgresCluster(root / "data", name="taken").init()
        try:
            yield made
        finally:
            made.stop("immediate")


def test_a_taken_port_fails_the_start_with_the_servers_own_reason(cluster: PostgresCluster) -> None:
    held = squat(cluster.port)
    try:
        with pytest.raises(ClusterError) as failed:
            cluster.start(timeout=30)
    finally:
        held.close()
    message = str(failed.value)
    assert f"taken did not start on port {cluster.port}" in message
    assert "pg_ctl: could not start server" in message
    assert "Address already in use" in message  # from the server's log, now part of the error
    cluster.logfile.unlink()  # the log is gone (a test's temporary directory): the error still explains
    assert "Address already in use" in message


def test_a_taken_port_is_replaced_when_the_caller_allows_it(cluster: PostgresCluster) -> None:
    planned = cluster.port
    held = squat(planned)
    try:
        cluster.start(timeout=30, move_if_taken=True)
        cluster.wait_ready()
        assert cluster.port != planned
        assert cluster.sql("SHOW port") == [(str(cluster.port),)]
        assert f"port = {cluster.port}" in (cluster.datadir / "drillbook.conf").read_text()
        cluster.stop()
        cluster.start(timeout=30)  # and it stays there across restarts
        assert cluster.sql("SHOW port") == [(str(cluster.port),)]
    finally:
        held.close()


@contextmanager
def squatting_recorded_ports(state_file: Path, names: tuple[str, ...]) -> Iterator[dict[str, int]]:
    """Take each named server's port the moment the environment records it, before it binds it."""
    taken: dict[str, int] = {}
    sockets: list[socket.socket] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set() and len(taken) < len(names):
            try:
                clusters = json.loads(state_file.read_text()).get("clusters", {})
            except (OSError, ValueError):
                clusters = {}
            for name in names:
                if name in clusters and name not in taken:
                    try:
                        sockets.append(squat(clusters[name]["port"]))
                        taken[name] = clusters[name]["port"]
                    except OSError:
                        taken[name] = -1  # the server was quicker: this run proves nothing for it
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield taken
    finally:
        stop.set()
        watcher.join(5)
        for sock in sockets:
            sock.close()


def test_the_environment_starts_when_its_database_ports_are_taken_before_they_are_bound() -> None:
    with server_tmp("env-ports") as root:
        env = LocalEnvironment(root / "local", settings=LocalSettings(snapshot_interval_s=0))
        with squatting_recorded_ports(root / "local" / STATE_FILE, ("primary", "dr-replica")) as taken:
            try:
                assert env.up()
                assert set(taken) == {"primary", "dr-replica"} and -1 not in taken.values(), taken
                record = env.state.read()
                assert record is not None
                primary, replica = record.clusters["primary"].port, record.clusters["dr-replica"].port
                assert primary != taken["primary"] and replica != taken["dr-replica"]
                proxies = LocalNetwork(str(record.facts["toxiproxy_url"])).client.proxies()
                assert proxies[APP_DB].upstream == f"127.0.0.1:{primary}"
                assert proxies[APP_DB_DR].upstream == f"127.0.0.1:{replica}"
                config = json.loads((root / "local" / "toxiproxy.json").read_text())
                assert {c["name"]: c["upstream"] for c in config}[APP_DB_DR] == f"127.0.0.1:{replica}"
                assert all(row.health == "healthy" for row in env.status()), env.status()
                assert env.local_replica.lag().state == "streaming"
            finally:
                assert env.down().clean
