"""Probing the pods: when each is probed, and what its answers mean.

The control loop owns the pods and acts; this module only decides. Each running pod has a
:class:`Probing` record (its process, when it started, when it is probed next, its failure
counts); :class:`Prober` sends the probes in a thread pool (never inside the loop's pass,
which holds the state lock), and :func:`judge` turns an answer into a :class:`Verdict`: the
pod became ready, stopped being ready, is still not ready, or must be restarted (liveness
failed, or it never answered within the startup timeout), as a kubelet would decide.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from drillbook.twin.supervisor.model import Pod, ProbePolicy
from drillbook.twin.supervisor.probes import ProbeOutcome, probe


@dataclass
class Probing:
    """One pod process's probe record."""

    pid: int
    started: float
    next_at: float
    failures: int = 0
    live_failures: int = 0
    ever_ready: bool = False
    ever_alive: bool = False
    detail: str = ""
    inflight: Future[ProbeOutcome] | None = None


@dataclass(frozen=True)
class Verdict:
    """What an answer means for the pod; ``reason`` is the pod's new reason ("" when ready)."""

    ready: bool
    reason: str
    #: Why the process must be restarted (a failed liveness or startup probe); "" otherwise.
    restart: str = ""


def judge(pod: Pod, record: Probing, outcome: ProbeOutcome, policy: ProbePolicy,
          now: float | None = None) -> Verdict:
    """Count ``outcome`` into ``record`` and say what it means for ``pod``."""
    now = time.monotonic() if now is None else now
    record.ever_alive = record.ever_alive or outcome.alive
    if outcome.ready:
        record.failures = record.live_failures = 0
        record.detail = ""
        record.ever_ready = True
        return Verdict(ready=True, reason="")
    record.failures += 1
    record.detail = outcome.detail
    if pod.ready and record.failures < policy.failure_threshold:
        ready, reason = True, pod.reason  # fewer failures than the threshold: still ready
    elif pod.ready:
        ready, reason = False, f"readiness probe failed: {outcome.detail}"
    else:
        ready, reason = False, f"not ready: {outcome.detail}"
    # Liveness counts once the process has answered (a startup probe guards the start).
    record.live_failures = 0 if outcome.alive or not record.ever_alive else record.live_failures + 1
    too_slow = not record.ever_alive and now - record.started > policy.startup_timeout_s
    restart = ""
    if too_slow:
        restart = f"startup probe failed (no answer within {policy.startup_timeout_s:g}s)"
    elif record.live_failures >= policy.liveness_failure_threshold:
        restart = "liveness probe failed"
    if restart:
        record.live_failures = 0
    return Verdict(ready=ready, reason=reason, restart=restart)


class Prober:
    """The probe records of the running pods, and the pool that sends their probes."""

    def __init__(self, on_answer: Callable[[], None], workers: int = 16) -> None:
        self.records: dict[str, Probing] = {}
        self._on_answer = on_answer
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe")

    def started(self, name: str, pid: int, *, probe_now: bool = True) -> None:
        """A pod's process started (or was adopted): probe it from now on."""
        now = time.monotonic()
        self.records[name] = Probing(pid, now, now if probe_now else 0.0)

    def forget(self, name: str) -> Probing | None:
        return self.records.pop(name, None)

    def detail(self, name: str) -> str:
        record = self.records.get(name)
        return record.detail if record else ""

    def answers(self, pods: dict[str, Pod],
                policy: ProbePolicy) -> Iterator[tuple[Pod, Probing, ProbeOutcome]]:
        """The answers that came in for ``pods`` since the last pass (one per pod at most), and
        the probes now due sent. An answer from an earlier process of a pod, or for a pod being
        terminated, is dropped."""
        now = time.monotonic()
        for name, record in list(self.records.items()):
            pod = pods.get(name)
            if pod is None:
                continue
            if record.inflight is not None and record.inflight.done():
                outcome = record.inflight.result()
                record.inflight = None
                if outcome.pid == record.pid and not pod.terminating:
                    yield pod, record, outcome
            if record.inflight is None and now >= record.next_at and not pod.terminating:
                record.inflight = self._executor.submit(
                    probe, pod.url(), record.pid, readiness=policy.readiness_path,
                    liveness=policy.liveness_path, timeout=policy.timeout_s)
                # Its answer is acted on at once (a pod ready now is in the endpoints now).
                record.inflight.add_done_callback(lambda _: self._on_answer())
                record.next_at = now + (policy.period_s if record.ever_ready else policy.startup_period_s)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
