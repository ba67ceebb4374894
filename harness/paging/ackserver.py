"""The acknowledgement server: a small local HTTP server the paged person (or
``drillbook ack``) calls to say "I am on it".

    POST|GET /ack/<run_id>?key=<key>[&by=<name>]   -> 200 {"acked": true, "first": bool}
    GET      /status/<run_id>                        -> 200 {"acked": bool}

The key (sent in the page, and kept 0600 for ``drillbook ack``) makes an
acknowledgement unforgeable; it is also accepted as the ``X-Drillbook-Ack-Key``
header. Wrong key: 403; unknown run: 404. The first acknowledgement counts,
timed with ``time.monotonic()`` when it arrives.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: Seconds a client may take to send its request: a stalled client cannot block others.
REQUEST_TIMEOUT = 5.0


@dataclass(frozen=True)
class Ack:
    by: str
    mono: float
    source: str  # "http" or "cli"


class AckServer:
    def __init__(self, run_id: str, key: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.run_id = run_id
        self._key = key
        self._ack: Ack | None = None
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="drillbook-ack", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def ack_url(self, base: str | None = None) -> str:
        return f"{(base or self.url).rstrip('/')}/ack/{self.run_id}?key={self._key}"

    def start(self) -> AckServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> AckServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def ack(self) -> Ack | None:
        return self._ack

    def wait(self, timeout: float) -> Ack | None:
        """The acknowledgement, waiting up to ``timeout`` seconds for it."""
        self._event.wait(max(0.0, timeout))
        return self._ack

    def _record(self, by: str, source: str) -> bool:
        with self._lock:
            if self._ack is not None:
                return False
            self._ack = Ack(by=by[:120], mono=time.monotonic(), source=source)
        self._event.set()
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = REQUEST_TIMEOUT

            def do_GET(self) -> None:
                self._route()

            def do_POST(self) -> None:
                self._route()

            def _route(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                segments = [s for s in parts.path.split("/") if s]
                if len(segments) != 2 or segments[1] != server.run_id:
                    return self._reply(404, {"error": "unknown run"})
                if segments[0] == "status":
                    return self._reply(200, {"acked": server.ack is not None})
                if segments[0] != "ack":
                    return self._reply(404, {"error": "unknown path"})
                body = self._body()
                key = self.headers.get("X-Drillbook-Ack-Key") or query.get("key") or str(body.get("key", ""))
                if not hmac.compare_digest(key.encode(), server._key.encode()):
                    return self._reply(403, {"error": "wrong acknowledgement key"})
                by = str(body.get("by") or query.get("by") or "unknown")
                source = str(body.get("source") or query.get("source") or "http")
                first = server._record(by, "cli" if source == "cli" else "http")
                return self._reply(200, {"acked": True, "first": first})

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                if not length or length > 65536:
                    return {}
                try:
                    data = json.loads(self.rfile.read(length))
                except ValueError:
                    return {}
                return data if isinstance(data, dict) else {}

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                # The request line carries the key: never log it.
                return

        return Handler
