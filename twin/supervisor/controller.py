"""The supervisor's control loop: pods started, probed, restarted with back-off,
rolled out, evicted from cordoned zones; every change saved to ``state.json``. When a pod is
probed and what its answers mean is ``probing`` (the loop acts on its verdicts). The control
operations that change the desired state (scale, releases, undo, cordon, pod deletion) are
``operations.Operations``, which the controller is.

One lock guards the whole state: the loop holds it for one pass (no network
call inside: probes run in a thread pool) and every control operation holds it
while it changes the desired state, which the next pass carries out.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

from drillbook.harness.polling import holds_within
from drillbook.twin.postgres import free_port
from drillbook.twin.service import SITE_PACKAGES
from drillbook.twin.supervisor import rollout, views
from drillbook.twin.supervisor.model import (
    CRASH_LOOP,
    ERROR,
    IMAGE_PULL,
    PYTHON,
    RUNNING,
    TERMINATING,
    ClusterState,
    Deployment,
    Pod,
    Release,
)
from drillbook.twin.supervisor.operations import Operations, iso_now
from drillbook.twin.supervisor.probing import Prober, Verdict, judge
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


@dataclass
class Event:
    at: str
    object: str
    reason: str
    message: str


@dataclass
class _Progress:
    revision: int
    signature: tuple[int, int] = (0, 0)
    since: float = field(default_factory=time.monotonic)


class Controller(Operations):
    def __init__(self, state: ClusterState, files: StateFiles, *, tick_s: float = 0.1) -> None:
        self.state = state
        self.files = files
        self.tick_s = tick_s
        self.lock = threading.RLock()
        self.processes: dict[str, PodProcess] = {}
        self.term_deadline: dict[str, float] = {}
        self.events: deque[Event] = deque(maxlen=1000)
        self.progress: dict[str, _Progress] = {}
        self.stopping = threading.Event()
        #: Wake-ups (a change through the API, a probe answered, a pod exited): the loop acts
        #: now, not at its next tick. A SimpleQueue, not an Event: ``put`` is reentrant, and
        #: the SIGCHLD handler may interrupt itself (or anything holding an Event's lock).
        self._wakeups: queue.SimpleQueue[None] = queue.SimpleQueue()
        self.prober = Prober(on_answer=self.wake)
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
                    self.prober.started(pod.name, proc.pid, probe_now=False)
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
        def all_gone() -> bool:
            with self.lock:
                self._reap()
                self._enforce_grace()
                return not self.processes

        holds_within(all_gone, timeout=timeout, interval=0.05)
        with self.lock:
            for proc in self.processes.values():
                proc.signal(signal.SIGKILL)
            self._reap()
            self._publish(force=True)
        self.prober.shutdown()

    # -- one pass ----------------------------------------------------------------------

    def tick(self) -> None:
        self._reap()
        self._enforce_grace()
        self._restart_due()
        self._schedule_pending()
        for deployment in self.state.deployments.values():
            try:
                self._reconcile(deployment)
            except Exception as exc:  # one deployment's bug must not stall the others' rollouts
                self._event(deployment.name, "ReconcileError", f"{type(exc).__name__}: {exc}")
        self._probe()
        self._publish()

    def _reap(self) -> None:
        for name, proc in list(self.processes.items()):
            if not proc.exited():
                continue
            del self.processes[name]
            self.term_deadline.pop(name, None)
            probing = self.prober.forget(name)
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
        if deployment.observed_generation != deployment.generation:
            deployment.observed_generation = deployment.generation
            self._dirty = True

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
        self.prober.started(pod.name, proc.pid)
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
        for pod, record, outcome in self.prober.answers(self.state.pods, self.state.probes):
            self._act_on(pod, judge(pod, record, outcome, self.state.probes))

    def _act_on(self, pod: Pod, verdict: Verdict) -> None:
        if verdict.ready and not pod.ready:
            pod.ready, pod.reason = True, ""
            self._dirty = True
            self._event(pod.name, "Ready", "readiness probe passed")
        elif not verdict.ready and pod.ready:
            pod.ready, pod.reason = False, verdict.reason
            self._dirty = True
            self._event(pod.name, "Unhealthy", verdict.reason)
        elif not verdict.ready and pod.reason != verdict.reason:
            pod.reason = verdict.reason
            self._dirty = True
        if verdict.restart and pod.name in self.processes:
            self._event(pod.name, "Unhealthy", f"{verdict.restart}: restarting the container")
            self.processes[pod.name].signal(signal.SIGKILL)

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
