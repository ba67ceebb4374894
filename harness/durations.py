"""Parse the duration strings used for targets and timeouts ("45s", "15min", "2h30m")."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from drillbook.harness.errors import InvalidDrillConfig

ACCEPTED_FORMS = '"0", "45s", "1.5s", "15min", "5m", "1h", "2h30m", "1d", a number of seconds or a timedelta'

_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
# Longest unit names first so "min" is not read as "m" + "in".
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|min|sec|s|m|h|d)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|min|sec|s|m|h|d))+")


def parse_duration(value: object, *, what: str = "duration") -> float:
    """Return ``value`` as seconds (a float >= 0).

    Raises :class:`InvalidDrillConfig` naming the bad value and the accepted forms.
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise _bad(value, what)
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_text(value, what)
    else:
        raise _bad(value, what)
    if not math.isfinite(seconds) or seconds < 0:
        raise _bad(value, what)
    return seconds


def _parse_text(text: str, what: str) -> float:
    compact = text.strip().lower().replace(" ", "")
    if compact == "0":
        return 0.0
    if not compact or not _WHOLE.fullmatch(compact):
        raise _bad(text, what)
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(compact))


def _bad(value: object, what: str) -> InvalidDrillConfig:
    return InvalidDrillConfig(f"invalid {what} {value!r}: use one of {ACCEPTED_FORMS}")


def format_duration(seconds: float | None) -> str:
    """Render seconds for people: "850ms", "42.10s", "15m", "3m 05s", "1h 05m"."""
    if seconds is None:
        return "n/a"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 59.995:
        return f"{seconds:.2f}s"
    if seconds < 3599.5:
        # Round to the whole second first, so 239.6 s reads "4m", not "3m 60s".
        minutes, secs = divmod(round(seconds), 60)
        return f"{minutes}m" if secs == 0 else f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours}h" if minutes == 0 else f"{hours}h {minutes:02d}m"
