"""drillbook's engine: the pytest plugin, Drill, probes, ledger, timing, journal.

The names below are imported on first use: a process that needs one module
(a service replica, a CLI command) does not pay for all of them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Drill": "harness.drill",
    "DrillResult": "harness.records",
    "Measured": "harness.records",
    "Status": "harness.records",
    "DrillbookError": "harness.errors",
    "FaultError": "harness.errors",
    "InvalidDrillConfig": "harness.errors",
    "RecoveryTimeout": "harness.errors",
    "RevertFailed": "harness.errors",
    "SteadyStateNotMet": "harness.errors",
    "InMemoryLedgerStore": "harness.ledger",
    "Ledger": "harness.ledger",
    "Probe": "harness.probes",
    "http_probe": "harness.probes",
    "sql_probe": "harness.probes",
    "tcp_probe": "harness.probes",
    "parse_duration": "harness.durations",
}

__all__ = [
    "Drill",
    "DrillResult",
    "DrillbookError",
    "FaultError",
    "InMemoryLedgerStore",
    "InvalidDrillConfig",
    "Ledger",
    "Measured",
    "Probe",
    "RecoveryTimeout",
    "RevertFailed",
    "Status",
    "SteadyStateNotMet",
    "http_probe",
    "parse_duration",
    "sql_probe",
    "tcp_probe",
]

if TYPE_CHECKING:
    from harness.drill import Drill
    from harness.durations import parse_duration
    from harness.errors import (
        DrillbookError,
        FaultError,
        InvalidDrillConfig,
        RecoveryTimeout,
        RevertFailed,
        SteadyStateNotMet,
    )
    from harness.ledger import InMemoryLedgerStore, Ledger
    from harness.probes import Probe, http_probe, sql_probe, tcp_probe
    from harness.records import DrillResult, Measured, Status


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
