"""The canary writer: a background thread writing sequence-numbered rows."""

from __future__ import annotations

import threading
import time
from types import TracebackType

from drillbook.harness import signals
from drillbook.harness.ledger.reconcile import Reconciliation, WriteOutcome, WriteRecord, reconcile
from drillbook.harness.ledger.store import LedgerStore, WriteFailed
from drillbook.harness.polling import holds_within


class Ledger:
    """Writes seq 1, 2, 3, ... to ``store`` every ``interval`` seconds and records,
    client-side, each write's outcome and acknowledgement time.

    Use it as a context manager, or ``start()`` / ``stop()``. ``reconcile(t_fault)``
    stops the writer and compares the history with what the store holds now.
    """

    def __init__(
        self, store: LedgerStore, run_id: str, *, interval: float = 0.05, timeout: float = 1.0
    ) -> None:
        if interval <= 0 or timeout <= 0:
            raise ValueError("ledger interval and timeout must be positive")
        self.store = store
        self.run_id = run_id
        self.interval = interval
        self.timeout = timeout
        self.writes: list[WriteRecord] = []
        self.started: float | None = None
        self.stopped: float | None = None
        self.result: Reconciliation | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> Ledger:
        if self._thread is not None:
            return self
        self.store.prepare(self.run_id)
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="drillbook-ledger", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)
        if self.stopped is None:
            self.stopped = time.monotonic()

    def __enter__(self) -> Ledger:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._stop.is_set()

    def history(self) -> list[WriteRecord]:
        with self._lock:
            return list(self.writes)

    def acked_count(self) -> int:
        return sum(1 for w in self.history() if w.outcome is WriteOutcome.ACKED)

    def wait_for_acks(self, count: int, timeout: float = 10.0) -> bool:
        """Block until at least ``count`` writes were acknowledged (or ``timeout``)."""
        return holds_within(lambda: self.acked_count() >= count, timeout=timeout, interval=self.interval / 2)

    def reconcile(self, t_fault: float | None) -> Reconciliation:
        self.stop()
        present = self.store.present(self.run_id, max(self.timeout, 5.0))
        self.result = reconcile(self.history(), present, t_fault, self.started or 0.0)
        return self.result

    def _run(self) -> None:
        signals.main_thread_only()
        seq = 0
        next_tick = time.monotonic()
        while not self._stop.is_set():
            seq += 1
            sent = time.monotonic()
            try:
                self.store.write(self.run_id, seq, self.timeout)
                outcome = WriteOutcome.ACKED
            except WriteFailed:
                outcome = WriteOutcome.FAILED
            except Exception:  # anything else: we cannot know whether it landed
                outcome = WriteOutcome.INDETERMINATE
            done = time.monotonic()
            with self._lock:
                self.writes.append(WriteRecord(seq, sent, outcome, done))
            next_tick += self.interval
            delay = next_tick - time.monotonic()
            if delay < 0:  # a slow write: do not try to catch up with a burst
                next_tick = time.monotonic()
                delay = 0
            self._stop.wait(delay)
