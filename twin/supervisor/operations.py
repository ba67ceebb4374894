"""The supervisor's control operations (called by the control API and the Kubernetes API,
under the controller's lock): scale, releases (new, ``set env``, undo), kills, cordons and
pod deletions. Each changes the desired state, which the control loop's next pass carries out
(``controller.Controller``, which these are part of).
"""

from __future__ import annotations

import enum
import signal
import time
from collections.abc import Callable
from typing import Any

from drillbook.twin.supervisor.errors import Conflict, Invalid, NotFound
from drillbook.twin.supervisor.model import ROLLING, STRATEGIES, ClusterState, Deployment, Pod, Release
from drillbook.twin.supervisor.process import PodProcess


def iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"


class _Keep(enum.Enum):
    KEEP = "keep"


class Operations:
    """What the control loop's state offers these operations (the controller provides it)."""

    state: ClusterState
    processes: dict[str, PodProcess]
    _dirty: bool
    _event: Callable[[str, str, str], None]
    _terminate: Callable[..., None]
    pods_of: Callable[[str], list[Pod]]

    def deployment(self, name: str) -> Deployment:
        try:
            return self.state.deployments[name]
        except KeyError:
            known = ", ".join(sorted(self.state.deployments)) or "none"
            raise NotFound(f"no deployment {name!r} (deployments: {known})") from None

    def scale(self, name: str, replicas: int) -> None:
        if replicas < 0:
            raise Invalid(f"replicas must be 0 or more, not {replicas}")
        deployment = self.deployment(name)
        self._event(name, "ScalingReplicaSet", f"scaled from {deployment.replicas} to {replicas}")
        if replicas != deployment.replicas:
            deployment.generation += 1
        deployment.replicas = replicas
        self._dirty = True

    def set_strategy(self, name: str, strategy: str) -> None:
        """The strategy of the deployment (kept on its current release): how the next rollout
        replaces pods; nothing rolls now."""
        if strategy not in STRATEGIES:
            raise Invalid(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
        deployment = self.deployment(name)
        if deployment.current.strategy != strategy:
            deployment.current.strategy = strategy
            deployment.generation += 1
            self._dirty = True

    def new_release(self, name: str, *, version: str | None = None, env: dict[str, str] | None = None,
                    restarted_at: str | _Keep | None = _Keep.KEEP, cause: str = "",
                    strategy: str = ROLLING) -> Release:
        """A new revision; the current one when nothing changed (``kubectl`` says "unchanged").
        ``restarted_at`` is kept from the current release unless given (None: no restart)."""
        if strategy not in STRATEGIES:
            raise Invalid(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
        deployment = self.deployment(name)
        base = deployment.current
        candidate = Release(
            revision=deployment.next_revision(), version=version or base.version,
            env=dict(base.env) if env is None else env, cause=cause, created_at=iso_now(),
            restarted_at=base.restarted_at if isinstance(restarted_at, _Keep) else restarted_at,
            strategy=strategy,
        )
        if candidate.same_template(base):
            return base
        # As a ReplicaSet keeps its pods, an old revision with this template is reused.
        reused = next((r for r in deployment.releases if r.same_template(candidate)), None)
        if reused is not None:
            candidate.earlier = [*reused.earlier, reused.revision]
        deployment.releases = [r for r in deployment.releases if not r.same_template(candidate)]
        deployment.releases.append(candidate)
        deployment.generation += 1
        self._trim_history(deployment)
        self._dirty = True
        self._event(name, "NewRelease", f"revision {candidate.revision}: version {candidate.version}"
                                        f"{'; ' + cause if cause else ''}")
        return candidate

    def _trim_history(self, deployment: Deployment) -> None:
        """Keep the last ``revision_history_limit`` releases (and any whose pods still run)."""
        keep = deployment.releases[-deployment.revision_history_limit - 1:]
        running = {p.template_hash for p in self.pods_of(deployment.name)}
        deployment.releases = [r for r in deployment.releases if r in keep or r.template_hash in running]

    def set_env(self, name: str, changes: dict[str, str | None], cause: str = "",
                strategy: str = ROLLING) -> Release:
        env = dict(self.deployment(name).current.env)
        for key, value in changes.items():
            if not key or "=" in key:
                raise Invalid(f"bad environment variable name {key!r}")
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return self.new_release(name, env=env, cause=cause or f"set env {', '.join(sorted(changes))}",
                                strategy=strategy)

    def undo(self, name: str, to_revision: int | None = None, only_if_cause: str | None = None) -> Release:
        deployment = self.deployment(name)
        current = deployment.current
        if only_if_cause is not None and only_if_cause not in current.cause:
            return current  # the release to undo is no longer current: nothing to do
        if to_revision is None:
            if len(deployment.releases) < 2:
                raise Conflict(f"deployment {name!r} has no previous revision to roll back to")
            target = deployment.releases[-2]
        else:
            found = deployment.release(to_revision)
            if found is None:
                raise NotFound(f"deployment {name!r} has no revision {to_revision} "
                               f"(revisions: {', '.join(str(r.revision) for r in deployment.releases)})")
            target = found
        return self.new_release(name, version=target.version, env=dict(target.env),
                                restarted_at=target.restarted_at,
                                cause=f"rollout undo to revision {target.revision}")

    def kill(self, name: str, count: int | None, zone: str | None, sig: signal.Signals) -> list[str]:
        deployment = self.deployment(name)
        if zone is not None and zone not in deployment.zones:
            raise Invalid(f"deployment {name!r} runs in zones {', '.join(deployment.zones)}, not {zone!r}")
        if count is not None and count < 1:
            raise Invalid(f"count must be at least 1, not {count}")
        targets = sorted((p for p in self.pods_of(name)
                          if not p.terminating and p.name in self.processes
                          and (zone is None or p.zone == zone)), key=lambda p: p.name)
        killed = []
        for pod in targets[:count] if count is not None else targets:
            if self.processes[pod.name].signal(sig):
                killed.append(pod.name)
                self._event(pod.name, "Killing", f"{sig.name} sent by request")
        return killed

    def cordon(self, zone: str, sig: signal.Signals = signal.SIGTERM, *, evict: bool = True) -> list[str]:
        """Mark ``zone`` unschedulable and evict its pods (replacements go to the other zones);
        ``evict=False`` is ``kubectl cordon``: the pods there keep running."""
        self._zone(zone).cordoned = True
        self._dirty = True
        if not evict:
            self._event(zone, "Cordoned", f"zone {zone} unschedulable")
            return []
        self._event(zone, "Cordoned", f"zone {zone} unschedulable; evicting with {sig.name}")
        evicted = []
        for pod in list(self.state.pods.values()):
            if pod.zone == zone and not pod.terminating:
                evicted.append(pod.name)
                self._event(pod.name, "Evicted", f"zone {zone} cordoned")
                self._terminate(pod, sig)
        return evicted

    def delete_pod(self, name: str, grace_s: float | None = None, *, evicted: bool = False) -> Pod:
        """Terminate one pod (SIGTERM, SIGKILL after ``grace_s``; 0: SIGKILL now), as a pod
        deletion or eviction does; its deployment creates a replacement."""
        pod = self.state.pods.get(name)
        if pod is None:
            raise NotFound(f"no pod {name!r}")
        if grace_s is not None and grace_s < 0:
            raise Invalid(f"a grace period must be 0 or more seconds, not {grace_s:g}")
        grace = f"{self.state.probes.termination_grace_s:g}s" if grace_s is None else f"{grace_s:g}s"
        self._event(name, "Evicted" if evicted else "Deleted", f"grace period {grace}")
        if grace_s == 0:
            self._terminate(pod, signal.SIGKILL)
        else:
            self._terminate(pod, signal.SIGTERM, grace_s)
        return pod

    def uncordon(self, zone: str) -> None:
        self._zone(zone).cordoned = False
        self._dirty = True
        self._event(zone, "Uncordoned", f"zone {zone} schedulable")

    def _zone(self, zone: str) -> Any:
        try:
            return self.state.zones[zone]
        except KeyError:
            raise NotFound(f"no zone {zone!r} (zones: {', '.join(sorted(self.state.zones))})") from None
