"""The ``Fault`` base class every fault derives from."""

from __future__ import annotations

import abc
from typing import Any, ClassVar, Self


class Fault(abc.ABC):
    """A reversible change to a system.

    Subclasses set ``name`` (unique, registered through the entry point group
    ``drillbook.fault_injectors``) and implement ``inject``, ``revert`` and
    ``describe``. ``describe()`` returns JSON-serialisable parameters from which
    ``from_params`` rebuilds an equivalent fault in another process, so that
    ``drillbook revert`` can undo it after the runner died. Never put a secret in
    it: refer to secrets by environment variable name or secret id.

    ``revert`` must be idempotent: reverting twice, or reverting a fault whose
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
