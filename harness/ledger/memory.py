"""An in-memory ledger store, for tests and for faults that only lose memory."""

from __future__ import annotations

import threading


class InMemoryLedgerStore:
    """Holds the written sequence numbers in a set; ``drop`` simulates loss."""

    def __init__(self) -> None:
        self._rows: dict[str, set[int]] = {}
        self._lock = threading.Lock()
        self.available = True

    def prepare(self, run_id: str) -> None:
        with self._lock:
            self._rows.setdefault(run_id, set())

    def write(self, run_id: str, seq: int, timeout: float) -> None:
        from drillbook.harness.ledger.store import WriteFailed

        with self._lock:
            if not self.available:
                raise WriteFailed("store unavailable")
            self._rows.setdefault(run_id, set()).add(seq)

    def present(self, run_id: str, timeout: float) -> set[int]:
        with self._lock:
            return set(self._rows.get(run_id, set()))

    def drop(self, run_id: str, seqs: set[int] | range) -> None:
        with self._lock:
            self._rows.get(run_id, set()).difference_update(seqs)

    def close(self) -> None:
        pass
