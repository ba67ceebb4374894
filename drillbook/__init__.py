"""drillbook: chaos and disaster-recovery drills as pytest tests, with measured RTO/RPO
and guaranteed revert.

The public API is what this module exports (imported on first use)::

    from drillbook import Fault, Drill, http_probe, sql_probe, tcp_probe, Runbook, Step
    from drillbook import InMemoryLedgerStore, PostgresLedgerStore, DrillResult
    from drillbook.faults import ProcessKill, NetworkPartition, RdsStop, K8sPodKill

Everything else (``drillbook.harness``, ``drillbook.reports``, the reference suite in
``drillbook.drills``) is internal and may change between releases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drillbook._lazy import exporter

_EXPORTS = {
    # a drill, its fault and its recovery
    "Drill": "drillbook.harness.drill",
    "Fault": "drillbook.faults.base",
    "Change": "drillbook.faults.base",
    "Runbook": "drillbook.harness.runbook",
    "Step": "drillbook.harness.runbook",
    "StepResult": "drillbook.harness.runbook",
    "DETECTION": "drillbook.harness.phases",
    "ASSESSMENT": "drillbook.harness.phases",
    "ACTIVATION": "drillbook.harness.phases",
    "RESTORATION": "drillbook.harness.phases",
    "VERIFICATION": "drillbook.harness.phases",
    "PHASES": "drillbook.harness.phases",
    # the steady state
    "Probe": "drillbook.harness.probes",
    "ProbeResult": "drillbook.harness.probes",
    "http_probe": "drillbook.harness.probes",
    "sql_probe": "drillbook.harness.probes",
    "tcp_probe": "drillbook.harness.probes",
    # the acknowledged-write ledger
    "Ledger": "drillbook.harness.ledger",
    "LedgerStore": "drillbook.harness.ledger",
    "InMemoryLedgerStore": "drillbook.harness.ledger",
    "PostgresLedgerStore": "drillbook.harness.ledger.postgres",
    "WriteFailed": "drillbook.harness.ledger",
    "WriteIndeterminate": "drillbook.harness.ledger",
    # results
    "DrillResult": "drillbook.harness.records",
    "Measured": "drillbook.harness.records",
    "Status": "drillbook.harness.records",
    # environments
    "Environment": "drillbook.harness.environments.base",
    "RoleUnavailable": "drillbook.harness.environments.base",
    # errors
    "DrillbookError": "drillbook.harness.errors",
    "FaultError": "drillbook.harness.errors",
    "InvalidDrillConfig": "drillbook.harness.errors",
    "RecoveryTimeout": "drillbook.harness.errors",
    "RevertFailed": "drillbook.harness.errors",
    "SteadyStateNotMet": "drillbook.harness.errors",
    # the toxiproxy-compatible server and its client (network faults on links of your own)
    "ToxiproxyServer": "drillbook.harness.toxiproxy.server",
    "ToxiproxyClient": "drillbook.harness.toxiproxy.client",
    # exploring combinations of faults (docs/explore.md)
    "Explorer": "drillbook.harness.explore",
    "FaultChoice": "drillbook.harness.explore",
    "FaultSpace": "drillbook.harness.explore",
    "Target": "drillbook.harness.explore",
    # helpers
    "parse_duration": "drillbook.harness.durations",
}

__all__ = [
    "ACTIVATION",
    "ASSESSMENT",
    "DETECTION",
    "PHASES",
    "RESTORATION",
    "VERIFICATION",
    "Change",
    "Drill",
    "DrillResult",
    "DrillbookError",
    "Environment",
    "Explorer",
    "Fault",
    "FaultChoice",
    "FaultError",
    "FaultSpace",
    "InMemoryLedgerStore",
    "InvalidDrillConfig",
    "Ledger",
    "LedgerStore",
    "Measured",
    "PostgresLedgerStore",
    "Probe",
    "ProbeResult",
    "RecoveryTimeout",
    "RevertFailed",
    "RoleUnavailable",
    "Runbook",
    "Status",
    "SteadyStateNotMet",
    "Step",
    "StepResult",
    "Target",
    "ToxiproxyClient",
    "ToxiproxyServer",
    "WriteFailed",
    "WriteIndeterminate",
    "http_probe",
    "parse_duration",
    "sql_probe",
    "tcp_probe",
]

if TYPE_CHECKING:
    from drillbook.faults.base import Change, Fault
    from drillbook.harness.drill import Drill
    from drillbook.harness.durations import parse_duration
    from drillbook.harness.environments.base import Environment, RoleUnavailable
    from drillbook.harness.errors import (
        DrillbookError,
        FaultError,
        InvalidDrillConfig,
        RecoveryTimeout,
        RevertFailed,
        SteadyStateNotMet,
    )
    from drillbook.harness.explore import Explorer, FaultChoice, FaultSpace, Target
    from drillbook.harness.ledger import (
        InMemoryLedgerStore,
        Ledger,
        LedgerStore,
        WriteFailed,
        WriteIndeterminate,
    )
    from drillbook.harness.ledger.postgres import PostgresLedgerStore
    from drillbook.harness.phases import ACTIVATION, ASSESSMENT, DETECTION, PHASES, RESTORATION, VERIFICATION
    from drillbook.harness.probes import Probe, ProbeResult, http_probe, sql_probe, tcp_probe
    from drillbook.harness.records import DrillResult, Measured, Status
    from drillbook.harness.runbook import Runbook, Step, StepResult
    from drillbook.harness.toxiproxy.client import ToxiproxyClient
    from drillbook.harness.toxiproxy.server import ToxiproxyServer

__getattr__ = exporter(__name__, globals(), _EXPORTS)
