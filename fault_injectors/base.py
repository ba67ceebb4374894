"""The base classes of what a drill undoes: a ``Fault`` it injects, a ``Change`` its recovery makes.

Both are :class:`Reversible`: recorded in the persisted undo log before they take
effect, undone newest first at the end of the drill (or by ``drillbook revert``
after a crash). A fault breaks something on purpose and starts the clock
(``drill.inject``); a change is a step of the scripted recovery that the
environment must lose again afterwards (a restored cluster, a promoted replica, a
DNS record: ``drill.apply``). The journal keeps them apart (``faults``, ``changes``).
An action that serves both (``kubectl scale``) derives from both.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, Self


class Reversible(abc.ABC):
    """A reversible change to a system.

    Subclasses set ``name`` (unique, registered through the entry point group
    ``drillbook.fault_injectors``) and implement ``inject``, ``revert`` and
    ``describe``. ``describe()`` returns JSON-serialisable parameters from which
    ``from_params`` rebuilds an equivalent object in another process, so that
    ``drillbook revert`` can undo it after the runner died. Never put a secret in
    it: refer to secrets by environment variable name or secret id.

    ``revert`` must be idempotent: reverting twice, or reverting a change whose
    injection failed half-way, is harmless.
    """

    name: ClassVar[str]
    #: What the fault can break, for drill plans ("one process", "all replicas in az-a").
    blast_radius: ClassVar[str] = "unspecified"
    #: How the fault is undone, for drill plans and manual recovery.
    rollback: ClassVar[str] = "call revert()"

    @abc.abstractmethod
    def inject(self) -> None:
        """Make the fault take effect."""

    @abc.abstractmethod
    def revert(self) -> None:
        """Undo the fault. Must be idempotent."""

    def settle(self, timeout: float) -> None:
        """Wait, at most ``timeout`` seconds, until what ``revert`` started has finished.

        Reverts that start slow work (a rollout) need not wait for it: the drill
        reverts every fault first, then settles each, then checks the steady state,
        so a check that runs before the work began cannot pass by mistake. Default:
        nothing to wait for. Raise if it did not finish in time.
        """
        return None

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """Parameters that rebuild this fault through ``from_params``."""

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Self:
        return cls(**params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.describe().items())
        return f"{type(self).__name__}({args})"


class Fault(Reversible):
    """A fault: breaks something on purpose (``drill.inject``); its revert restores it."""


class Change(Reversible):
    """A recovery change: a step of the scripted recovery (``drill.apply``) that the drill
    undoes at its end so the environment is as it was before (a restored instance
    discarded, a promoted replica demoted, a DNS record put back). ``inject`` makes
    the change, ``revert`` undoes it."""
