"""Real servers for tests: a plain HTTP server in its own process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from drillbook.harness import procs
from drillbook.twin.postgres import free_port


@dataclass
class HttpServer:
    port: int
    argv: list[str]
    pidfile: Path
    directory: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def pid(self) -> int:
        return int(self.pidfile.read_text().split()[0])

    def up(self, timeout: float = 0.5) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=timeout) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def start(self) -> HttpServer:
        proc = subprocess.Popen(
            self.argv,
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pidfile.write_text(f"{proc.pid} {procs.start_ticks(proc.pid)}\n")
        deadline = time.monotonic() + 10
        while not self.up():
            if time.monotonic() > deadline:
                raise RuntimeError("test HTTP server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        try:
            pid = self.pid
        except (FileNotFoundError, ValueError):
            return
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
        procs.wait_gone(pid, 5)


def http_server(tmp: Path) -> HttpServer:
    port = free_port()
    www = tmp / "www"
    www.mkdir(exist_ok=True)
    (www / "index.html").write_text("ok\n")
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    return HttpServer(port, argv, tmp / "http.pid", www).start()
