"""Who is calling: a context variable the engine sets while a runbook step, a fault's inject
or revert, a change, or the drill's body runs, and the drill's log the calls go to.

A context variable, not a global: the scope follows the code that runs the step. A thread
the step starts does not inherit it (``threading.Thread`` runs in an empty context), so its
calls are not attributed to the step unless it enters a scope itself, as a drill's revert
does in any thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drillbook.harness.records import CallerKind, ControlCall


class CallLog:
    """The calls of one drill, in the order they were made (thread-safe)."""

    def __init__(self) -> None:
        self._calls: list[ControlCall] = []
        self._lock = threading.Lock()

    def add(self, call: ControlCall) -> None:
        with self._lock:
            self._calls.append(call)

    def records(self) -> list[ControlCall]:
        with self._lock:
            return list(self._calls)


@dataclass(frozen=True)
class Scope:
    log: CallLog
    caller: str
    kind: CallerKind


_current: ContextVar[Scope | None] = ContextVar("drillbook_call_scope", default=None)


@contextmanager
def scope(log: CallLog, kind: CallerKind, caller: str = "") -> Iterator[Scope]:
    """Attribute the calls made inside to ``caller`` (a step, fault or change name)."""
    entered = Scope(log, caller, kind)
    token = _current.set(entered)
    try:
        yield entered
    finally:
        _current.reset(token)


def current() -> Scope | None:
    return _current.get()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record(
    target: Scope | None,
    *,
    service: str,
    operation: str,
    permission: str,
    params: dict[str, Any],
    started: float,
    at: str,
    outcome: str,
    request_id: str | None,
) -> None:
    """Add one finished call to ``target``'s log (the scope current when it started)."""
    if target is None:
        return
    target.log.add(
        ControlCall(
            service=service,
            operation=operation,
            permission=permission,
            params=params,
            request_id=request_id,
            duration_s=round(time.monotonic() - started, 6),
            outcome=outcome,
            at=at,
            caller=target.caller,
            caller_kind=target.kind.value,
        )
    )
