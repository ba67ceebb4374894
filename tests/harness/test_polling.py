"""The one poller: what it returns, when it asks, how it gives up."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from drillbook.harness.errors import InvalidDrillConfig, RecoveryTimeout
from drillbook.harness.polling import WaitTimeout, holds_within, wait_until


class Counter:
    """Answers ``answers`` in turn (the last one from then on), counting the calls."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers) or [None]
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        return self.answers[min(self.calls, len(self.answers)) - 1]


def test_returns_the_first_value_that_holds() -> None:
    check = Counter(None, 0, "", "ready")
    assert wait_until(check, what="x", timeout=10, interval=0.001) == "ready"
    assert check.calls == 4


def test_until_judges_the_value_and_the_value_is_returned() -> None:
    check = Counter({"status": "creating"}, {"status": "available"})
    seen = wait_until(check, what="x", timeout=10, interval=0.001, until=lambda s: s["status"] == "available")
    assert seen == {"status": "available"} and check.calls == 2


def test_asks_once_even_with_no_time_left() -> None:
    check = Counter(True)
    assert wait_until(check, what="x", timeout=0, interval=1) is True
    with pytest.raises(WaitTimeout):
        wait_until(Counter(False), what="x", timeout=-5, interval=1)


def test_timeout_names_what_was_awaited_and_the_last_state() -> None:
    check = Counter({"lag": 5}, {"lag": 3})
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        wait_until(
            check,
            what="the replica to catch up",
            timeout=0.2,
            interval=0.05,
            until=lambda s: s["lag"] == 0,
            describe=lambda s: f"{s['lag']} bytes behind",
        )
    waited = time.monotonic() - started
    error = caught.value
    assert isinstance(error, RecoveryTimeout)  # a drill's wait that runs out fails the drill as timed out
    assert error.awaited == "the replica to catch up" and error.last_state == "3 bytes behind"
    assert "the replica to catch up (last seen: 3 bytes behind) did not complete within 0.200s" in str(error)
    assert error.measured >= 0.2 and waited >= 0.2
    assert waited < 5  # it gave up, and did not sleep far past the deadline
    assert check.calls >= 3  # asked at the start, on each interval, and once more at the deadline


def test_never_sleeps_past_the_deadline() -> None:
    sleeps: list[float] = []
    with pytest.raises(WaitTimeout):
        wait_until(Counter(False), what="x", timeout=0.05, interval=60, sleep=sleeps.append)
    assert sleeps and all(s <= 0.05 for s in sleeps)


def test_ignored_errors_count_as_not_yet_and_are_reported_redacted() -> None:
    calls = Counter()

    def check() -> bool:
        calls()
        raise ConnectionRefusedError("postgresql://app:hunter2@127.0.0.1:5/db refused")

    with pytest.raises(WaitTimeout) as caught:
        wait_until(check, what="the database", timeout=0.1, interval=0.02, ignore=(OSError,))
    assert calls.calls >= 2
    assert "ConnectionRefusedError" in caught.value.last_state
    assert "hunter2" not in str(caught.value) and "***" in caught.value.last_state


def test_other_errors_end_the_wait_at_once() -> None:
    check = Counter()

    def died() -> bool:
        check()
        raise RuntimeError("the process exited")

    with pytest.raises(RuntimeError, match="exited"):
        wait_until(died, what="x", timeout=60, interval=0.01, ignore=(OSError,))
    assert check.calls == 1


def test_progress_line_per_poll_and_throttled() -> None:
    lines: list[str] = []
    check = Counter(False, False, False, "done")
    wait_until(
        check, what="deployment api to be available", timeout=10, interval=0.001, progress=lines.append
    )
    assert len(lines) == 4
    assert lines[0].startswith("deployment api to be available: not yet after ")
    assert "(timeout 10.00s)" in lines[0] and lines[-1].startswith("deployment api to be available: done")

    throttled: list[str] = []
    flag = threading.Event()
    threading.Timer(0.3, flag.set).start()
    wait_until(
        flag.is_set, what="x", timeout=10, interval=0.005, progress=throttled.append, progress_every=60
    )
    assert len(throttled) == 2  # the first poll and the one that saw it done


def test_interruptible_pause() -> None:
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    assert wait_until(stop.is_set, what="x", timeout=60, interval=30, sleep=stop.wait) is True
    assert time.monotonic() - started < 20


def test_holds_within() -> None:
    flag = threading.Event()
    threading.Timer(0.05, flag.set).start()
    assert holds_within(flag.is_set, timeout=30, interval=0.01)
    assert not holds_within(lambda: False, timeout=0.05, interval=0.01)


@pytest.mark.parametrize("interval", [0, -1, float("nan")])
def test_interval_must_be_positive(interval: float) -> None:
    with pytest.raises(InvalidDrillConfig, match="poll interval"):
        wait_until(Counter(True), what="x", timeout=1, interval=interval)
