"""The steady-state monitor: polls the probes from the fault on, to measure
detection and recovery as they happen, not when the drill gets round to look."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from drillbook.harness import signals
from drillbook.harness.probes import Probe, ProbeResult


@dataclass(frozen=True)
class Check:
    """One evaluation of the whole steady state (every probe)."""

    passed: bool
    observed: float  # monotonic time the last answer arrived
    results: tuple[ProbeResult, ...]

    @property
    def detail(self) -> str:
        failing = [f"{r.name}: {r.detail or 'failed'}" for r in self.results if not r.passed]
        return "; ".join(failing) if failing else "all probes pass"


def check_all(probes: Sequence[Probe]) -> Check:
    results = tuple(p.run() for p in probes)
    observed = max((r.observed for r in results), default=time.monotonic())
    return Check(all(r.passed for r in results), observed, results)


class Monitor:
    """Runs ``check_all`` every ``interval`` seconds in a background thread.

    Keeps the first failing check (detection) and the start of the current run
    of consecutive passing checks. A check's time is when its answer arrived, so
    a request that was sent during the outage and answered after it counts from
    the answer: recovery is never dated before it was observed.
    """

    def __init__(self, probes: Sequence[Probe], interval: float, consecutive: int) -> None:
        self.probes = list(probes)
        self.interval = interval
        self.consecutive = consecutive
        self.first_failure: Check | None = None
        self.last_failure: Check | None = None
        self.run_start: Check | None = None
        self.run_length = 0
        self.checks = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="drillbook-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        signals.main_thread_only()
        next_tick = time.monotonic()
        while not self._stop.is_set():
            check = check_all(self.probes)
            with self._cond:
                self.checks += 1
                if check.passed:
                    if self.run_length == 0:
                        self.run_start = check
                    self.run_length += 1
                else:
                    self.run_length = 0
                    self.run_start = None
                    self.last_failure = check
                    if self.first_failure is None:
                        self.first_failure = check
                self._cond.notify_all()
            next_tick += self.interval
            delay = next_tick - time.monotonic()
            if delay < 0:
                next_tick = time.monotonic()
                delay = 0
            self._stop.wait(delay)

    def wait_recovered(self, deadline: float) -> Check | None:
        """Block until ``consecutive`` checks in a row pass; the run's first check, or None."""
        with self._cond:
            while self.run_length < self.consecutive:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return None
                self._cond.wait(min(remaining, 0.5))
            return self.run_start

    def snapshot(self) -> tuple[Check | None, Check | None, int]:
        with self._cond:
            return self.first_failure, self.run_start, self.run_length
