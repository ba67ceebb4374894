"""The supervisor's control API: JSON over HTTP on loopback.

    GET  /v1/status                          zones and every deployment with its pods
    GET  /v1/events?limit=N                  recent events
    GET  /v1/endpoints                       ready pods per deployment
    GET  /v1/deployments/<d>                 one deployment (rollout state, pods)
    GET  /v1/deployments/<d>/history         its revisions
    GET  /v1/pods/<pod>/logs[?previous=1]    a pod's output
    POST /v1/deployments/<d>/scale           {"replicas": n}
    POST /v1/deployments/<d>/env             {"env": {"NAME": "value" | null}, "cause": "..."}
    POST /v1/deployments/<d>/image           {"version": "...", "strategy": "RollingUpdate|Recreate"}
    POST /v1/deployments/<d>/restart         {}
    POST /v1/deployments/<d>/undo            {"to_revision": n?, "only_if_cause": "..."?}
    POST /v1/deployments/<d>/kill            {"count": n?, "zone": "..."?, "signal": "SIGKILL"}
    POST /v1/zones/<zone>/cordon             {"signal": "SIGTERM" | "SIGKILL"}
    POST /v1/zones/<zone>/uncordon           {}
    POST /v1/shutdown                        {"stop_pods": true}

Errors are ``{"error": code, "message": ...}`` with 400 (invalid), 404 (not
found), 409 (conflict) or 500.
"""

from __future__ import annotations

import json
import re
import signal
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from drillbook.twin.supervisor import views
from drillbook.twin.supervisor.controller import Controller
from drillbook.twin.supervisor.errors import Invalid, NotFound, SupervisorError
from drillbook.twin.supervisor.model import ROLLING
from drillbook.twin.supervisor.operations import iso_now
from drillbook.twin.supervisor.process import pod_log

_DEPLOYMENT = re.compile(r"^/v1/deployments/([\w.-]+)(?:/(\w+))?$")
_ZONE = re.compile(r"^/v1/zones/([\w.-]+)/(cordon|uncordon)$")
_LOGS = re.compile(r"^/v1/pods/([\w.-]+)/logs$")


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], controller: Controller,
                 on_shutdown: Callable[[bool], None]) -> None:
        self.controller = controller
        self.on_shutdown = on_shutdown
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: ControlServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(self._get)

    def do_POST(self) -> None:
        try:
            self._answer(self._post)
        finally:
            self.server.controller.wake()  # act on the change now, not at the next tick

    def _answer(self, route: Callable[[str, dict[str, str]], Any]) -> None:
        url = urllib.parse.urlsplit(self.path)
        try:
            body = route(url.path, dict(urllib.parse.parse_qsl(url.query)))
            status = 200
        except SupervisorError as exc:
            status, body = exc.status, {"error": exc.code, "message": str(exc)}
        except Exception as exc:  # a bug answers 500 rather than dropping the connection
            status, body = 500, {"error": "internal", "message": f"{type(exc).__name__}: {exc}"}
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _get(self, path: str, query: dict[str, str]) -> Any:
        ctl = self.server.controller
        with ctl.lock:
            if path == "/v1/status":
                return views.overview(ctl)
            if path == "/v1/events":
                return {"events": views.recent_events(ctl, int(query.get("limit", "100")))}
            if path == "/v1/endpoints":
                return views.endpoints(ctl)
            match = _DEPLOYMENT.match(path)
            if match and match.group(2) in (None, "history"):
                name = match.group(1)
                if match.group(2) == "history":
                    return {"revisions": views.history(ctl, name)}
                return views.status(ctl, name)
            match = _LOGS.match(path)
            if match:
                pod = match.group(1)
                if pod not in ctl.state.pods and not pod_log(ctl.logs, pod).exists():
                    raise NotFound(f"no pod {pod!r}")
                log = pod_log(ctl.logs, pod, previous=query.get("previous") == "1")
                return {"log": log.read_text(errors="replace") if log.exists() else ""}
        raise NotFound(f"no route GET {path}")

    def _post(self, path: str, query: dict[str, str]) -> Any:
        payload = self._payload()
        ctl = self.server.controller
        if path == "/v1/shutdown":
            stop_pods = bool(payload.get("stop_pods", True))
            threading.Thread(target=self.server.on_shutdown, args=(stop_pods,), daemon=True).start()
            return {"stopping": True, "stop_pods": stop_pods}
        with ctl.lock:
            match = _ZONE.match(path)
            if match:
                zone, action = match.groups()
                if action == "uncordon":
                    ctl.uncordon(zone)
                    return {"zone": zone, "cordoned": False}
                return {"zone": zone, "cordoned": True,
                        "evicted": ctl.cordon(zone, _signal(payload.get("signal", "SIGTERM")))}
            match = _DEPLOYMENT.match(path)
            if not match or match.group(2) is None:
                raise NotFound(f"no route POST {path}")
            name, action = match.groups()
            if action == "scale":
                ctl.scale(name, _int(payload, "replicas"))
                return views.status(ctl, name)
            if action == "kill":
                count = payload.get("count")
                killed = ctl.kill(name, None if count is None else _int(payload, "count"),
                                  _opt_str(payload, "zone"), _signal(payload.get("signal", "SIGKILL")))
                return {"killed": killed}
            cause = _opt_str(payload, "cause") or ""
            if action == "env":
                env = payload.get("env")
                if not isinstance(env, dict) or any(v is not None and not isinstance(v, str)
                                                    for v in env.values()):
                    raise Invalid('send {"env": {"NAME": "value" or null}}')
                release = ctl.set_env(name, env, cause, _opt_str(payload, "strategy") or ROLLING)
            elif action == "image":
                version = _opt_str(payload, "version")
                if not version:
                    raise Invalid('send {"version": "..."}')
                release = ctl.new_release(name, version=version, cause=cause or f"set image {version}",
                                          strategy=_opt_str(payload, "strategy") or ROLLING)
            elif action == "restart":
                release = ctl.new_release(name, restarted_at=iso_now(), cause=cause or "rollout restart")
            elif action == "undo":
                to_revision = payload.get("to_revision")
                release = ctl.undo(name, None if to_revision is None else _int(payload, "to_revision"),
                                   _opt_str(payload, "only_if_cause"))
            else:
                raise NotFound(f"no route POST {path}")
            return {"release": asdict(release), "status": views.status(ctl, name)}

    def _payload(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise Invalid("request body is not JSON") from None
        if not isinstance(value, dict):
            raise Invalid("request body must be a JSON object")
        return value

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _int(payload: dict[str, Any], key: str) -> int:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{key} must be an integer, not {value!r}")
    return value


def _opt_str(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is not None and not isinstance(value, str):
        raise Invalid(f"{key} must be a string, not {value!r}")
    return value


def _signal(name: Any) -> signal.Signals:
    try:
        return signal.Signals[str(name)]
    except KeyError:
        raise Invalid(f"unknown signal {name!r}; use e.g. SIGKILL or SIGTERM") from None
