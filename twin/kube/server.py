"""The twin's Kubernetes API over HTTP: the paths, verbs and answers ``kubectl`` and the
official client expect (discovery, lists and Tables, watches, patches, ``log``,
``eviction``, ``scale``), each error a ``Status`` with its code.

Served by the supervisor, on its own loopback port (``ClusterState.kube_port``, which a
restarted supervisor binds again, so a kubeconfig stays valid). The root is the primary
region's cluster; ``/clusters/dr`` is the DR region's (its deployments, pods and nodes).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from drillbook.twin.kube import leases, logs, openapi, protobuf, resources, tables
from drillbook.twin.kube.cluster import PRIMARY, KubeApi
from drillbook.twin.kube.errors import (
    ApiError,
    BadRequest,
    MethodNotAllowed,
    UnsupportedMediaType,
    not_found,
    unknown_path,
)
from drillbook.twin.kube.meta import Rendered
from drillbook.twin.kube.resources import Resource
from drillbook.twin.kube.selectors import field_matcher, field_names, label_matcher
from drillbook.twin.supervisor.process import pod_log

REGIONS = {"dr": "dr"}
WATCH_POLL_S = 0.05
MAX_WATCH_S = 1800.0
_BASE_FIELDS = ("metadata.name", "metadata.namespace")


class KubeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: KubeApi, stopping: threading.Event) -> None:
        self.api = api
        self.stopping = stopping
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Target:
    """What a request path names: a resource (maybe in a namespace), an object, a subresource."""

    def __init__(self, res: Resource, namespace: str | None, name: str | None, sub: str | None) -> None:
        self.res, self.namespace, self.name, self.sub = res, namespace, name, sub


def _view(path: str) -> tuple[str, str]:
    if path.startswith("/clusters/"):
        _, _, rest = path.partition("/clusters/")
        region, _, tail = rest.partition("/")
        if region in REGIONS:
            return "/" + tail, REGIONS[region]
        raise unknown_path()
    return path, PRIMARY


def _target(path: str) -> _Target | None:
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    res = resources.find(group, version, rest[0])
    if res is None or (namespace is not None and not res.namespaced):
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if sub is not None and res.subresource(sub) is None:
        return None
    if name is not None and res.namespaced and namespace is None:
        return None
    return _Target(res, namespace, name, sub)


class _Handler(BaseHTTPRequestHandler):
    server: KubeServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm a keep-alive client (the
    # official client, kubectl) waits out its delayed ACK: 40 ms per call instead of 1.
    disable_nagle_algorithm = True
    #: An idle keep-alive connection (or one that never sends its request) is closed after this.
    timeout = 300

    def end_headers(self) -> None:
        # Every answer of a real API server carries the id its audit log is searched by; the
        # drivers journal it as the call's request id.
        self.send_header("Audit-Id", str(uuid.uuid4()))
        super().end_headers()

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing ------------------------------------------------------------------------------

    def _serve(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        try:
            raw = self._raw()

            def body() -> Any:  # decoded once the verb is known to be allowed
                return self._decode(raw, url.path)

            path, region = _view(url.path)
            if query.get("dryRun"):
                raise BadRequest("dryRun is not emulated by drillbook's twin")
            self._route(method, path.rstrip("/") or "/", query, region, body)
        except ApiError as exc:
            self._json(exc.code, exc.status())
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # a bug answers 500 rather than dropping the connection
            self._json(500, ApiError(f"{type(exc).__name__}: {exc}").status())
        finally:
            if method != "GET":
                # The control loop acts on a change now, not at its next tick; after the answer
                # is sent, so the two do not contend for the lock and the interpreter meanwhile.
                self.server.api.ctl.wake()

    def _raw(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _decode(self, raw: bytes, path: str) -> Any:
        if not raw:
            return None
        content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip()
        if content_type == protobuf.CONTENT_TYPE and path.endswith("/selfsubjectaccessreviews"):
            return protobuf.access_review(raw)
        if content_type and "json" not in content_type:
            raise UnsupportedMediaType(f"drillbook's twin reads JSON request bodies, not {content_type}")
        try:
            return json.loads(raw)
        except ValueError:
            raise BadRequest("the request body is not JSON (drillbook's twin reads JSON only)") from None

    def _json(self, code: int, payload: Any) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _text(self, code: int, raw: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _stream(self, content_type: str) -> Callable[[bytes], None]:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def write(data: bytes) -> None:
            if data:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

        return write

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # -- routes -------------------------------------------------------------------------------------

    def _route(
        self, method: str, path: str, query: dict[str, str], region: str, body: Callable[[], Any]
    ) -> None:
        if method == "GET" and self._discovery(path):
            return
        target = _target(path)
        if target is None:
            raise unknown_path()
        api, res = self.server.api, target.res
        if (
            query.get("fieldValidation") == "Strict"
            and res.name == "leases"
            and method in ("POST", "PUT", "PATCH")
        ):
            body = self._strict(body)
        if target.sub is not None:
            self._subresource(method, target, query, region, body)
        elif target.name is None:
            if method == "GET":
                self._collection(target, query, region)
            elif method == "POST":
                self._allow(res, "create")
                namespace = target.namespace
                self._json(201, api.create(res, namespace, body(), region))
            else:
                raise MethodNotAllowed(f"{method} is not allowed on the collection {res.qualified}")
        elif method == "GET":
            self._allow(res, "get")
            self._one(res, api.get(res, target.namespace, target.name, region))
        elif method in ("PUT", "PATCH"):
            self._allow(res, "update" if method == "PUT" else "patch")
            content_type = None if method == "PUT" else self.headers.get("Content-Type", "")
            self._json(
                200, api.update(res, target.namespace, target.name, body(), region, content_type=content_type)
            )
        elif method == "DELETE":
            self._allow(res, "delete")
            given = body()
            options = dict(given) if isinstance(given, dict) else {}
            if "gracePeriodSeconds" in query:
                options["gracePeriodSeconds"] = query["gracePeriodSeconds"]
            self._json(200, api.delete(res, target.namespace, target.name, options, region))
        else:
            raise MethodNotAllowed(f"{method} is not allowed on {res.qualified}")

    @staticmethod
    def _strict(body: Callable[[], Any]) -> Callable[[], Any]:
        """``fieldValidation=Strict``: a body naming a field the kind does not have is refused."""

        def checked() -> Any:
            decoded = body()
            unknown = leases.unknown_fields(decoded)
            if unknown:
                raise BadRequest(
                    f"strict decoding error: unknown field {', '.join(repr(f) for f in unknown)}"
                )
            return decoded

        return checked

    def _discovery(self, path: str) -> bool:
        doc: Any
        if path in ("/version",):
            doc = resources.version_info()
        elif path == "/api":
            doc = resources.core_versions(f"127.0.0.1:{self.server.server_address[1]}")
        elif path == "/apis":
            doc = resources.groups()
        elif path == "/openapi/v3":
            doc = openapi.index()
        elif path.startswith("/openapi/v3/"):
            doc = openapi.document(path[len("/openapi/v3/") :])
        elif path in ("/healthz", "/livez", "/readyz"):
            self._text(200, b"ok")
            return True
        elif path == "/api/v1":
            doc = resources.resource_list("", "v1")
        elif path.startswith("/apis/") and path.count("/") == 2 and path.split("/")[2] in resources.GROUPS:
            doc = resources.group(path.split("/")[2])
        elif path.startswith("/apis/") and path.count("/") == 3:
            _, _, group, version = path.split("/")
            doc = resources.resource_list(group, version)
        else:
            return False
        if doc is None:
            return False
        self._json(200, doc)
        return True

    @staticmethod
    def _allow(res: Resource, verb: str) -> None:
        if verb not in res.verbs:
            raise MethodNotAllowed(
                f"drillbook's twin does not {verb} {res.qualified} (it can: {', '.join(res.verbs)})"
            )

    def _matching(self, target: _Target, query: dict[str, str]) -> Callable[[Rendered], bool]:
        fields = query.get("fieldSelector")
        allowed = (*_BASE_FIELDS, *resources.FIELDS.get(target.res.name, ()))
        for name in field_names(fields):
            if name not in allowed:
                raise BadRequest(f"field label not supported: {name}")
        by_labels, by_fields = label_matcher(query.get("labelSelector")), field_matcher(fields)
        namespace = target.namespace

        def matches(r: Rendered) -> bool:
            return (
                (namespace is None or r.namespace == namespace)
                and by_labels(r.obj["metadata"].get("labels") or {})
                and by_fields(r.obj)
            )

        return matches

    def _collection(self, target: _Target, query: dict[str, str], region: str) -> None:
        res = target.res
        matches = self._matching(target, query)
        if query.get("watch") in ("1", "true"):
            self._allow(res, "watch")
            self._watch(target, query, region, matches)
            return
        self._allow(res, "list")
        found, version = self.server.api.observed(res.name, region)
        items = [r.obj for r in found if matches(r)]
        if tables.wants_table(self.headers.get("Accept", "")):
            self._json(200, self._table(res, items, str(version), query))
            return
        self._json(
            200,
            {
                "kind": f"{res.kind}List",
                "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(version)},
                "items": items,
            },
        )

    def _table(
        self, res: Resource, items: list[dict[str, Any]], version: str, query: dict[str, str]
    ) -> dict[str, Any]:
        doc = tables.table(res.name, items, version)
        if query.get("includeObject") == "None":
            for row in doc["rows"]:
                row.pop("object", None)
        return doc

    def _one(self, res: Resource, obj: dict[str, Any]) -> None:
        if tables.wants_table(self.headers.get("Accept", "")):
            self._json(200, tables.table(res.name, [obj], obj["metadata"].get("resourceVersion", "")))
        else:
            self._json(200, obj)

    def _watch(
        self, target: _Target, query: dict[str, str], region: str, matches: Callable[[Rendered], bool]
    ) -> None:
        api, res = self.server.api, target.res
        asked = query.get("resourceVersion") or ""
        if asked not in ("", "0") and not asked.isdigit():
            raise BadRequest(f"resourceVersion must be a number, not {asked!r}")
        try:
            timeout = min(float(query.get("timeoutSeconds") or MAX_WATCH_S), MAX_WATCH_S)
        except ValueError:
            raise BadRequest("timeoutSeconds must be a number of seconds") from None
        as_table = tables.wants_table(self.headers.get("Accept", ""))
        found, version = api.observed(res.name, region)
        write = self._stream("application/json")

        def emit(kind: str, obj: dict[str, Any]) -> None:
            shown = (
                tables.table(res.name, [obj], obj["metadata"].get("resourceVersion", ""))
                if as_table and kind != "ERROR"
                else obj
            )
            write(json.dumps({"type": kind, "object": shown}).encode() + b"\n")

        initial = query.get("sendInitialEvents") == "true"
        last = version if asked in ("", "0") or initial else int(asked)
        if asked in ("", "0") or initial:
            for r in found:
                if matches(r):
                    emit("ADDED", r.obj)
            if initial:
                write(
                    json.dumps(
                        {
                            "type": "BOOKMARK",
                            "object": {
                                "kind": res.kind,
                                "apiVersion": res.api_version,
                                "metadata": {
                                    "resourceVersion": str(version),
                                    "annotations": {"k8s.io/initial-events-end": "true"},
                                },
                            },
                        }
                    ).encode()
                    + b"\n"
                )
        deadline = time.monotonic() + timeout
        while not self.server.stopping.is_set() and time.monotonic() < deadline:
            events = api.cache.events_after(res.name, last)
            if events is None:
                emit(
                    "ERROR",
                    {**ApiError("too old resource version").status(), "code": 410, "reason": "Expired"},
                )
                break
            for event in events:
                last = event.rv
                if event.rendered.region in (None, region) and matches(event.rendered):
                    emit(event.type, event.rendered.obj)
            time.sleep(WATCH_POLL_S)
            api.observed(res.name, region)
        self._end_stream()

    def _subresource(
        self, method: str, target: _Target, query: dict[str, str], region: str, body: Callable[[], Any]
    ) -> None:
        api, res, sub = self.server.api, target.res, target.sub
        assert target.name is not None and sub is not None
        verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())
        subresource = res.subresource(sub)
        if subresource is None or verb not in subresource.verbs:
            raise MethodNotAllowed(f"{method} is not allowed on {res.qualified}/{sub}")
        if sub == "status":
            self._json(200, api.get(res, target.namespace, target.name, region))
        elif sub == "scale":
            content_type = self.headers.get("Content-Type", "") if method == "PATCH" else None
            self._json(
                200,
                api.scale(
                    target.namespace,
                    target.name,
                    body() if method != "GET" else None,
                    region,
                    content_type=content_type,
                ),
            )
        elif sub == "eviction":
            api.evict(target.namespace, target.name, body(), region)
            self._json(
                201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
            )
        elif sub == "log":
            self._log(target, query, region)

    def _log(self, target: _Target, query: dict[str, str], region: str) -> None:
        api = self.server.api
        assert target.name is not None
        obj = api.get(target.res, target.namespace, target.name, region)
        container = obj["spec"]["containers"][0]["name"]
        if query.get("container") not in (None, "", container):
            raise BadRequest(f"container {query['container']} is not valid for pod {target.name}")
        previous = query.get("previous") in ("1", "true")
        path = pod_log(api.ctl.logs, target.name, previous=previous)
        if previous and not path.exists():
            raise BadRequest(f'previous terminated container "{container}" in pod "{target.name}" not found')
        tail, limit = logs.options(query)
        data = logs.read(path, tail_lines=tail, limit_bytes=limit)
        if query.get("follow") not in ("1", "true") or previous:
            self._text(200, data)
            return
        with api.ctl.lock:
            pod = api.ctl.state.pods.get(target.name)
            pid = pod.pid if pod else None
        if pod is None:
            raise not_found("pods", "", target.name)
        size = path.stat().st_size if path.exists() else 0
        write = self._stream("text/plain; charset=utf-8")
        write(data)

        def running() -> bool:
            with api.ctl.lock:
                current = api.ctl.state.pods.get(target.name or "")
                return (
                    current is not None
                    and current.pid == pid
                    and pid is not None
                    and not self.server.stopping.is_set()
                )

        logs.follow(path, size, write, running)
        self._end_stream()
