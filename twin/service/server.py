"""HTTP for the Compliant API: routing, JSON in and out, request logs, graceful stop.

HTTP/1.1 with keep-alive, so the front door can reuse its upstream connections.
Each request is one line in the replica's log (method, path, status, time): the
log ``kubectl logs`` would show, which the DR procedures grep for 401/403.
"""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from drillbook.twin.service.api import ApiError, Caller, Reply, Service

MAX_BODY = 1 << 20
_PROJECT = re.compile(r"^/api/projects/(\d+)$")
_UNAUDITED = ("/api/health", "/livez")


class ServiceServer(ThreadingHTTPServer):
    # server_close() waits for the requests in flight: a graceful stop loses none.
    daemon_threads = False
    block_on_close = True
    # Many short connections from probes and the front door.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], service: Service) -> None:
        self.service = service
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    server: ServiceServer
    protocol_version = "HTTP/1.1"
    # An idle keep-alive connection must not hold a graceful stop up for long.
    timeout = 5
    server_version = "compliant-api"
    sys_version = ""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        start = time.monotonic()
        service = self.server.service
        url = urllib.parse.urlsplit(self.path)
        caller = Caller(self._client_ip(), self.headers.get("User-Agent"), f"{method} {url.path}",
                        self.headers.get("Authorization"))
        try:
            payload = self._json_body() if method in ("POST", "PUT", "PATCH") else {}
            if service.config.is_blocked(caller.ip_address) and url.path not in _UNAUDITED:
                raise ApiError("forbidden", "requests from this address are blocked (BLOCKED_IPS)")
            reply = self._route(service, method, url, payload, caller)
        except ApiError as exc:
            reply = exc.reply()
        except Exception as exc:  # a bug must answer 500, not drop the connection
            reply = Reply(500, {"error": "internal", "message": f"{type(exc).__name__}: {exc}"})
        self._send(reply)
        if service.config.audit_all_requests and url.path not in _UNAUDITED:
            service.audit_request(caller, reply.status)
        # Probes would drown the log, unless LOG_LEVEL=debug asks for everything.
        if service.config.log_level == "debug" or not (url.path in _UNAUDITED and reply.status == 200):
            self._log(method, url.path, reply.status, start)

    @staticmethod
    def _route(service: Service, method: str, url: urllib.parse.SplitResult, payload: dict[str, Any],
               caller: Caller) -> Reply:
        path = url.path.rstrip("/") or "/"
        query = dict(urllib.parse.parse_qsl(url.query))
        if path == "/api/health":
            return _only(method, "GET") or service.health()
        if path == "/livez":
            return _only(method, "GET") or Reply(200, {"status": "alive"})
        if path == "/api/auth/login":
            return _only(method, "POST") or service.login(payload, caller)
        if path == "/api/projects":
            if method == "GET":
                return service.list_projects(query, caller)
            return _only(method, "POST") or service.create_project(payload, caller)
        match = _PROJECT.match(path)
        if match:
            project_id = int(match.group(1))
            if method == "GET":
                return service.get_project(project_id, caller)
            if method in ("PUT", "PATCH"):
                return service.update_project(project_id, payload, caller)
            return _only(method, "DELETE") or service.delete_project(project_id, caller)
        raise ApiError("not_found", f"no route {method} {url.path}")

    def _json_body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError("bad_request", "bad Content-Length") from None
        if length > MAX_BODY:
            raise ApiError("payload_too_large", f"request body over {MAX_BODY} bytes")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise ApiError("bad_request", "request body is not JSON") from None
        if not isinstance(value, dict):
            raise ApiError("bad_request", "request body must be a JSON object")
        return value

    def _client_ip(self) -> str:
        peer = str(self.client_address[0])
        forwarded = self.headers.get("X-Forwarded-For")
        # Only the local front door (loopback) is trusted to say who the client was, and only
        # in the entry it appended itself (the last): the ones before came from the client.
        if forwarded and peer.startswith("127."):
            return forwarded.split(",")[-1].strip()
        return peer

    def _send(self, reply: Reply) -> None:
        body = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Replica", self.server.service.config.replica)
        self.end_headers()
        self.wfile.write(body)

    def _log(self, method: str, path: str, status: int, start: float) -> None:
        line = (f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}Z {method} {path} {status} "
                f"{(time.monotonic() - start) * 1000:.1f}ms ip={self._client_ip()}\n")
        sys.stderr.write(line)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request comes from _log


def _only(method: str, allowed: str) -> Reply | None:
    if method != allowed:
        raise ApiError("method_not_allowed", f"use {allowed}")
    return None
