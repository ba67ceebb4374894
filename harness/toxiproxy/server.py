"""Running the toxiproxy-compatible server: in a background thread of this
process (:class:`ToxiproxyServer`, for tests and benchmarks) or as the whole
process (:func:`serve`, for ``drillbook toxiproxy-server``)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import json
import logging
import selectors
import signal
import threading
from pathlib import Path
from types import TracebackType

from drillbook.harness.toxiproxy.api import Api
from drillbook.harness.toxiproxy.collection import ProxyCollection
from drillbook.harness.toxiproxy.errors import ApiError, ServerStartError
from drillbook.harness.toxiproxy.http import HttpServer
from drillbook.harness.toxiproxy.reactor import new_event_loop

log = logging.getLogger("drillbook.toxiproxy")

DEFAULT_PORT = 8474


class App:
    """The proxies and the API over them, on one event loop (from :func:`new_event_loop`)."""

    def __init__(self, selector: selectors.BaseSelector) -> None:
        self.proxies = ProxyCollection(selector)
        self.http = HttpServer(Api(self.proxies))
        self.host = ""
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        try:
            self.host, self.port = await self.http.start(host, port)
        except OSError as exc:
            raise ServerStartError(_bind_error(host, port, exc)) from exc
        log.info("toxiproxy-server listening on http://%s:%d (API %s)", host, self.port, "toxiproxy 2.x")

    async def populate(self, config: Path) -> None:
        """Create the proxies listed in a toxiproxy ``-config`` JSON file."""
        try:
            body = json.loads(config.read_text())
        except (OSError, ValueError) as exc:
            raise ServerStartError(f"cannot read proxies from {config}: {exc}") from exc
        try:
            proxies = await self.proxies.populate(body)
        except ApiError as exc:
            raise ServerStartError(f"cannot create the proxies of {config}: {exc.message}") from exc
        log.info("populated %d proxies from %s", len(proxies), config)

    async def close(self) -> None:
        await self.http.close()
        await self.proxies.close()


def _bind_error(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {host}:{port}: the port is already in use (another toxiproxy-server? "
            f"try `curl http://{host}:{port}/version`); stop it or choose another --port"
        )
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


class ToxiproxyServer:
    """The server in a background thread with its own event loop.

    ``port=0`` picks a free port; :attr:`url` is the API's address once started.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ToxiproxyServer:
        if self._thread is not None:
            return self
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(started,), name="toxiproxy-server", daemon=True
        )
        self._thread.start()
        try:
            started.result(timeout)
        except BaseException:
            self._thread.join(timeout)
            self._thread = None
            raise
        return self

    def _run(self, started: concurrent.futures.Future[None]) -> None:
        loop, selector = new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(started, selector))
        finally:
            loop.close()

    async def _main(self, started: concurrent.futures.Future[None], selector: selectors.BaseSelector) -> None:
        app = App(selector)
        self._stop = asyncio.Event()
        try:
            await app.start(self.host, self.port)
        except BaseException as exc:
            started.set_exception(exc)
            return
        self.port = app.port
        started.set_result(None)
        try:
            await self._stop.wait()
        finally:
            await app.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Cut every connection, close every listener and end the thread (idempotent)."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)
        if thread.is_alive():
            raise ServerStartError(f"toxiproxy server thread did not stop within {timeout:.0f}s")
        self._thread = None

    def __enter__(self) -> ToxiproxyServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, config: Path | None = None) -> None:
    """Run the server in the foreground until SIGTERM or SIGINT, then stop cleanly."""
    loop, selector = new_event_loop()
    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        runner.run(_serve(host, port, config, selector))


async def _serve(host: str, port: int, config: Path | None, selector: selectors.BaseSelector) -> None:
    app = App(selector)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        # The config's proxies listen before the API answers (as toxiproxy populates before it
        # listens): whoever waits for /version finds them there.
        if config is not None:
            await app.populate(config)
        await app.start(host, port)
        await stop.wait()
        log.info("toxiproxy-server stopping: closing proxies and cutting connections")
    finally:
        await app.close()
    log.info("toxiproxy-server stopped")
