"""Taking, keeping and handing on an environment's lease.

:func:`acquire` takes the lease or says who holds it (:class:`LeaseHeld`, exit code 3),
waiting up to ``wait`` seconds first when asked. A lease whose holder is dead is taken
over only once that holder's faults are reverted: from its undo log in the state
directory and from the faults it mirrored into the lease itself (a Kubernetes lease).
If any cannot be reverted, the dead holder stays recorded and the error says what is
left, so the next attempt tries again instead of forgetting them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from drillbook.harness import registry
from drillbook.harness.config import Config
from drillbook.harness.lease.backend import DEAD, HELD, TAKEN, Backend
from drillbook.harness.lease.holder import LEASE_VARIABLE, LeaseError, LeaseHeld, LeaseHolder, LeaseLost
from drillbook.harness.lease.select import lease_for
from drillbook.harness.redact import redact_text
from drillbook.harness.revert import revert_run

Say = Callable[[str], None]
#: How often a run waiting for the lease looks again.
POLL_S = 0.5


class Lease:
    """A lease this process holds (or runs under, for the pytest of ``drillbook run``)."""

    def __init__(self, backend: Backend, holder: LeaseHolder, *, owned: bool = True) -> None:
        self.backend = backend
        self.holder = holder
        #: False in a child that runs under its parent's lease: the parent releases it.
        self.owned = owned

    def release(self) -> None:
        if self.owned:
            self.backend.release(self.holder)

    def child_env(self) -> tuple[dict[str, str], tuple[int, ...]]:
        """Environment variables and descriptors for a child process that runs under this lease."""
        extra, fds = self.backend.child_env(self.holder)
        return {LEASE_VARIABLE: self.holder.identity, **extra}, fds

    def check(self) -> None:
        """Raise :class:`~drillbook.harness.lease.holder.LeaseLost` when the lease is not ours any more."""
        why = self.backend.lost()
        if why is not None:
            raise LeaseLost(f"{why}: no further fault may be injected")

    def mirror(self, entries: list[dict[str, Any]]) -> None:
        self.check()
        self.backend.mirror(self.holder.identity, entries)


def acquire(
    backend: Backend, me: LeaseHolder, *, state_dir: Path, wait: float = 0.0, say: Say | None = None
) -> Lease:
    """Take ``backend``'s lease for ``me`` (see the module's docstring)."""
    began = time.monotonic()
    told = False
    while True:
        attempt = backend.attempt(me)
        if attempt.outcome == TAKEN:
            backend.keep(me)
            return Lease(backend, me)
        if attempt.outcome == DEAD and attempt.holder is not None:
            dead = attempt.holder
            if say is not None:
                say(
                    f"the lease's holder, {dead.describe()}, is gone without releasing it: reverting what it "
                    "left behind before taking the lease over"
                )
            try:
                _revert_dead(state_dir, dead, attempt.undo)
            except BaseException:
                backend.abandon()
                raise
            if backend.take_over(me, dead):
                backend.keep(me)
                return Lease(backend, me)
            continue  # another run took it over first: look again
        assert attempt.outcome == HELD
        holder = attempt.holder or LeaseHolder("(unknown)", "?", 0, None, "?", "?")
        waited = time.monotonic() - began
        if waited >= wait:
            raise LeaseHeld(backend.env, holder, backend.where, waited=waited if wait else None)
        if say is not None and not told:
            say(
                f"waiting up to {wait - waited:.0f}s for the lease of {backend.env!r}, held by "
                f"{holder.describe()}"
            )
            told = True
        time.sleep(min(POLL_S, max(0.0, wait - waited)))


@contextmanager
def holding(
    env: str, config: Config, state_dir: Path, run_id: str, *, wait: float = 0.0, say: Say | None = None
) -> Iterator[Lease]:
    """Hold environment ``env``'s lease for run ``run_id`` for the duration of the block: what
    ``drillbook run``, ``drillbook unannounced run`` (and any other command that runs drills) wrap
    around the pytest they start (see :meth:`Lease.child_env`)."""
    lease = acquire(
        lease_for(env, config, state_dir), LeaseHolder.me(run_id), state_dir=state_dir, wait=wait, say=say
    )
    try:
        yield lease
    finally:
        lease.release()


def _revert_dead(state_dir: Path, dead: LeaseHolder, mirrored: tuple[dict[str, Any], ...]) -> None:
    report = revert_run(state_dir, dead.run_id)
    problems = [f"{o.name}: {o.status} ({o.detail})" for o in report.outcomes if o.status != "reverted"]
    problems += report.unreadable
    if not report.outcomes and not report.unreadable:
        # No undo log of that run here (it ran on another machine): what it mirrored into the lease.
        problems += _revert_mirrored(mirrored)
    if problems:
        raise LeaseError(
            f"the lease of run {dead.run_id} (dead) is taken over only after its faults are reverted, and "
            f"{len(problems)} could not be: {'; '.join(problems)}. Revert them by hand (or fix the cause and "
            f"run `drillbook revert --run-id {dead.run_id}`), then start the run again"
        )


def _revert_mirrored(entries: tuple[dict[str, Any], ...]) -> list[str]:
    problems = []
    for entry in sorted(entries, key=lambda e: -int(e.get("seq") or 0)):  # newest first
        name, params = str(entry.get("name")), entry.get("params")
        if not entry.get("registered") or not isinstance(params, dict):
            problems.append(f"{name}: not a registered fault, revert it by hand")
            continue
        try:
            registry.build(name, params).revert()
        except Exception as exc:  # each is tried even if one fails
            problems.append(redact_text(f"{name}: {type(exc).__name__}: {exc}"))
    return problems
