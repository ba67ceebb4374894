"""Every proxy of one server (toxiproxy's ``ProxyCollection``): the API's model.

Changes are serialised by one lock, as toxiproxy's mutexes do, so two API calls
never interleave halfway through enabling a proxy or removing a toxic.
"""

from __future__ import annotations

import asyncio
import selectors
from dataclasses import dataclass
from typing import Any

from drillbook.harness.toxiproxy import address, errors
from drillbook.harness.toxiproxy.chain import ToxicSpec
from drillbook.harness.toxiproxy.proxy import Proxy


@dataclass
class ProxyFields:
    """The fields of a proxy in a request body; None where the body left one out."""

    name: str | None = None
    listen: str | None = None
    upstream: str | None = None
    enabled: bool | None = None

    @classmethod
    def parse(cls, body: object, where: str = "") -> ProxyFields:
        if body is None:
            return cls()
        if not isinstance(body, dict):
            raise errors.BAD_REQUEST_BODY(f"expected a JSON object{where}, got {type(body).__name__}")
        fields = cls()
        for key in ("name", "listen", "upstream"):
            value = body.get(key)
            if value is not None and not isinstance(value, str):
                raise errors.BAD_REQUEST_BODY(f"{key}{where} must be a string, got {value!r}")
            setattr(fields, key, value)
        enabled = body.get("enabled")
        if enabled is not None and not isinstance(enabled, bool):
            raise errors.BAD_REQUEST_BODY(f"enabled{where} must be true or false, got {enabled!r}")
        fields.enabled = enabled
        return fields


def _listen_matches(current: str, requested: str) -> bool:
    """A requested port 0 matches the port the proxy was given for it."""
    if current == requested:
        return True
    try:
        host, port = address.split(requested)
        current_host, _ = address.split(current)
    except ValueError:
        return False
    return port == 0 and host in (current_host, "localhost", "")


class ProxyCollection:
    def __init__(self, selector: selectors.BaseSelector) -> None:
        self.proxies: dict[str, Proxy] = {}
        self.lock = asyncio.Lock()
        #: Where the proxies' sockets register, to be served inline (see ``reactor``).
        self.selector = selector

    def get(self, name: str) -> Proxy:
        try:
            return self.proxies[name]
        except KeyError:
            raise errors.PROXY_NOT_FOUND() from None

    def to_json(self) -> dict[str, Any]:
        # Go's encoding/json writes map keys sorted.
        return {name: self.proxies[name].to_json() for name in sorted(self.proxies)}

    def _new(self, fields: ProxyFields, where: str = "") -> Proxy:
        if not fields.name:
            raise errors.MISSING_FIELD(f"name{where}")
        if not fields.upstream:
            raise errors.MISSING_FIELD(f"upstream{where}")
        try:
            address.split(fields.upstream)
        except ValueError as exc:
            raise errors.BAD_REQUEST_BODY(f"upstream{where}: {exc}") from exc
        # toxiproxy would listen on every interface; a chaos tool stays on loopback.
        return Proxy(fields.name, fields.listen or "127.0.0.1:0", fields.upstream, selector=self.selector)

    async def create(self, body: object) -> Proxy:
        fields = ProxyFields.parse(body)
        async with self.lock:
            proxy = self._new(fields)
            if proxy.name in self.proxies:
                raise errors.PROXY_ALREADY_EXISTS()
            if fields.enabled is not False:
                await proxy.start()
            self.proxies[proxy.name] = proxy
            return proxy

    async def populate(self, body: object) -> list[Proxy]:
        """Create or replace a list of proxies; one whose listen and upstream are
        unchanged is left alone (its toxics and connections too)."""
        if not isinstance(body, list):
            raise errors.BAD_REQUEST_BODY(f"expected a JSON array of proxies, got {type(body).__name__}")
        wanted: list[tuple[Proxy, bool]] = []
        seen: set[str] = set()
        for i, item in enumerate(body, start=1):
            fields = ProxyFields.parse(item, f" at proxy {i}")
            proxy = self._new(fields, f" at proxy {i}")
            if proxy.name in seen:
                raise errors.BAD_REQUEST_BODY(f"duplicate proxy name {proxy.name!r}")
            seen.add(proxy.name)
            wanted.append((proxy, fields.enabled is not False))
        done: list[Proxy] = []
        async with self.lock:
            for proxy, enabled in wanted:
                existing = self.proxies.get(proxy.name)
                if existing is not None:
                    if existing.upstream == proxy.upstream and _listen_matches(existing.listen, proxy.listen):
                        done.append(existing)
                        continue
                    await existing.stop()
                    del self.proxies[existing.name]
                if enabled:
                    try:
                        await proxy.start()
                    except errors.ApiError as exc:
                        raise PopulateFailed(exc, done) from exc
                self.proxies[proxy.name] = proxy
                done.append(proxy)
        return done

    async def update(self, name: str, body: object) -> Proxy:
        fields = ProxyFields.parse(body)
        async with self.lock:
            proxy = self.get(name)
            listen = fields.listen if fields.listen is not None else proxy.listen
            upstream = fields.upstream if fields.upstream is not None else proxy.upstream
            enabled = fields.enabled if fields.enabled is not None else proxy.enabled
            if upstream != proxy.upstream:
                try:
                    address.split(upstream)
                except ValueError as exc:
                    raise errors.BAD_REQUEST_BODY(f"upstream: {exc}") from exc
            if listen != proxy.listen or upstream != proxy.upstream:
                # A new address restarts the proxy and drops its connections.
                await proxy.stop()
                proxy.listen, proxy.upstream = listen, upstream
            if enabled:
                await proxy.start()
            else:
                await proxy.stop()
            return proxy

    async def delete(self, name: str) -> None:
        async with self.lock:
            proxy = self.get(name)
            await proxy.stop()
            del self.proxies[name]

    async def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        async with self.lock:
            for proxy in list(self.proxies.values()):
                await proxy.start()
                await proxy.reset_toxics()

    async def close(self) -> None:
        async with self.lock:
            for proxy in list(self.proxies.values()):
                await proxy.stop()

    # -- toxics -----------------------------------------------------------------

    async def add_toxic(self, proxy_name: str, body: object) -> ToxicSpec:
        async with self.lock:
            proxy = self.get(proxy_name)
            spec = proxy.toxics.parse_new(body)
            proxy.add_toxic(spec)
            return spec

    async def update_toxic(self, proxy_name: str, toxic_name: str, body: object) -> ToxicSpec:
        async with self.lock:
            proxy = self.get(proxy_name)
            spec = proxy.toxics.parse_update(toxic_name, body)
            await proxy.update_toxic(spec)
            return spec

    async def remove_toxic(self, proxy_name: str, toxic_name: str) -> None:
        async with self.lock:
            proxy = self.get(proxy_name)
            proxy.toxics.get(toxic_name)
            await proxy.remove_toxic(toxic_name)


class PopulateFailed(errors.ApiError):
    """A proxy of a populate call could not start; ``done`` were applied before it."""

    def __init__(self, cause: errors.ApiError, done: list[Proxy]) -> None:
        super().__init__(cause.message, cause.status)
        self.done = done
