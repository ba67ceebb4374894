"""UTC timestamps and offsets as reports print them."""

from __future__ import annotations

from datetime import UTC, datetime

from drillbook.harness.durations import format_duration


def parse_iso(text: str | None) -> datetime | None:
    """A journal timestamp ("2026-11-27T03:06:42.445Z") as an aware UTC datetime."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def clock(moment: datetime | None) -> str:
    """Time of day with milliseconds: "03:06:42.445"."""
    return "" if moment is None else moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def stamp(moment: datetime | None) -> str:
    """Date and time in UTC: "2026-11-27 03:06:42.445 UTC"."""
    return "" if moment is None else f"{moment:%Y-%m-%d} {clock(moment)} UTC"


def day(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d}"


def offset(seconds: float | None) -> str:
    """An offset from the fault: "T+1.23s", "T-630ms"."""
    if seconds is None:
        return ""
    sign = "+" if seconds >= 0 else "-"
    return f"T{sign}{format_duration(abs(seconds))}"


def between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def long_duration(seconds: float | None) -> str:
    """For people reading a post-mortem: "1 hour 30 minutes", "2 minutes 5 seconds", "1.11 seconds"."""
    if seconds is None:
        return "not measured"
    if seconds < 60:
        return f"{seconds:.2f} seconds"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(hours, "hour"), (minutes, "minute")] if hours else [(minutes, "minute"), (secs, "second")]
    return " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n)
