"""The acknowledged-write ledger: a canary writer and the reconciliation that gives RPO."""

from harness.ledger.memory import InMemoryLedgerStore
from harness.ledger.reconcile import Reconciliation, WriteOutcome, WriteRecord, reconcile
from harness.ledger.store import LedgerStore, WriteFailed, WriteIndeterminate
from harness.ledger.writer import Ledger

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
