"""The front door: the platform's load balancer, an HTTP reverse proxy on one port.

For each request it takes the pool named by the API's Route 53 record
(:mod:`frontdoor_dns`), the ready pods of that pool's deployment (the
supervisor's ``endpoints.json``: readiness gates traffic) and forwards to them
in turn. A pod that refuses the connection is skipped for the next one; no
ready pod answers 503, an upstream that fails mid-request 502, both with JSON
detail. ``GET /__frontdoor`` describes what it routes to and why.

``python -m drillbook.twin.frontdoor --config FILE`` where FILE is
the JSON form of :class:`FrontDoorConfig`; it records its pid, start time and
URL in ``FrontDoorConfig.info_file``.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from drillbook.harness import procs
from drillbook.twin.frontdoor_dns import RecordWatcher, normalise

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                        "trailers", "transfer-encoding", "upgrade", "content-length", "host"})
STATUS_PATH = "/__frontdoor"
IDEMPOTENT = frozenset({"GET", "HEAD"})


@dataclass
class FrontDoorConfig:
    endpoints_file: str
    info_file: str
    hosted_zone_id: str
    record_name: str
    #: record value (CNAME/alias target or address) -> deployment serving it
    pools: dict[str, str]
    aws_endpoint: str | None = None
    region: str = "us-east-1"
    port: int = 0
    dns_interval_s: float = 0.5
    dns_timeout_s: float = 1.0
    connect_timeout_s: float = 1.0
    upstream_timeout_s: float = 10.0
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> FrontDoorConfig:
        return cls(**json.loads(path.read_text()))


class Endpoints:
    """The supervisor's ``endpoints.json``, re-read whenever it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: int | None = None
        self._data: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self) -> dict[str, Any]:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return {}
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._data = json.loads(self.path.read_text()).get("deployments", {})
                    self._stamp = stamp
                except ValueError:
                    pass  # replaced atomically, so only a torn read of an old inode: keep the last
            return self._data


class FrontDoor(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, config: FrontDoorConfig) -> None:
        self.config = config
        self.pools = {normalise(k): v for k, v in config.pools.items()}
        self.endpoints = Endpoints(Path(config.endpoints_file))
        self.dns = RecordWatcher(endpoint=config.aws_endpoint, region=config.region,
                                 hosted_zone_id=config.hosted_zone_id, record_name=config.record_name,
                                 interval_s=config.dns_interval_s, timeout_s=config.dns_timeout_s)
        self._turn = itertools.count()
        self.counts: dict[str, int] = {}
        self._count_lock = threading.Lock()
        super().__init__(("127.0.0.1", config.port), _Handler)

    def route(self) -> tuple[str | None, list[dict[str, Any]], dict[str, Any]]:
        """(deployment, its ready pods rotated for this request, why) from DNS and endpoints."""
        answer = self.dns.answer
        why: dict[str, Any] = {"record": self.dns.record_name, "value": answer.value,
                               "dns_age_s": round(time.monotonic() - answer.read_at, 3),
                               "dns_error": answer.error or self.dns.last_error}
        deployment = self.pools.get(answer.value) if answer.value else None
        why["pool"] = deployment
        if deployment is None:
            return None, [], why
        pool = self.endpoints.get().get(deployment, {})
        ready = list(pool.get("ready", []))
        why["not_ready"] = pool.get("not_ready", [])
        if ready:
            start = next(self._turn) % len(ready)
            ready = ready[start:] + ready[:start]
        return deployment, ready, why

    def count(self, key: str) -> None:
        with self._count_lock:
            self.counts[key] = self.counts.get(key, 0) + 1


