"""What a lease store does (a lock in the state directory, a Kubernetes ``Lease``), and what
it says about itself for ``drillbook env status``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from drillbook.harness.lease.holder import LeaseHolder

TAKEN, HELD, DEAD = "taken", "held", "dead"


@dataclass(frozen=True)
class Attempt:
    """The outcome of one try: ``taken`` (ours now), ``held`` by a live ``holder``, or ``dead``:
    the recorded ``holder`` is gone and its faults must be reverted before :meth:`Backend.take_over`."""

    outcome: str
    holder: LeaseHolder | None = None
    #: The faults a dead holder mirrored into the lease (entries of its undo log), if any.
    undo: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class LeaseStatus:
    env: str
    where: str
    #: The live holder, or None when the lease is free.
    holder: LeaseHolder | None
    #: A holder still recorded although it is gone (it died without releasing the lease).
    stale: LeaseHolder | None = None
    detail: str = ""
    undo: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def free(self) -> bool:
        return self.holder is None

    def line(self) -> str:
        if self.holder is not None:
            text = f"held by {self.holder.describe()}"
        elif self.stale is not None:
            text = f"free; its last holder, {self.stale.describe()}, ended without releasing it"
        else:
            text = "free"
        return f"lease of {self.env!r}: {text} [{self.where}]" + (f"; {self.detail}" if self.detail else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "where": self.where,
            "free": self.free,
            "holder": None if self.holder is None else self.holder.to_json(),
            "stale": None if self.stale is None else self.stale.to_json(),
            "detail": self.detail,
        }


class Backend(Protocol):
    env: str
    where: str

    def attempt(self, me: LeaseHolder) -> Attempt: ...

    def take_over(self, me: LeaseHolder, dead: LeaseHolder) -> bool:
        """Record ``me`` instead of ``dead``; False when another run was quicker (try again)."""
        ...

    def abandon(self) -> None:
        """Give up a takeover: the dead holder stays recorded, so the next run reverts again."""
        ...

    def keep(self, me: LeaseHolder) -> None:
        """Keep the lease while the run lives (a Kubernetes lease is renewed)."""
        ...

    def lost(self) -> str | None:
        """Why the lease is no longer ours, or None while it is."""
        ...

    def release(self, me: LeaseHolder) -> None: ...

    def status(self) -> LeaseStatus: ...

    def child_env(self, me: LeaseHolder) -> tuple[dict[str, str], tuple[int, ...]]:
        """What a child process (the pytest of ``drillbook run``) inherits to run under this lease."""
        ...

    def inherited(self, identity: str, environ: dict[str, str]) -> LeaseHolder | None:
        """In the child: the holder when the parent really holds the lease for it, else None."""
        ...

    def mirror(self, identity: str, entries: list[dict[str, Any]]) -> None:
        """Record the outstanding faults where a run on another host can find them (or do nothing);
        raises :class:`~drillbook.harness.lease.holder.LeaseLost` when the lease is not ours."""
        ...
