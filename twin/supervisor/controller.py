"""The supervisor's control loop: pods started, probed, restarted with back-off,
rolled out, evicted from cordoned zones; every change saved to ``state.json``.

One lock guards the whole state: the loop holds it for one pass (no network
call inside: probes run in a thread pool) and every control operation holds it
while it changes the desired state, which the next pass carries out.
"""

from __future__ import annotations

import enum
import json
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drillbook.twin.postgres import free_port
from drillbook.twin.service import SITE_PACKAGES
from drillbook.twin.supervisor import rollout, views
from drillbook.twin.supervisor.errors import Conflict, Invalid, NotFound
from drillbook.twin.supervisor.model import (
    CRASH_LOOP,
    ERROR,
    IMAGE_PULL,
    PYTHON,
    ROLLING,
    RUNNING,
    STRATEGIES,
    TERMINATING,
    ClusterState,
    Deployment,
    Pod,
    Release,
)
from drillbook.twin.supervisor.probes import ProbeOutcome, probe
from drillbook.twin.supervisor.process import (
    PodProcess,
    adopt,
    package_dirs,
    pod_log,
    spawn,
)
from drillbook.twin.supervisor.store import StateFiles

#: Where this interpreter's packages are (pods started ``{python} -S`` need them).
PACKAGE_PATH = os.pathsep.join(package_dirs())


def iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"


class _Keep(enum.Enum):
    KEEP = "keep"


@dataclass
class Event:
    at: str
    object: str
    reason: str
    message: str


@dataclass
class _Probing:
    pid: int
    started: float
    next_at: float
    failures: int = 0
    live_failures: int = 0
    ever_ready: bool = False
    ever_alive: bool = False
    detail: str = ""
    inflight: Future[ProbeOutcome] | None = None


@dataclass
class _Progress:
    revision: int
    signature: tuple[int, int] = (0, 0)
    since: float = field(default_factory=time.monotonic)


