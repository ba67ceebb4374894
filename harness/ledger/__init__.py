"""The acknowledged-write ledger: a canary writer and the reconciliation that gives RPO."""

from drillbook.harness.ledger.memory import InMemoryLedgerStore
from drillbook.harness.ledger.reconcile import Reconciliation, WriteOutcome, WriteRecord, reconcile
from drillbook.harness.ledger.store import LedgerStore, WriteFailed, WriteIndeterminate
from drillbook.harness.ledger.writer import Ledger

__all__ = [
    "InMemoryLedgerStore",
    "Ledger",
    "LedgerStore",
    "Reconciliation",
    "WriteFailed",
    "WriteIndeterminate",
    "WriteOutcome",
    "WriteRecord",
    "reconcile",
]
