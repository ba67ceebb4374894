"""The Toxiproxy 2.x HTTP API (toxiproxy's ``api.go``): routes, JSON in and out,
toxiproxy's status codes and error bodies."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from drillbook.harness.toxiproxy import errors
from drillbook.harness.toxiproxy.collection import PopulateFailed, ProxyCollection
from drillbook.harness.toxiproxy.http import Request, Response

log = logging.getLogger("drillbook.toxiproxy")

#: The toxiproxy API level this server implements; "+drillbook" tells it from the real one.
VERSION = "2.12.0+drillbook"

Route = Callable[[Request, list[str]], Awaitable[Response]]


def _json(status: int, value: Any) -> Response:
    return Response(status, json.dumps(value).encode() + b"\n")


def _body(request: Request) -> Any:
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        detail = "EOF" if not request.body.strip() else str(exc)
        raise errors.BAD_REQUEST_BODY(detail) from exc


class Api:
    def __init__(self, collection: ProxyCollection) -> None:
        self.proxies = collection
        # (path pattern, method) -> handler; "*" matches one path segment.
        self.routes: dict[tuple[tuple[str, ...], str], Route] = {
            (("version",), "GET"): self.version,
            (("reset",), "POST"): self.reset,
            (("proxies",), "GET"): self.proxy_index,
            (("proxies",), "POST"): self.proxy_create,
            (("populate",), "POST"): self.populate,
            (("proxies", "*"), "GET"): self.proxy_show,
            (("proxies", "*"), "POST"): self.proxy_update,
            (("proxies", "*"), "PATCH"): self.proxy_update,
            (("proxies", "*"), "DELETE"): self.proxy_delete,
            (("proxies", "*", "toxics"), "GET"): self.toxic_index,
            (("proxies", "*", "toxics"), "POST"): self.toxic_create,
            (("proxies", "*", "toxics", "*"), "GET"): self.toxic_show,
            (("proxies", "*", "toxics", "*"), "POST"): self.toxic_update,
            (("proxies", "*", "toxics", "*"), "PATCH"): self.toxic_update,
            (("proxies", "*", "toxics", "*"), "DELETE"): self.toxic_delete,
        }

    async def __call__(self, request: Request) -> Response:
        # toxiproxy refuses browsers, so a web page cannot drive it (CSRF).
        if request.headers.get("user-agent", "").startswith("Mozilla/"):
            return Response(403, b"User agent not allowed\n", {"Content-Type": "text/plain"})
        path = request.path
        matched = [(pattern, method) for pattern, method in self.routes if self._match(pattern, path)]
        if not matched:
            return Response(404, b"404 page not found\n", {"Content-Type": "text/plain"})
        route = self.routes.get((matched[0][0], request.method))
        if route is None:
            return Response(405, b"", {"Content-Type": "text/plain"})
        args = [seg for pat, seg in zip(matched[0][0], path, strict=True) if pat == "*"]
        try:
            return await route(request, args)
        except errors.ApiError as exc:
            return _json(exc.status, exc.to_json())
        except Exception as exc:
            log.exception("API %s %s failed", request.method, request.target)
            return _json(500, {"error": f"internal error: {exc}", "status": 500})

    @staticmethod
    def _match(pattern: tuple[str, ...], path: list[str]) -> bool:
        return len(pattern) == len(path) and all(
            p in ("*", s) and s for p, s in zip(pattern, path, strict=True)
        )

    # -- handlers ---------------------------------------------------------------

    async def version(self, request: Request, args: list[str]) -> Response:
        return Response(
            200,
            json.dumps({"version": VERSION}).encode() + b"\n",
            {"Content-Type": "application/json;charset=utf-8"},
        )

    async def reset(self, request: Request, args: list[str]) -> Response:
        await self.proxies.reset()
        return Response(204)

    async def proxy_index(self, request: Request, args: list[str]) -> Response:
        return _json(200, self.proxies.to_json())

    async def proxy_create(self, request: Request, args: list[str]) -> Response:
        proxy = await self.proxies.create(_body(request))
        return _json(201, proxy.to_json())

    async def populate(self, request: Request, args: list[str]) -> Response:
        try:
            done = await self.proxies.populate(_body(request))
        except PopulateFailed as exc:
            return _json(exc.status, {**exc.to_json(), "proxies": [p.to_json() for p in exc.done]})
        except errors.ApiError as exc:
            return _json(exc.status, {**exc.to_json(), "proxies": None})
        return _json(201, {"proxies": [p.to_json() for p in done]})

    async def proxy_show(self, request: Request, args: list[str]) -> Response:
        return _json(200, self.proxies.get(args[0]).to_json())

    async def proxy_update(self, request: Request, args: list[str]) -> Response:
        self.proxies.get(args[0])
        proxy = await self.proxies.update(args[0], _body(request))
        return _json(200, proxy.to_json())

    async def proxy_delete(self, request: Request, args: list[str]) -> Response:
        await self.proxies.delete(args[0])
        return Response(204)

    async def toxic_index(self, request: Request, args: list[str]) -> Response:
        return _json(200, [spec.to_json() for spec in self.proxies.get(args[0]).toxics.all()])

    async def toxic_create(self, request: Request, args: list[str]) -> Response:
        self.proxies.get(args[0])
        spec = await self.proxies.add_toxic(args[0], _body(request))
        return _json(200, spec.to_json())

    async def toxic_show(self, request: Request, args: list[str]) -> Response:
        return _json(200, self.proxies.get(args[0]).toxics.get(args[1]).to_json())

    async def toxic_update(self, request: Request, args: list[str]) -> Response:
        self.proxies.get(args[0]).toxics.get(args[1])
        spec = await self.proxies.update_toxic(args[0], args[1], _body(request))
        return _json(200, spec.to_json())

    async def toxic_delete(self, request: Request, args: list[str]) -> Response:
        await self.proxies.remove_toxic(args[0], args[1])
        return Response(204)
