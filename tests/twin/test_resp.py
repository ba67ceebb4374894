"""The service's Redis client against a real redis-server (redis-py, the reference
client, checks what it wrote)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from drillbook.twin.postgres import free_port
from drillbook.twin.redis import RedisServer
from drillbook.twin.service.config import ConfigError, ServiceConfig
from drillbook.twin.service.resp import Redis, RedisError, ReplyError
from drillbook.twin.service.worker import WorkerConfig


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    started = RedisServer(Path(tmp_path_factory.mktemp("resp")) / "redis").start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def reference(server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis(port=server.port, socket_timeout=5)
    client.flushall()
    yield client
    client.close()


def test_set_with_expiry_get_and_ping(server: RedisServer, reference: redis.Redis) -> None:
    client = Redis(server.url, timeout=2.0)
    assert client.ping() is True
    value = '{"email": "a@example.com", "note": "line\\r\\nbreak é"}'
    client.set("session:a", value, ex=60)
    assert client.get("session:a") == value.encode()
    assert reference.get("session:a") == value.encode()
    assert 0 < reference.ttl("session:a") <= 60
    client.set("plain", "x")
    assert reference.ttl("plain") == -1
    assert client.get("missing") is None
    client.close()


def test_an_error_reply_raises_and_keeps_the_connection(server: RedisServer, reference: redis.Redis) -> None:
    client = Redis(server.url, timeout=2.0)
    with pytest.raises(ReplyError, match="unknown command"):
        client.execute("NOSUCHCOMMAND")
    assert client.ping()
    assert reference.client_list()  # the server still talks
    assert len(client._idle) == 1  # one connection, reused after the error
    client.close()


def test_the_database_number_and_the_password_are_used(server: RedisServer, reference: redis.Redis) -> None:
    Redis(f"redis://127.0.0.1:{server.port}/2", timeout=2.0).set("k", "in db 2")
    assert reference.get("k") is None
    assert redis.Redis(port=server.port, db=2).get("k") == b"in db 2"
    reference.config_set("requirepass", "s3cret")
    try:
        assert Redis(f"redis://:s3cret@127.0.0.1:{server.port}/0", timeout=2.0).ping()
        with pytest.raises(ReplyError):
            Redis(f"redis://:wrong@127.0.0.1:{server.port}/0", timeout=2.0).ping()
        with pytest.raises(ReplyError, match="NOAUTH"):
            Redis(server.url, timeout=2.0).ping()
    finally:
        redis.Redis(port=server.port, password="s3cret").config_set("requirepass", "")


def test_a_connection_the_server_closed_while_idle_is_not_reused(
    server: RedisServer, reference: redis.Redis
) -> None:
    client = Redis(server.url, timeout=2.0)
    client.set("k", "v")
    killed = reference.client_kill_filter(_type="normal", skipme=True)
    assert killed >= 1
    time.sleep(0.05)
    assert client.get("k") == b"v"  # a new connection, not an error


def test_a_user_and_password_are_sent_as_auth_user_password(
    server: RedisServer, reference: redis.Redis
) -> None:
    reference.acl_setuser("drill", enabled=True, passwords=["+p/ss"], commands=["+@all"], keys=["*"])
    try:
        assert Redis(f"redis://drill:p%2Fss@127.0.0.1:{server.port}/0", timeout=2.0).ping()
        with pytest.raises(ReplyError, match="WRONGPASS"):
            Redis(f"redis://drill:nope@127.0.0.1:{server.port}/0", timeout=2.0).ping()
    finally:
        reference.acl_deluser("drill")


def test_an_error_inside_an_array_reply_drops_the_connection() -> None:
    """A reply ``*2`` whose first element is an error: the second is still unread, so the
    connection cannot serve the next caller."""
    with socket.socket() as fake:
        fake.bind(("127.0.0.1", 0))
        fake.listen()

        def answer() -> None:
            conn, _ = fake.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(b"*2\r\n-ERR first\r\n:2\r\n")
                conn.recv(1024)

        serving = threading.Thread(target=answer, daemon=True)
        serving.start()
        client = Redis(f"redis://127.0.0.1:{fake.getsockname()[1]}/0", timeout=1.0)
        with pytest.raises(RedisError, match="inside an array") as raised:
            client.execute("EXEC")
        assert not isinstance(raised.value, ReplyError)
        assert client._idle == []
        serving.join(2)


def test_a_refused_connection_fails_at_once() -> None:
    client = Redis(f"redis://127.0.0.1:{free_port()}/0", timeout=2.0)
    began = time.monotonic()
    with pytest.raises(RedisError, match="cannot connect"):
        client.ping()
    assert time.monotonic() - began < 1.0


def test_a_server_that_never_answers_fails_within_the_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client = Redis(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", timeout=0.3)
        began = time.monotonic()
        with pytest.raises(RedisError, match="Timeout"):
            client.get("k")
        assert time.monotonic() - began < 1.0
        assert client._idle == []  # a connection that timed out is not reused


def test_a_server_that_goes_away_fails_the_call_and_the_next_one_reconnects(tmp_path: Path) -> None:
    one = RedisServer(tmp_path / "one").start()
    client = Redis(one.url, timeout=1.0)
    try:
        client.set("k", "v")
        one.stop()
        with pytest.raises(RedisError):
            client.get("k")
        again = RedisServer(tmp_path / "again", port=one.port).start()
        try:
            assert client.ping()
        finally:
            again.stop()
    finally:
        one.stop()


def test_threads_share_the_client(server: RedisServer, reference: redis.Redis) -> None:
    client = Redis(server.url, timeout=5.0)
    failures: list[str] = []

    def work(n: int) -> None:
        for i in range(100):
            client.set(f"t{n}:{i}", f"{n}-{i}", ex=60)
            if client.get(f"t{n}:{i}") != f"{n}-{i}".encode():
                failures.append(f"t{n}:{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert reference.dbsize() == 800
    assert 1 <= len(client._idle) <= 8
    client.close()
    assert client._idle == []


@pytest.mark.parametrize(
    "url",
    [
        "http://:pw-secret@127.0.0.1:6379/0",
        "redis://:pw-secret@127.0.0.1:6379/zero",
        "redis:///0",
        "rediss://:pw-secret@127.0.0.1/0",
        "redis://:pw-secret@127.0.0.1:99999/0",
        "redis://user:pw/pw-secret@127.0.0.1:6379/0",
        "redis://127.0.0.1:6379/\u00b2",
    ],
)
def test_a_url_that_is_not_redis_is_refused_without_showing_the_password(url: str) -> None:
    with pytest.raises(ValueError) as refused:
        Redis(url, timeout=1.0)
    assert "REDIS_URL" in str(refused.value)
    assert "pw-secret" not in str(refused.value)
    env = {
        "PORT": "8000",
        "DATABASE_URL": "postgresql://app@127.0.0.1/db",
        "REDIS_URL": url,
        "JWT_SECRET_ID": "j",
        "DB_PASSWORD_SECRET_ID": "d",
        "ENCRYPTION_KEY_SECRET_ID": "e",
    }
    with pytest.raises(ConfigError, match="REDIS_URL") as bad_config:  # the replica exits 78
        ServiceConfig.from_env(env)
    assert "pw-secret" not in str(bad_config.value)
    with pytest.raises(ConfigError, match="REDIS_URL") as bad_worker:  # so does a worker
        WorkerConfig.from_env(env)
    assert "pw-secret" not in str(bad_worker.value)
