from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.harness.durations import format_duration, parse_duration
from drillbook.harness.errors import InvalidDrillConfig


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0),
        ("45s", 45),
        ("15min", 900),
        ("5m", 300),
        ("1h", 3600),
        ("2h30m", 9000),
        ("1.5s", 1.5),
        ("250ms", 0.25),
        ("1d", 86400),
        (" 1h 5m ", 3900),
        (timedelta(minutes=2), 120),
        (7, 7.0),
    ],
)
def test_accepted_forms(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "bad", ["", "abc", "5x", "-1s", "1h-", "m", "5 minutes", "1e3s", None, True, [], "nan"]
)
def test_rejected_with_the_accepted_forms(bad: object) -> None:
    with pytest.raises(InvalidDrillConfig) as info:
        parse_duration(bad, what="rto")
    message = str(info.value)
    assert repr(bad) in message and "2h30m" in message
    assert isinstance(info.value, ValueError)


@given(st.text(max_size=12))
def test_random_text_parses_or_raises_invalid_config(text: str) -> None:
    try:
        value = parse_duration(text)
    except InvalidDrillConfig:
        return
    assert value >= 0


@given(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59))
def test_composed_units_add_up(h: int, m: int, s: int) -> None:
    assert parse_duration(f"{h}h{m}m{s}s") == h * 3600 + m * 60 + s
    assert parse_duration(timedelta(hours=h, minutes=m, seconds=s)) == h * 3600 + m * 60 + s


def test_format_is_readable() -> None:
    assert format_duration(None) == "n/a"
    assert format_duration(0.25) == "250ms"
    assert format_duration(42.1) == "42.10s"
    assert format_duration(900) == "15m"
    assert format_duration(3900) == "1h 05m"
