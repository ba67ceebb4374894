"""SIGTERM becomes an exception in the main thread, so every ``finally`` (every
revert) runs, exactly as for Ctrl-C. While faults are being reverted the signal
is held back and raised afterwards, so a revert is never cut in half."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from drillbook.harness.errors import DrillInterrupted

_state = {"critical": 0, "pending": False, "raised": False}
_previous: Any = None


def _handler(signum: int, frame: FrameType | None) -> None:
    if _state["raised"]:
        return  # already stopping (a SIGTERM to the group and one passed on by `drillbook run`)
    if _state["critical"]:
        _state["pending"] = True
        return
    _state["raised"] = True
    raise DrillInterrupted(f"received signal {signal.Signals(signum).name}")


def main_thread_only() -> None:
    """Block SIGINT and SIGTERM in the calling (background) thread.

    The kernel may deliver a process signal to any thread that does not block it;
    Python runs the handler in the main thread, but a main thread blocked in a long
    call (a ``time.sleep``) is then not woken, and Ctrl-C waits for the call to end.
    Every thread the harness starts calls this first, so signals land in the main thread.
    """
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def install() -> None:
    global _previous
    if threading.current_thread() is not threading.main_thread() or _previous is not None:
        return
    _state["raised"] = False
    _previous = signal.signal(signal.SIGTERM, _handler)


def uninstall() -> None:
    global _previous
    if _previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _previous)
        _previous = None


@contextmanager
def critical() -> Iterator[None]:
    """Hold SIGTERM back for the duration of the block, then deliver it."""
    _state["critical"] += 1
    try:
        yield
    finally:
        _state["critical"] -= 1
        if not _state["critical"] and _state["pending"]:
            _state["pending"] = False
            _state["raised"] = True
            raise DrillInterrupted("received signal SIGTERM (held back while reverting)")
