"""SIGTERM becomes an exception in the main thread, so every ``finally`` (every
revert) runs, exactly as for Ctrl-C. While faults are being reverted the signal
is held back and raised afterwards, so a revert is never cut in half.

A command that runs drills in its own process (``drillbook explore``) takes SIGINT the same
way (``install(sigint=True)``): Ctrl-C then waits for a revert under way instead of cutting it,
and a second Ctrl-C while the first is being handled does not stop the reverts it started."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from drillbook.harness.errors import DrillInterrupted

_state: dict[str, Any] = {"critical": 0, "pending": None, "raised": False}
#: The handlers replaced by :func:`install`, by signal number.
_previous: dict[int, Any] = {}


def _handler(signum: int, frame: FrameType | None) -> None:
    if _state["raised"]:
        return  # already stopping (a SIGTERM to the group and one passed on by `drillbook run`)
    if _state["critical"]:
        _state["pending"] = _state["pending"] or signum
        return
    _state["raised"] = True
    raise DrillInterrupted(f"received signal {signal.Signals(signum).name}", signum)


def main_thread_only() -> None:
    """Block SIGINT and SIGTERM in the calling (background) thread.

    The kernel may deliver a process signal to any thread that does not block it;
    Python runs the handler in the main thread, but a main thread blocked in a long
    call (a ``time.sleep``) is then not woken, and Ctrl-C waits for the call to end.
    Every thread the harness starts calls this first, so signals land in the main thread.
    """
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def install(*, sigint: bool = False) -> None:
    """Handle SIGTERM (and with ``sigint`` SIGINT, unless this process was started with it
    ignored, as a background job is) until :func:`uninstall`."""
    if threading.current_thread() is not threading.main_thread() or _previous:
        return
    _state.update(raised=False, pending=None)
    _previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _handler)
    if sigint and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        _previous[signal.SIGINT] = signal.signal(signal.SIGINT, _handler)


def uninstall() -> None:
    if _previous and threading.current_thread() is threading.main_thread():
        for signum, previous in _previous.items():
            signal.signal(signum, previous)
        _previous.clear()


@contextmanager
def critical() -> Iterator[None]:
    """Hold the signals back for the duration of the block, then deliver the first."""
    _state["critical"] += 1
    try:
        yield
    finally:
        _state["critical"] -= 1
        if not _state["critical"] and _state["pending"]:
            signum, _state["pending"] = _state["pending"], None
            _state["raised"] = True
            raise DrillInterrupted(
                f"received signal {signal.Signals(signum).name} (held back while reverting)", signum
            )
