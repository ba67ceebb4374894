"""drillbook's engine: the pytest plugin, Drill, probes, ledger, timing, journal."""

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
