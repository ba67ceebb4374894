"""Start one replica of the Compliant API: configuration, secrets, then serve.

Exit status: 78 (EX_CONFIG) for a missing or bad environment variable, 1 when a
secret cannot be read or the port cannot be bound, 0 after SIGTERM (graceful).
A database or Redis that is down at start does not stop it: the replica starts
unready (``/api/health`` answers 503) and becomes ready when they come back.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING

from drillbook.twin.service.awssecrets import SecretError, SecretsClient
from drillbook.twin.service.breaker import MODES, CacheBreaker
from drillbook.twin.service.config import EX_CONFIG, ConfigError, ServiceConfig

if TYPE_CHECKING:
    from drillbook.twin.service.api import Secrets


def main(argv: Sequence[str] | None = None) -> int:
    started = time.monotonic()
    parser = argparse.ArgumentParser(prog="compliant-api", description=__doc__)
    parser.add_argument("--require", action="append", default=[], metavar="NAME",
                        help="an extra environment variable this version cannot start without")
    parser.add_argument("--cache-breaker", choices=MODES, default="retry",
                        help="what the release does with Redis after trouble (see breaker.py)")
    args = parser.parse_args(argv)
    try:
        config = ServiceConfig.from_env(os.environ, args.require)
    except ConfigError as exc:
        return fail(f"configuration error: {exc}", EX_CONFIG)
    # The service itself (psycopg, redis) is imported only once the configuration is
    # good: a replica with a missing variable exits in a third of the time.
    from drillbook.twin.service.api import Service
    from drillbook.twin.service.server import ServiceServer

    try:
        secrets = load_secrets(config)
    except SecretError as exc:
        return fail(f"cannot start: {exc}", 1)
    service = Service(config, secrets, breaker=CacheBreaker(args.cache_breaker))
    try:
        server = ServiceServer((config.host, config.port), service)
    except OSError as exc:
        service.close()
        return fail(f"cannot listen on {config.host}:{config.port}: {exc}", 1)
    def drain_then_stop() -> None:
        # Like a preStop pause: keep serving while the load balancer drops this replica
        # (the supervisor removes it from the endpoints as it sends SIGTERM), then stop.
        service.draining.set()
        time.sleep(config.drain_s)
        server.shutdown()

    stop_on_sigterm(drain_then_stop)
    say(f"compliant-api {config.version} replica={config.replica} zone={config.zone or '-'} "
         f"listening on http://{config.host}:{config.port} read_only={config.read_only} "
         f"(started in {(time.monotonic() - started) * 1000:.0f}ms)")
    try:
        server.serve_forever(poll_interval=0.05)  # shutdown() waits for one poll
    finally:
        server.server_close()
        service.close()
    say("stopped (SIGTERM)")
    return 0


def load_secrets(config: ServiceConfig) -> Secrets:
    from drillbook.twin.service.api import Secrets

    client = SecretsClient.from_env(os.environ, timeout=config.secrets_timeout_s)
    return Secrets(
        jwt=client.get(config.jwt_secret_id),
        db_password=client.get(config.db_password_secret_id),
        encryption_key=client.get(config.encryption_key_secret_id),
    )


def stop_on_sigterm(shutdown: Callable[[], None]) -> None:
    """SIGTERM/SIGINT stop the server loop (from another thread: shutdown() blocks)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def exit_now(status: int) -> None:
    """End the process once :func:`main` returned: the server, the pools and the
    connections are closed by then, so the interpreter's own teardown (0.13 s of
    freeing modules here, paid on every pod stop of every rollout) is skipped."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status)


def say(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}Z {message}\n")
    sys.stderr.flush()


def fail(message: str, status: int) -> int:
    say(message)
    return status