class Controller:
    def __init__(self, state: ClusterState, files: StateFiles, *, tick_s: float = 0.1) -> None:
        self.state = state
        self.files = files
        self.tick_s = tick_s
        self.lock = threading.RLock()
        self.processes: dict[str, PodProcess] = {}
        self.probing: dict[str, _Probing] = {}
        self.term_deadline: dict[str, float] = {}
        self.events: deque[Event] = deque(maxlen=1000)
        self.progress: dict[str, _Progress] = {}
        self.stopping = threading.Event()
        #: Wake-ups (a change through the API, a probe answered, a pod exited): the loop acts
        #: now, not at its next tick. A SimpleQueue, not an Event: ``put`` is reentrant, and
        #: the SIGCHLD handler may interrupt itself (or anything holding an Event's lock).
        self._wakeups: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="probe")
        self._dirty = True
        self._published = ""

    @property
    def logs(self) -> Path:
        return Path(self.state.logs_dir) if self.state.logs_dir else self.files.logs

    # -- start and stop ----------------------------------------------------------------

    def adopt_running(self) -> None:
        """After a supervisor restart: keep the pods whose processes still run."""
        with self.lock:
            for pod in list(self.state.pods.values()):
                proc = adopt(pod.pid, pod.ticks)
                if proc is not None:
                    self.processes[pod.name] = proc
                    self.probing[pod.name] = _Probing(proc.pid, time.monotonic(), 0.0)
                    self._event(pod.name, "Adopted", f"pid {proc.pid} still running")
                elif pod.terminating:
                    del self.state.pods[pod.name]
                elif pod.pid is not None:
                    pod.pid = None
                    self._crashed(pod, "exited while the supervisor was away")
            self._dirty = True

    def run(self) -> None:
        while not self.stopping.is_set():
            with self.lock:
                try:
                    self.tick()
                except Exception as exc:  # the loop must survive a bug in one pass
                    self._event("supervisor", "LoopError", f"{type(exc).__name__}: {exc}")
            try:
                self._wakeups.get(timeout=self.tick_s)
                while True:  # one pass answers every wake-up queued so far
                    self._wakeups.get_nowait()
            except queue.Empty:
                pass

    def wake(self) -> None:
        """Run the next pass now (a change came in, or the loop must stop)."""
        self._wakeups.put(None)

    def stop_all(self, timeout: float = 10.0) -> None:
        """Stop every pod (SIGTERM, then SIGKILL after the grace period)."""
        with self.lock:
            # The desired state is kept: a supervisor started again brings the pods back.
            for pod in list(self.state.pods.values()):
                self._terminate(pod, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                self._reap()
                self._enforce_grace()
                if not self.processes:
                    break
            time.sleep(0.05)
        with self.lock:
            for proc in self.processes.values():
                proc.signal(signal.SIGKILL)
            self._reap()
            self._publish(force=True)
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- one pass ----------------------------------------------------------------------

    def tick(self) -> None:
        self._reap()
        self._enforce_grace()
        self._restart_due()
        self._schedule_pending()
        for deployment in self.state.deployments.values():
            self._reconcile(deployment)
        self._probe()
        self._publish()

    def _reap(self) -> None:
        for name, proc in list(self.processes.items()):
            if not proc.exited():
                continue
            del self.processes[name]
            self.term_deadline.pop(name, None)
            probing = self.probing.pop(name, None)
            pod = self.state.pods.get(name)
            if pod is None:
                continue
            pod.pid, pod.ticks, pod.ready = None, None, False
            pod.last_exit = proc.describe_exit()
            self._dirty = True
            if pod.terminating:
                del self.state.pods[name]
                self._event(name, "Terminated", pod.last_exit)
                continue
            ran = time.monotonic() - probing.started if probing else 0.0
            if ran >= self.state.backoff.reset_after_s:
                pod.consecutive_failures = 0
            self._crashed(pod, pod.last_exit)

    def _crashed(self, pod: Pod, why: str) -> None:
        pod.restarts += 1
        pod.consecutive_failures += 1
        delay = self.state.backoff.delay(pod.consecutive_failures)
        pod.next_start_epoch = time.time() + delay
        pod.phase = CRASH_LOOP if pod.consecutive_failures >= 2 else ERROR
        pod.reason = f"{why}; back-off {delay:.1f}s restarting failed container"
        self._event(pod.name, "BackOff", pod.reason)
        self._dirty = True

    def _enforce_grace(self) -> None:
        now = time.monotonic()
        for name, deadline in list(self.term_deadline.items()):
            if now >= deadline and name in self.processes:
                self.processes[name].signal(signal.SIGKILL)
                self._event(name, "Killing", "grace period over: SIGKILL")
                self.term_deadline[name] = now + 3600  # once

    def _restart_due(self) -> None:
        now = time.time()
        for pod in list(self.state.pods.values()):
            if (not pod.terminating and pod.pid is None and pod.zone is not None
                    and pod.next_start_epoch is not None and now >= pod.next_start_epoch):
                self._start(pod)

    def _schedule_pending(self) -> None:
        for pod in list(self.state.pods.values()):
            if pod.zone is None and not pod.terminating:
                zone = self._pick_zone(self.state.deployments[pod.deployment])
                if zone is not None:
                    pod.zone = zone
                    self._event(pod.name, "Scheduled", f"assigned to zone {zone}")
                    self._start(pod)

    def _reconcile(self, deployment: Deployment) -> None:
        pods = self.pods_of(deployment.name)
        decision = rollout.plan(deployment, pods)
        for pod in decision.terminate:
            self._terminate(pod, signal.SIGTERM)
        for _ in range(decision.create):
            self._create_pod(deployment)
        self._track_progress(deployment)

    # -- pods --------------------------------------------------------------------------

    def _create_pod(self, deployment: Deployment) -> Pod:
        release = deployment.current
        pod = Pod(Pod.new_name(deployment.name, release.template_hash), deployment.name,
                  release.template_hash, release.revision, self._pick_zone(deployment), iso_now())
        self.state.pods[pod.name] = pod
        self._dirty = True
        if pod.zone is None:
            pod.reason = self._unschedulable(deployment)
            self._event(pod.name, "FailedScheduling", pod.reason)
        else:
            self._event(pod.name, "Scheduled", f"assigned to zone {pod.zone}")
            self._start(pod)
        return pod

    def _start(self, pod: Pod) -> None:
        deployment = self.state.deployments[pod.deployment]
        release = self.release_of(deployment, pod)
        pod.next_start_epoch = None
        self._dirty = True
        if release is None:
            self._terminate(pod, signal.SIGTERM)
            return
        pod.revision = release.revision
        argv = deployment.images.get(release.version)
        if argv is None:
            known = ", ".join(sorted(deployment.images)) or "none"
            self._image_missing(pod, f"version {release.version!r} is not a known image (known: {known})")
            return
        pod.port = free_port()
        env = {
            **self.state.base_env, **release.env,
            "PORT": str(pod.port), "REPLICA_NAME": pod.name, "ZONE": pod.zone or "",
            "APP_VERSION": release.version, "DEPLOYMENT": deployment.name, "REGION": deployment.region,
        }
        if self.state.label:
            env["DRILLBOOK_PLANE"] = self.state.label
        command = [sys.executable if part == PYTHON else part for part in argv]
        if PYTHON in argv:  # this interpreter's packages, for a pod started -S
            env[SITE_PACKAGES] = PACKAGE_PATH
        try:
            proc = spawn(command, env, pod_log(self.logs, pod.name))
        except OSError as exc:
            self._image_missing(pod, f"cannot start {command[0]}: {exc}")
            return
        self.processes[pod.name] = proc
        self.probing[pod.name] = _Probing(proc.pid, time.monotonic(), time.monotonic())
        pod.pid, pod.ticks = proc.pid, proc.ticks
        pod.phase, pod.ready, pod.reason = RUNNING, False, ""
        pod.started_at = iso_now()
        self._event(pod.name, "Started", f"version {release.version} pid {proc.pid} port {pod.port} "
                                         f"zone {pod.zone}")

    def _image_missing(self, pod: Pod, why: str) -> None:
        pod.consecutive_failures += 1
        delay = self.state.backoff.delay(pod.consecutive_failures)
        pod.next_start_epoch = time.time() + delay
        pod.phase = IMAGE_PULL
        pod.reason = f"{why}; back-off {delay:.1f}s"
        self._event(pod.name, "Failed", pod.reason)

    def _terminate(self, pod: Pod, sig: signal.Signals, grace_s: float | None = None) -> None:
        if pod.terminating and sig != signal.SIGKILL:
            return
        pod.terminating, pod.ready, pod.phase = True, False, TERMINATING
        pod.deleted_at = pod.deleted_at or iso_now()
        self._dirty = True
        proc = self.processes.get(pod.name)
        if proc is None:
            del self.state.pods[pod.name]
            self._event(pod.name, "Deleted", "not running")
            return
        # Out of the endpoints before the signal: the front door stops routing to it first.
        self._publish()
        proc.signal(sig)
        grace = self.state.probes.termination_grace_s if grace_s is None else grace_s
        self.term_deadline.setdefault(pod.name, time.monotonic() + grace)
        self._event(pod.name, "Killing", f"stopping with {sig.name}")

    def _pick_zone(self, deployment: Deployment) -> str | None:
        usable = [z for z in deployment.zones if not self.state.zones[z].cordoned]
        if not usable:
            return None
        load = {z: 0 for z in usable}
        for pod in self.pods_of(deployment.name):
            if not pod.terminating and pod.zone in load:
                load[pod.zone] += 1
        return min(usable, key=lambda z: (load[z], usable.index(z)))

    def _unschedulable(self, deployment: Deployment) -> str:
        return (f"Unschedulable: 0/{len(deployment.zones)} zones available "
                f"({', '.join(z + ' cordoned' for z in deployment.zones)})")

    def pods_of(self, deployment: str) -> list[Pod]:
        return [p for p in self.state.pods.values() if p.deployment == deployment]

    @staticmethod
    def release_of(deployment: Deployment, pod: Pod) -> Release | None:
        return next((r for r in deployment.releases if r.template_hash == pod.template_hash), None)

    # -- probes ------------------------------------------------------------------------

    def _probe(self) -> None:
        policy = self.state.probes
        now = time.monotonic()
        for name, state in list(self.probing.items()):
            pod = self.state.pods.get(name)
            if pod is None:
                continue
            if state.inflight is not None and state.inflight.done():
                outcome = state.inflight.result()
                state.inflight = None
                if outcome.pid == state.pid and not pod.terminating:
                    self._apply_probe(pod, state, outcome)
            if state.inflight is None and now >= state.next_at and not pod.terminating:
                state.inflight = self._executor.submit(
                    probe, pod.url(), state.pid, readiness=policy.readiness_path,
                    liveness=policy.liveness_path, timeout=policy.timeout_s)
                # Its outcome is acted on at once (a pod ready now is in the endpoints now).
                state.inflight.add_done_callback(lambda _: self.wake())
                period = policy.period_s if state.ever_ready else policy.startup_period_s
                state.next_at = now + period

    def _apply_probe(self, pod: Pod, state: _Probing, outcome: ProbeOutcome) -> None:
        policy = self.state.probes
        state.ever_alive = state.ever_alive or outcome.alive
        if outcome.ready:
            state.failures = state.live_failures = 0
            state.detail = ""
            if not pod.ready:
                pod.ready, state.ever_ready = True, True
                pod.reason = ""
                self._dirty = True
                self._event(pod.name, "Ready", "readiness probe passed")
            return
        state.failures += 1
        state.detail = outcome.detail
        if pod.ready and state.failures >= policy.failure_threshold:
            pod.ready = False
            pod.reason = f"readiness probe failed: {outcome.detail}"
            self._dirty = True
            self._event(pod.name, "Unhealthy", pod.reason)
        elif not pod.ready and pod.reason != f"not ready: {outcome.detail}":
            pod.reason = f"not ready: {outcome.detail}"
            self._dirty = True
        # Liveness counts once the process has answered (a startup probe guards the start).
        state.live_failures = 0 if outcome.alive or not state.ever_alive else state.live_failures + 1
        too_slow = (not state.ever_alive
                    and time.monotonic() - state.started > policy.startup_timeout_s)
        if (state.live_failures >= policy.liveness_failure_threshold or too_slow) \
                and pod.name in self.processes:
            why = "liveness probe failed" if not too_slow else \
                f"startup probe failed (no answer within {policy.startup_timeout_s:g}s)"
            self._event(pod.name, "Unhealthy", f"{why}: restarting the container")
            self.processes[pod.name].signal(signal.SIGKILL)
            state.live_failures = 0

    # -- progress, publication -----------------------------------------------------------

    def _track_progress(self, deployment: Deployment) -> None:
        current = deployment.current
        mark = self.progress.get(deployment.name)
        if mark is None or mark.revision != current.revision:
            mark = self.progress[deployment.name] = _Progress(current.revision)
        pods = [p for p in self.pods_of(deployment.name) if not p.terminating]
        signature = (sum(1 for p in pods if p.template_hash == current.template_hash and p.ready),
                     -sum(1 for p in pods if p.template_hash != current.template_hash))
        if signature != mark.signature:
            mark.signature, mark.since = signature, time.monotonic()

    def save(self) -> None:
        with self.lock:
            self._publish(force=True)

    def _publish(self, *, force: bool = False) -> None:
        endpoints = json.dumps(views.endpoints(self), sort_keys=True)
        if endpoints != self._published or force:
            self.files.write_endpoints(endpoints)
            self._published = endpoints
        if self._dirty or force:
            self.files.write_state(self.state)
            self._dirty = False

    def _event(self, obj: str, reason: str, message: str) -> None:
        event = Event(iso_now(), obj, reason, message)
        self.events.append(event)
        self.files.append_event(asdict(event))

    # -- operations (called by the control API, under the lock) --------------------------

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
