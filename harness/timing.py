"""Monotonic time for durations, with UTC wall-clock stamps derived from one anchor.

Every timestamp of a drill comes from ``time.monotonic()``; the UTC ISO string
for the timeline is the anchor's wall time plus the monotonic offset, so the
timeline and the durations can never disagree (NTP steps do not move either).
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self.mono0 = time.monotonic()
        self.wall0 = datetime.now(UTC)

    @staticmethod
    def now() -> float:
        return time.monotonic()

    def wall(self, mono: float | None = None) -> datetime:
        if mono is None:
            mono = time.monotonic()
        return self.wall0 + timedelta(seconds=mono - self.mono0)

    def iso(self, mono: float | None = None) -> str:
        return iso(self.wall(mono))

    def since_start(self, mono: float | None = None) -> float:
        return (time.monotonic() if mono is None else mono) - self.mono0


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utcnow_iso() -> str:
    return iso(datetime.now(UTC))


def new_run_id() -> str:
    """A run's id: when it started (UTC, to the second) and six random hex digits."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
