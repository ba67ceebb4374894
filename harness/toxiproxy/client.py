"""A typed client of the Toxiproxy 2.x HTTP API, with a timeout on every call.

It speaks to the real toxiproxy and to drillbook's server alike. Errors are
drillbook errors that name the problem: :class:`ToxiproxyNotFound` (404),
:class:`ToxiproxyConflict` (409), :class:`ToxiproxyBadRequest` (400) and
:class:`ToxiproxyUnavailable` when nothing (or not toxiproxy) answers.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from drillbook.harness.calls.scope import current, now_iso, record
from drillbook.harness.calls.toxiproxy import describe
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.polling import WaitTimeout, wait_until
from drillbook.harness.toxiproxy.errors import (
    ToxiproxyBadRequest,
    ToxiproxyConflict,
    ToxiproxyError,
    ToxiproxyNotFound,
    ToxiproxyUnavailable,
)

DEFAULT_URL = "http://127.0.0.1:8474"
STREAMS = ("upstream", "downstream")


@dataclass(frozen=True)
class ToxicInfo:
    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ToxicInfo:
        return cls(
            str(data["name"]),
            str(data["type"]),
            str(data["stream"]),
            float(data.get("toxicity", 1.0)),
            dict(data.get("attributes") or {}),
        )


@dataclass(frozen=True)
class ProxyInfo:
    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: tuple[ToxicInfo, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProxyInfo:
        return cls(
            str(data["name"]),
            str(data["listen"]),
            str(data["upstream"]),
            bool(data["enabled"]),
            tuple(ToxicInfo.from_json(t) for t in data.get("toxics") or ()),
        )

    @property
    def listen_port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def listen_host(self) -> str:
        host = self.listen.rpartition(":")[0].strip("[]")
        return "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host


_ERRORS: dict[int, type[ToxiproxyError]] = {
    400: ToxiproxyBadRequest,
    404: ToxiproxyNotFound,
    409: ToxiproxyConflict,
}


class ToxiproxyClient:
    def __init__(self, url: str = DEFAULT_URL, *, timeout: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidDrillConfig(f"toxiproxy URL {url!r} must start with http:// (like {DEFAULT_URL})")
        if timeout <= 0:
            raise InvalidDrillConfig(f"toxiproxy client timeout must be positive, got {timeout}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        # Never send API calls through an HTTP proxy taken from the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __repr__(self) -> str:
        return f"ToxiproxyClient({self.url!r}, timeout={self.timeout})"

    # -- transport ---------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        target = current()
        if target is None:
            return self._request(method, path, body)
        operation, params = describe(method, path)
        started, at = time.monotonic(), now_iso()
        outcome = "ok"
        try:
            return self._request(method, path, body)
        except ToxiproxyError as exc:
            outcome = str(exc.status or type(exc).__name__)
            raise
        finally:
            record(target, service="toxiproxy", operation=operation, permission="", params=params,
                   started=started, at=at, outcome=outcome, request_id=None)

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "drillbook-toxiproxy-client",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise self._error(method, path, exc.code, exc.read()) from None
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ToxiproxyUnavailable(
                f"toxiproxy at {self.url} did not answer {method} {path} "
                f"within {self.timeout:g}s ({reason}); is it running? "
                "start one with `drillbook toxiproxy-server` or fix the URL"
            ) from exc
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ToxiproxyUnavailable(
                f"{self.url} answered {method} {path} with something that is not JSON; is it toxiproxy?"
            ) from exc

    def _error(self, method: str, path: str, status: int, raw: bytes) -> ToxiproxyError:
        try:
            message = str(json.loads(raw).get("error") or raw.decode(errors="replace").strip())
        except (ValueError, AttributeError):
            message = raw.decode(errors="replace").strip()
        cls = _ERRORS.get(status, ToxiproxyError)
        return cls(f"toxiproxy {method} {path}: {status} {message}", status)

    @staticmethod
    def _name(value: str) -> str:
        if not value:
            raise InvalidDrillConfig("a proxy or toxic name must not be empty")
        return quote(value, safe="")

    # -- server ------------------------------------------------------------------

    def version(self) -> str:
        answer = self._call("GET", "/version")
        return str(answer.get("version") if isinstance(answer, dict) else answer)

    def wait_ready(self, timeout: float = 10.0) -> str:
        """Poll ``/version`` until the server answers; returns its version (after ``timeout``,
        the last :class:`ToxiproxyUnavailable`)."""
        failed: list[ToxiproxyUnavailable] = []

        def answer() -> str | None:
            try:
                return self.version()
            except ToxiproxyUnavailable as exc:
                failed[:] = [exc]
                return None

        try:
            version = wait_until(answer, what="the toxiproxy server to answer", timeout=timeout,
                                 interval=0.05, until=lambda answered: answered is not None)
        except WaitTimeout:
            raise failed[-1] from None
        assert version is not None
        return version

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self._call("POST", "/reset")

    # -- proxies -----------------------------------------------------------------

    def proxies(self) -> dict[str, ProxyInfo]:
        return {name: ProxyInfo.from_json(p) for name, p in self._call("GET", "/proxies").items()}

    def proxy(self, name: str) -> ProxyInfo:
        return ProxyInfo.from_json(self._call("GET", f"/proxies/{self._name(name)}"))

    def create_proxy(
        self, name: str, upstream: str, *, listen: str = "127.0.0.1:0", enabled: bool = True
    ) -> ProxyInfo:
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": enabled}
        return ProxyInfo.from_json(self._call("POST", "/proxies", body))

    def populate(self, proxies: Sequence[Mapping[str, Any]]) -> list[ProxyInfo]:
        """Create or replace proxies (``name``, ``listen``, ``upstream``, optional ``enabled``)."""
        answer = self._call("POST", "/populate", [dict(p) for p in proxies])
        return [ProxyInfo.from_json(p) for p in answer.get("proxies") or ()]

    def update_proxy(
        self,
        name: str,
        *,
        listen: str | None = None,
        upstream: str | None = None,
        enabled: bool | None = None,
    ) -> ProxyInfo:
        body = {
            k: v
            for k, v in (("listen", listen), ("upstream", upstream), ("enabled", enabled))
            if v is not None
        }
        # POST rather than PATCH: every 2.x server accepts it.
        return ProxyInfo.from_json(self._call("POST", f"/proxies/{self._name(name)}", body))

    def enable(self, name: str) -> ProxyInfo:
        return self.update_proxy(name, enabled=True)

    def disable(self, name: str) -> ProxyInfo:
        """Close the proxy's listener and cut its open connections."""
        return self.update_proxy(name, enabled=False)

    def delete_proxy(self, name: str, *, missing_ok: bool = False) -> None:
        try:
            self._call("DELETE", f"/proxies/{self._name(name)}")
        except ToxiproxyNotFound:
            if not missing_ok:
                raise

    # -- toxics ------------------------------------------------------------------

    def toxics(self, proxy: str) -> list[ToxicInfo]:
        return [ToxicInfo.from_json(t) for t in self._call("GET", f"/proxies/{self._name(proxy)}/toxics")]

    def toxic(self, proxy: str, name: str) -> ToxicInfo:
        return ToxicInfo.from_json(
            self._call("GET", f"/proxies/{self._name(proxy)}/toxics/{self._name(name)}")
        )

    def add_toxic(
        self,
        proxy: str,
        type: str,
        *,
        attributes: Mapping[str, int] | None = None,
        stream: str = "downstream",
        toxicity: float = 1.0,
        name: str | None = None,
    ) -> ToxicInfo:
        if stream not in STREAMS:
            raise InvalidDrillConfig(f"stream {stream!r} is not one of {', '.join(STREAMS)}")
        if not 0.0 <= toxicity <= 1.0:
            raise InvalidDrillConfig(f"toxicity must be between 0 and 1, got {toxicity}")
        body = {
            "name": name or f"{type}_{stream}",
            "type": type,
            "stream": stream,
            "toxicity": toxicity,
            "attributes": dict(attributes or {}),
        }
        return ToxicInfo.from_json(self._call("POST", f"/proxies/{self._name(proxy)}/toxics", body))

    def update_toxic(
        self,
        proxy: str,
        name: str,
        *,
        attributes: Mapping[str, int] | None = None,
        toxicity: float | None = None,
    ) -> ToxicInfo:
        body: dict[str, Any] = {"attributes": dict(attributes or {})}
        if toxicity is not None:
            body["toxicity"] = toxicity
        path = f"/proxies/{self._name(proxy)}/toxics/{self._name(name)}"
        return ToxicInfo.from_json(self._call("POST", path, body))

    def remove_toxic(self, proxy: str, name: str, *, missing_ok: bool = False) -> bool:
        """Remove a toxic; with ``missing_ok`` a missing toxic (or proxy) returns False."""
        try:
            self._call("DELETE", f"/proxies/{self._name(proxy)}/toxics/{self._name(name)}")
        except ToxiproxyNotFound:
            if not missing_ok:
                raise
            return False
        return True
