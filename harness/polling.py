"""The one poller: wait until something holds, at an interval, bounded by a deadline.

Every wait for a state (a server answering, a rollout complete, a WAL segment archived,
an RDS instance available) is the same loop: ask; if the answer is not the awaited one,
sleep an interval and ask again, until a deadline. Written once, a wait always asks at
least once, asks once more at the deadline and never sleeps past it, can say where it
stands on each poll (progress lines, for waits of minutes), and ends with a
:class:`WaitTimeout` naming what was awaited, how long it waited and what it saw last.

A wait never outlasts the drill it serves: once a drill has injected its first fault it
sets :func:`cut_at` to the end of its hard timeout, and every wait in that thread (a
driver's wait for an RDS restore of an hour, a rollout's) is cut to what is left of it.
The drill clears it before its reverts, which must run to the end whatever the time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from drillbook.harness.durations import format_duration
from drillbook.harness.errors import InvalidDrillConfig, RecoveryTimeout
from drillbook.harness.redact import redact_text

T = TypeVar("T")
#: Gets one line per poll: what is awaited, the state seen, the time waited.
Progress = Callable[[str], None]


class WaitTimeout(RecoveryTimeout):
    """What was awaited did not come within the timeout; ``last_state`` says what was seen last."""

    def __init__(self, measured: float, objective: float, what: str, last_state: str) -> None:
        self.awaited = what
        self.last_state = last_state
        super().__init__(measured, objective, what=f"{what} (last seen: {last_state})")


@dataclass(frozen=True)
class Cut:
    """The monotonic time no wait may pass, and why (said when a wait is cut by it)."""

    at: float
    why: str


_cut: ContextVar[Cut | None] = ContextVar("drillbook_wait_cut", default=None)


def cut_at(at: float | None, why: str = "") -> None:
    """Cut every later wait of this thread at the monotonic time ``at`` (None: no more cut)."""
    _cut.set(None if at is None else Cut(at, why))


def wait_until(
    check: Callable[[], T],
    *,
    what: str,
    timeout: float,
    interval: float,
    until: Callable[[T], object] = bool,
    describe: Callable[[T], str] | None = None,
    ignore: tuple[type[Exception], ...] = (),
    progress: Progress | None = None,
    progress_every: float = 0.0,
    sleep: Callable[[float], object] = time.sleep,
) -> T:
    """Call ``check`` every ``interval`` seconds until ``until(value)`` holds; returns that value.

    ``what`` names the awaited state ("moto's server to answer on port 4000"). ``describe``
    words a value for progress lines and the timeout (default: the value itself, "not yet"
    for False or None). An exception of a type in ``ignore`` counts as "not yet" (its text,
    redacted, is the state seen); any other propagates at once, so a check may end the wait
    early by raising (the process it waits for died). ``progress`` gets a line per poll, at
    most one per ``progress_every`` seconds. ``sleep`` may be an ``Event.wait`` to make the
    pauses interruptible. Raises :class:`WaitTimeout` after ``timeout`` seconds.
    """
    if not interval > 0:
        raise InvalidDrillConfig(f"a poll interval must be more than 0 seconds, not {interval!r}")
    started = time.monotonic()
    deadline = started + max(timeout, 0.0)
    cut, awaited = _cut.get(), what
    if cut is not None and cut.at < deadline - 0.01:
        deadline = max(cut.at, started)
        timeout = deadline - started
        awaited = f"{what} (cut to {cut.why})" if cut.why else what
    reported = float("-inf")
    while True:
        try:
            value = check()
        except ignore as exc:
            done, state = False, f"{type(exc).__name__}: {redact_text(str(exc))}"
        else:
            done = bool(until(value))
            state = describe(value) if describe is not None else _word(value)
        now = time.monotonic()
        if progress is not None and (done or now - reported >= progress_every):
            reported = now
            progress(f"{what}: {state} after {now - started:.1f}s (timeout {format_duration(timeout)})")
        if done:
            return value
        remaining = deadline - now
        if remaining <= 0:
            raise WaitTimeout(now - started, timeout, awaited, state)
        sleep(min(interval, remaining))


def holds_within(check: Callable[[], object], *, timeout: float, interval: float) -> bool:
    """True as soon as ``check`` returns a truthy value; False, not an error, if it did not
    within ``timeout`` (for callers whose next step is the same either way, e.g. SIGKILL
    what a SIGTERM did not stop)."""
    try:
        wait_until(check, what="condition", timeout=timeout, interval=interval)
    except WaitTimeout:
        return False
    return True


def _word(value: object) -> str:
    return "not yet" if value is None or value is False else str(value)
