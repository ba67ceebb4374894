"""Contract cases: one module per registered fault, named after the fault."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from drillbook.faults.base import Fault
from tests.local_env import shared_local_env


@dataclass
class ContractCase:
    fault: Fault
    steady: Callable[[], bool]
    #: Checks the fault took effect; None for faults with no observable effect (noop).
    broken: Callable[[], bool] | None = None
    timeout: float = 15.0
    #: The platform refuses this fault here, and the error must say so (a regex of it): inject
    #: raises it, nothing changes, revert does no harm (RDS stops no primary with a read replica).
    refused: str | None = None

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


def workers_replaced_case(
    request: pytest.FixtureRequest, make_fault: Callable[[dict[str, str]], Fault]
) -> ContractCase:
    """The case of a fault that replaces processes of the shared environment's ``workers``
    (a kill, a rollout restart): its effect is a replica with a new pid (or a new replica), and
    the steady state is as many ready replicas as before."""
    shared = shared_local_env(request.config)
    workers = shared.env.workers
    wanted = len(workers.replicas())
    before = {(r.name, r.pid) for r in workers.replicas()}

    def steady() -> bool:
        return len([r for r in workers.replicas() if r.ready]) == wanted

    def broken() -> bool:
        return any((r.name, r.pid) not in before for r in workers.replicas())

    return ContractCase(make_fault(shared.where()), steady=steady, broken=broken, timeout=60)
