"""The window an unannounced drill may fall in: ``START..END``.

``START`` and ``END`` are ISO 8601 dates or date-times (UTC when no offset is
given). A date-only ``END`` includes that whole day. ``now`` is accepted as
``START`` and ``+DURATION`` as ``END`` (relative to ``START``), e.g.
``now..+30d``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from drillbook.harness.durations import parse_duration
from drillbook.harness.errors import InvalidDrillConfig

FORMS = "START..END with ISO dates or date-times (2025-03-01..2025-03-31, 2025-03-01T09:00Z..+14d, now..+30d)"


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def describe(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def parse_window(text: str, *, now: datetime | None = None) -> Window:
    now = now or datetime.now(UTC)
    if text.count("..") != 1:
        raise InvalidDrillConfig(f"invalid window {text!r}: use {FORMS}")
    first, second = (part.strip() for part in text.split(".."))
    start = now if first.lower() == "now" else _moment(first, end=False)
    if second.startswith("+"):
        end = start + timedelta(seconds=parse_duration(second[1:], what="window length"))
    else:
        end = _moment(second, end=True)
    if end <= start:
        raise InvalidDrillConfig(f"window {text!r} ends before it starts: END must be after START")
    return Window(start, end)


def _moment(text: str, *, end: bool) -> datetime:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidDrillConfig(f"invalid window bound {text!r}: use {FORMS}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
