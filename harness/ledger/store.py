"""What a ledger store must do: write one sequence number, list the ones present."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from drillbook.harness.errors import DrillbookError


class WriteFailed(DrillbookError):
    """The write certainly did not happen (e.g. the connection was refused)."""


class WriteIndeterminate(DrillbookError):
    """The outcome is unknown (e.g. a timeout after the statement was sent)."""


@runtime_checkable
class LedgerStore(Protocol):
    """A place the canary writer writes to and reconciliation reads from.

    ``write`` returns only once the write is acknowledged (committed). It raises
    :class:`WriteFailed` when the write certainly did not happen and
    :class:`WriteIndeterminate` when its outcome is unknown; any other exception
    is treated as indeterminate. Every call must finish within ``timeout`` seconds.
    """

    def prepare(self, run_id: str) -> None: ...

    def write(self, run_id: str, seq: int, timeout: float) -> None: ...

    def present(self, run_id: str, timeout: float) -> set[int]: ...

    def close(self) -> None: ...
