"""One drill run per environment: the environment lease.

A run (``drillbook run``, ``drillbook unannounced run``, a plain ``pytest`` of drills)
holds its environment's lease for its whole run: a lock in the state directory, or a
Kubernetes ``Lease`` in the drill namespace for a staging profile. A second run is
refused naming the holder (:class:`LeaseHeld`, exit code 3) or waits for it; a dead
holder's lease is taken over only after its faults are reverted.
"""

from __future__ import annotations

from drillbook.harness.lease.acquire import Lease, acquire, holding
from drillbook.harness.lease.backend import Backend, LeaseStatus
from drillbook.harness.lease.holder import (
    LEASE_VARIABLE,
    LeaseError,
    LeaseHeld,
    LeaseHolder,
    LeaseLost,
)
from drillbook.harness.lease.select import lease_for

__all__ = [
    "LEASE_VARIABLE",
    "Backend",
    "Lease",
    "LeaseError",
    "LeaseHeld",
    "LeaseHolder",
    "LeaseLost",
    "LeaseStatus",
    "acquire",
    "holding",
    "lease_for",
]
