"""Clients of the supervisor's control API, usable from any process.

:class:`SupervisorClient` speaks the API (every call with a timeout);
:class:`Deployment` is one deployment as a :class:`DeploymentRole`, which is
what drills, faults and runbooks use.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drillbook.harness.environments.base import ReplicaStatus
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.polling import WaitTimeout, wait_until
from drillbook.twin.supervisor.errors import (
    ERRORS,
    DeploymentUnavailable,
    SupervisorError,
    SupervisorUnavailable,
)
from drillbook.twin.supervisor.store import StateFiles


@dataclass(frozen=True)
class SupervisorClient:
    url: str
    timeout: float = 5.0

    @classmethod
    def from_state_dir(cls, state_dir: Path, *, timeout: float = 5.0) -> SupervisorClient:
        """The supervisor recorded in ``state_dir`` (its ``supervisor.json``)."""
        info = StateFiles(state_dir).read_json(StateFiles(state_dir).supervisor)
        if not info or "url" not in info:
            raise SupervisorUnavailable(
                f"no supervisor recorded in {state_dir}: start the environment (`drillbook env up`)")
        return cls(str(info["url"]), timeout)

    @classmethod
    def locate(cls, *, state_dir: str | None = None, control_url: str | None = None,
               timeout: float = 5.0) -> SupervisorClient:
        """From an app plane's state directory (which survives a supervisor restart) or a URL."""
        if control_url:
            return cls(control_url, timeout)
        if not state_dir:
            raise InvalidDrillConfig("give the app plane's state_dir or the supervisor's control_url")
        root = Path(state_dir)
        return cls.from_state_dir(root / "supervisor" if (root / "supervisor").is_dir() else root,
                                  timeout=timeout)

    def get(self, path: str) -> Any:
        return self._call("GET", path, None)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("POST", path, body or {})

    def status(self) -> dict[str, Any]:
        return dict(self.get("/v1/status"))

    def events(self, limit: int = 100) -> list[dict[str, Any]]:
        return list(self.get(f"/v1/events?limit={limit}")["events"])

    def endpoints(self) -> dict[str, Any]:
        return dict(self.get("/v1/endpoints"))

    def cordon(self, zone: str, *, signal: str = "SIGTERM") -> list[str]:
        """Mark ``zone`` unschedulable and evict its pods (``kubectl drain``)."""
        return list(self.post(f"/v1/zones/{zone}/cordon", {"signal": signal})["evicted"])

    def uncordon(self, zone: str) -> None:
        self.post(f"/v1/zones/{zone}/uncordon")

    def zones(self) -> dict[str, bool]:
        """Zone name -> cordoned."""
        return {z["name"]: bool(z["cordoned"]) for z in self.status()["zones"]}

    def logs(self, pod: str, *, previous: bool = False) -> str:
        return str(self.get(f"/v1/pods/{pod}/logs{'?previous=1' if previous else ''}")["log"])

    def shutdown(self, *, stop_pods: bool = True) -> None:
        self.post("/v1/shutdown", {"stop_pods": stop_pods})

    def deployment(self, name: str) -> Deployment:
        return Deployment(self, name)

    def alive(self) -> bool:
        try:
            self.get("/v1/status")
        except SupervisorUnavailable:
            return False
        return True

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read())
            except ValueError:
                payload = {}
            error = ERRORS.get(str(payload.get("error")), SupervisorError)
            raise error(str(payload.get("message") or f"HTTP {exc.code} from {path}")) from exc
        except (OSError, ValueError) as exc:
            raise SupervisorUnavailable(
                f"supervisor at {self.url} did not answer {method} {path}: {exc}; "
                "is the environment up? (`drillbook env status`)") from exc


class Deployment:
    """One deployment of the local supervisor, with Kubernetes semantics (DeploymentRole)."""

    def __init__(self, client: SupervisorClient, name: str) -> None:
        self.client = client
        self.name = name

    def __repr__(self) -> str:
        return f"Deployment({self.name!r}, {self.client.url})"

    # -- DeploymentRole --------------------------------------------------------------------

    def replicas(self) -> list[ReplicaStatus]:
        return [
            ReplicaStatus(name=p["name"], zone=p["zone"], phase=p["phase"], ready=bool(p["ready"]),
                          restarts=int(p["restarts"]), pid=p["pid"], release=str(p["revision"]))
            for p in self.status()["pods"]
        ]

    def scale(self, count: int) -> None:
        self.client.post(f"/v1/deployments/{self.name}/scale", {"replicas": count})

    def set_env(self, **env: str | None) -> None:
        self.set_env_with_cause(env)

    def set_image(self, version: str, *, strategy: str = "RollingUpdate", cause: str = "") -> None:
        self.client.post(f"/v1/deployments/{self.name}/image",
                         {"version": version, "strategy": strategy, "cause": cause})

    def rollout_restart(self) -> None:
        self.client.post(f"/v1/deployments/{self.name}/restart")

    def rollout_undo(self, to_revision: int | None = None, *, only_if_cause: str | None = None) -> None:
        self.client.post(f"/v1/deployments/{self.name}/undo",
                         {"to_revision": to_revision, "only_if_cause": only_if_cause})

    def kill(
        self, count: int | None = None, zone: str | None = None, *, signal: str = "SIGKILL"
    ) -> list[str]:
        body = {"count": count, "zone": zone, "signal": signal}
        return list(self.client.post(f"/v1/deployments/{self.name}/kill", body)["killed"])

    def wait_available(self, timeout: float = 120.0) -> None:
        """Until the rollout is complete: every desired pod runs the current release and is ready."""
        seen: list[dict[str, Any]] = []

        def complete() -> bool:
            seen[:] = [self.status()]
            return bool(seen[-1]["rollout"] == "complete")

        try:
            wait_until(complete, what=f"deployment {self.name!r} available", timeout=timeout, interval=0.05)
        except WaitTimeout:
            status = seen[-1]
            pods = "; ".join(f"{p['name']} {p['phase']} ready={p['ready']} {p['reason']}".strip()
                             for p in status["pods"]) or "no pods"
            raise DeploymentUnavailable(
                f"deployment {self.name!r} not available after {timeout:.0f}s: "
                f"{status['available']}/{status['replicas']} ready on revision {status['revision']} "
                f"(rollout {status['rollout']}); pods: {pods}") from None

    def env(self) -> dict[str, str]:
        return dict(self.status()["env"])

    def logs(self, pod: str, *, previous: bool = False) -> str:
        return self.client.logs(pod, previous=previous)

    # -- beyond the role ----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return dict(self.client.get(f"/v1/deployments/{self.name}"))

    def history(self) -> list[dict[str, Any]]:
        return list(self.client.get(f"/v1/deployments/{self.name}/history")["revisions"])

    def set_env_with_cause(self, env: dict[str, str | None], cause: str = "", *,
                           strategy: str = "RollingUpdate") -> dict[str, Any]:
        return dict(self.client.post(f"/v1/deployments/{self.name}/env",
                                     {"env": env, "cause": cause, "strategy": strategy}))

    def ready_urls(self) -> list[str]:
        return [p["url"] for p in self.status()["pods"] if p["ready"] and not p["terminating"] and p["url"]]
