"""One error hierarchy with a single root: :class:`DrillbookError`.

Errors that break an objective carry the numbers (``RecoveryTimeout(measured,
objective)``); errors about bad input name the value and the fix.
"""

from __future__ import annotations

import signal


class DrillbookError(Exception):
    """Root of every error drillbook raises on purpose."""

    #: The exit code of a command that stops on this error: 2, bad input or a failed precondition.
    exit_code = 2


class InvalidDrillConfig(DrillbookError, ValueError):
    """A marker argument, option or config value is not acceptable."""


class RecoveryTimeout(DrillbookError):
    """Recovery did not happen within its objective.

    ``measured`` is how long we waited (seconds), ``objective`` the limit (seconds).
    """

    def __init__(self, measured: float, objective: float, what: str = "recovery") -> None:
        self.measured = measured
        self.objective = objective
        self.what = what
        super().__init__(
            f"{what} did not complete within {objective:.3f}s (waited {measured:.3f}s); "
            "raise the timeout if the objective allows it, or fix the recovery"
        )


class SteadyStateNotMet(DrillbookError):
    """The steady state did not hold before any fault was injected."""


class FaultError(DrillbookError):
    """A fault could not be injected."""


class RevertFailed(DrillbookError):
    """One or more faults could not be reverted; they stay in the undo log."""


class UnknownFault(DrillbookError, LookupError):
    """No registered fault has that name."""


class DuplicateFault(DrillbookError):
    """Two entry points register the same fault name."""


class JournalError(DrillbookError):
    """A journal record is unreadable or the hash chain is broken."""


class DrillInterrupted(KeyboardInterrupt):
    """The runner received SIGTERM (or SIGINT, where the command asked for it); raised so every
    ``finally`` (and revert) runs. ``exit_code`` is the shell's for that signal (143, 130)."""

    def __init__(self, message: str, signum: int = signal.SIGTERM) -> None:
        super().__init__(message)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum
