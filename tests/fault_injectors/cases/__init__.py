"""Contract cases: one module per registered fault, named after the fault."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from drillbook.faults.base import Fault


@dataclass
class ContractCase:
    fault: Fault
    steady: Callable[[], bool]
    #: Checks the fault took effect; None for faults with no observable effect (noop).
    broken: Callable[[], bool] | None = None
    timeout: float = 15.0

    def wait(self, check: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return True
            except Exception:
                pass
            time.sleep(0.05)
        return False

    def settled(self, hold: float = 1.0) -> bool:
        """The steady state holds without a break for ``hold`` seconds (within the timeout):
        what the previous case reverted (a rollout, a restarted server) has finished."""
        deadline = time.monotonic() + self.timeout + hold
        since: float | None = None
        while time.monotonic() < deadline:
            try:
                ok = bool(self.steady())
            except Exception:
                ok = False
            now = time.monotonic()
            if not ok:
                since = None
            elif since is None:
                since = now
            elif now - since >= hold:
                return True
            time.sleep(0.05)
        return False
