"""Waiting for a remote state with a timeout and a progress line per poll.

Real control planes take minutes (an RDS restore takes tens of them), so every
wait says what it waits for, how long it has waited and the last state seen, and
ends with :class:`WaitTimeout` (a :class:`~drillbook.harness.errors.RecoveryTimeout`) carrying
the numbers when the state does not come.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from drillbook.harness.durations import format_duration
from drillbook.harness.errors import RecoveryTimeout

Progress = Callable[[str], None]
#: One poll: (done, a short description of the state seen).
Poll = Callable[[], tuple[bool, str]]


class WaitTimeout(RecoveryTimeout):
    """A remote state did not come within the wait's timeout; ``last_state`` says what was seen."""

    def __init__(self, measured: float, objective: float, what: str, last_state: str) -> None:
        self.last_state = last_state
        super().__init__(measured, objective, what=f"{what} (last seen: {last_state})")


@dataclass(frozen=True)
class Waited:
    state: str
    seconds: float
    polls: int


def wait_until(
    what: str, poll: Poll, *, timeout: float, interval: float = 5.0, progress: Progress | None = None
) -> Waited:
    """Poll until done; ``progress`` gets one line per poll. Never sleeps past the deadline."""
    started = time.monotonic()
    deadline = started + timeout
    polls = 0
    state = "not polled yet"
    while True:
        polls += 1
        done, state = poll()
        elapsed = time.monotonic() - started
        if progress is not None:
            progress(f"{what}: {state} after {elapsed:.1f}s (timeout {format_duration(timeout)})")
        if done:
            return Waited(state, elapsed, polls)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout(time.monotonic() - started, timeout, what, state)
        time.sleep(min(interval, remaining))
