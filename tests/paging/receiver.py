"""A real HTTP webhook receiver for paging tests: it records every page and, like a
person with a pager, may acknowledge it by calling the page's ``ack_url``."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Page:
    at: float  # time.monotonic() on arrival
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    """``ack_after[level]``: seconds after which that level's page is acknowledged
    (absent: the level never answers). ``statuses``: answers to give, in order,
    before answering 200 (503 twice then 200 tests the retries). ``reject_levels``:
    levels answered 400 (a page that cannot be delivered)."""

    ack_after: dict[int, float] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)
    reject_levels: set[int] = field(default_factory=set)
    delay: float = 0.0
    ack_by: str = "pager"
    pages: list[Page] = field(default_factory=list)
    attempts: int = 0
    acks: list[tuple[int, int]] = field(default_factory=list)  # (level, HTTP status of the ack call)
    url: str = ""

    def handle(self, headers: dict[str, str], body: dict[str, Any]) -> int:
        self.attempts += 1
        if self.delay:
            time.sleep(self.delay)
        if self.statuses:
            return self.statuses.pop(0)
        level = int(body.get("level", 0))
        if level in self.reject_levels:
            return 400
        self.pages.append(Page(time.monotonic(), headers, body))
        if level in self.ack_after:
            threading.Thread(target=self._ack, args=(level, body["ack_url"]), daemon=True).start()
        return 200

    def _ack(self, level: int, url: str) -> None:
        time.sleep(self.ack_after[level])
        try:
            with urllib.request.urlopen(f"{url}&by={self.ack_by}", timeout=5) as response:
                self.acks.append((level, response.status))
        except urllib.error.HTTPError as exc:
            self.acks.append((level, exc.code))
        except OSError:
            self.acks.append((level, 0))


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 10

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status = receiver.handle(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/page"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
