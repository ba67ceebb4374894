"""Waiting for a remote state: the drivers' form of the one poller (``harness.polling``).

Real control planes take minutes (an RDS restore takes tens of them), so every wait says
what it waits for, how long it has waited and the last state seen, and ends with
:class:`WaitTimeout` (a :class:`~drillbook.harness.errors.RecoveryTimeout`) carrying the
numbers when the state does not come. A poll here answers (done, the state seen); the
waiting itself, its progress lines and its cut to the drill's hard timeout are the poller's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from drillbook.harness import polling
from drillbook.harness.polling import WaitTimeout

__all__ = ["Poll", "Progress", "WaitTimeout", "Waited", "wait_until"]

Progress = Callable[[str], None]
#: One poll: (done, a short description of the state seen).
Poll = Callable[[], tuple[bool, str]]


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
    polls = 0

    def once() -> tuple[bool, str]:
        nonlocal polls
        polls += 1
        return poll()

    done = polling.wait_until(once, what=what, timeout=timeout, interval=interval,
                              until=lambda seen: seen[0], describe=lambda seen: seen[1], progress=progress)
    return Waited(done[1], time.monotonic() - started, polls)