class _Handler(BaseHTTPRequestHandler):
    server: FrontDoor
    protocol_version = "HTTP/1.1"
    server_version = "drillbook-frontdoor"
    sys_version = ""

    def do_GET(self) -> None:
        if self.path.split("?")[0].rstrip("/") == STATUS_PATH:
            self._status()
        else:
            self._proxy("GET")

    def do_HEAD(self) -> None:
        self._proxy("HEAD")

    def do_POST(self) -> None:
        self._proxy("POST")

    def do_PUT(self) -> None:
        self._proxy("PUT")

    def do_PATCH(self) -> None:
        self._proxy("PATCH")

    def do_DELETE(self) -> None:
        self._proxy("DELETE")

    def _proxy(self, method: str) -> None:
        start = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        deployment, ready, why = self.server.route()
        if deployment is None:
            self._json(503, {"error": "no_pool", "message": _no_pool(why, self.server.pools), **why}, start)
            return
        if not ready:
            self._json(503, {"error": "no_ready_replicas",
                             "message": f"no ready replica in pool {deployment!r}", **why}, start)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        forwarded = self.headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{forwarded}, {self.client_address[0]}" if forwarded else \
            str(self.client_address[0])
        refused: list[str] = []
        for pod in ready:
            host, port = pod["url"].removeprefix("http://").rsplit(":", 1)
            conn = http.client.HTTPConnection(host, int(port), timeout=self.server.config.connect_timeout_s)
            try:
                conn.connect()
            except OSError as exc:
                refused.append(f"{pod['name']}: {exc}")
                conn.close()
                continue  # nothing was sent: safe to try the next pod, whatever the method
            try:
                conn.sock.settimeout(self.server.config.upstream_timeout_s)  # type: ignore[union-attr]
                conn.request(method, self.path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                failure = f"{pod['name']} failed mid-request: {type(exc).__name__}: {exc}"
                if method in IDEMPOTENT and not isinstance(exc, TimeoutError):
                    refused.append(failure)  # as nginx's proxy_next_upstream: retry a safe request
                    continue
                self._json(502, {"error": "bad_gateway", "message": failure, "replica": pod["name"], **why},
                           start)
                return
            finally:
                conn.close()
            self._relay(response, payload, deployment, pod["name"], start)
            return
        broke = any("mid-request" in r for r in refused)
        self._json(502 if broke else 503,
                   {"error": "bad_gateway" if broke else "no_ready_replicas",
                    "message": f"no ready replica of {deployment!r} answered", "failures": refused, **why},
                   start)

    def _relay(self, response: http.client.HTTPResponse, payload: bytes, pool: str, replica: str,
               start: float) -> None:
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP and key.lower() not in ("server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Frontdoor-Pool", pool)
        self.send_header("X-Frontdoor-Upstream", replica)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.server.count(f"{pool} {response.status}")
        self._log(response.status, start, f"{pool}/{replica}")

    def _status(self) -> None:
        deployment, ready, why = self.server.route()
        self._json(200, {"pool": deployment, "ready": ready, "pools": self.server.pools,
                         "requests": dict(self.server.counts), **why}, None)

    def _json(self, status: int, body: dict[str, Any], start: float | None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)
        if start is not None:
            self.server.count(f"{body.get('pool')} {status}")
            self._log(status, start, str(body.get("error", "")))

    def _log(self, status: int, start: float, where: str) -> None:
        sys.stderr.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}Z {self.command} "
                         f"{self.path.split('?')[0]} {status} {(time.monotonic() - start) * 1000:.1f}ms "
                         f"{where}\n")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _no_pool(why: dict[str, Any], pools: dict[str, str]) -> str:
    if why["value"] is None:
        return f"the DNS record {why['record']} does not resolve ({why['dns_error']})"
    return (f"the DNS record {why['record']} points at {why['value']!r}, which is no pool "
            f"(pools: {', '.join(f'{k} -> {v}' for k, v in pools.items())})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drillbook-frontdoor", description=__doc__)
    parser.add_argument("--config", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        config = FrontDoorConfig.load(args.config)
        server = FrontDoor(config)
    except (OSError, ValueError, TypeError) as exc:
        sys.stderr.write(f"front door cannot start: {exc}\n")
        return 78
    server.dns.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    info = {"pid": os.getpid(), "ticks": procs.start_ticks(os.getpid()), "url": url, "label": config.label,
            "config": asdict(config)}
    tmp = Path(config.info_file + ".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(config.info_file)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.stderr.write(f"front door on {url}: {config.record_name} -> pools {config.pools}\n")
    server.serve_forever(poll_interval=0.2)
    server.dns.stop()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
