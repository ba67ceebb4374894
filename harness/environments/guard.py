"""The production guard and the blast-radius limits, independent of pytest.

An environment marked ``production = true`` refuses every fault unless faults were
allowed (``--allow-production``) *and* the environment's name was typed as the
confirmation. Independently, ``[limits.<fault>]`` bounds how much one fault may
break: ``allow = false``, ``max_pods``, ``max_percent``, ``max_nodes``. Faults that
can say how much they will break implement :class:`Bounded`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from drillbook.faults.base import Fault
from drillbook.harness.environments.profile import FaultLimit, Profile
from drillbook.harness.errors import DrillbookError

CONFIRM_VARIABLE = "DRILLBOOK_CONFIRM_PRODUCTION"


class FaultRefused(DrillbookError):
    """The environment's guard refuses this fault (production, or over a blast-radius limit)."""


@dataclass(frozen=True)
class Blast:
    """How much a fault will break, as far as it can tell before injecting."""

    pods: int | None = None
    #: Of the pods its selector matches.
    percent: float | None = None
    nodes: int | None = None


@runtime_checkable
class Bounded(Protocol):
    def blast(self) -> Blast: ...


@dataclass(frozen=True)
class Confirmation:
    allowed: bool  # --allow-production was given
    typed: str | None  # what was typed (or set in DRILLBOOK_CONFIRM_PRODUCTION)

    def confirms(self, name: str) -> bool:
        return self.allowed and self.typed is not None and self.typed.strip() == name


class ProductionGuard:
    """Called with every fault before it is injected; raises :class:`FaultRefused`."""

    def __init__(self, profile: Profile, confirmation: Confirmation) -> None:
        self.profile = profile
        self.confirmation = confirmation

    def __call__(self, fault: Fault) -> None:
        name = str(getattr(fault, "name", type(fault).__name__))
        self.check_production(name)
        limit = self.profile.limit_for(name)
        if limit is not None:
            check_limit(fault, name, limit, self.profile.name)

    def check_production(self, fault_name: str) -> None:
        if not self.profile.production:
            return
        env = self.profile.name
        if not self.confirmation.allowed:
            raise FaultRefused(
                f"environment {env!r} is marked production = true: fault {fault_name} refused. To run faults "
                f"there anyway pass --allow-production and confirm by typing {env!r} when asked (or set "
                f"{CONFIRM_VARIABLE}={env} in CI)"
            )
        if not self.confirmation.confirms(env):
            typed = self.confirmation.typed
            got = "nothing was typed" if not typed else f"{typed.strip()!r} was typed"
            raise FaultRefused(
                f"environment {env!r} is production and --allow-production needs the environment's name as "
                f"confirmation, but {got}: fault {fault_name} refused. Type {env!r} at the prompt, or set "
                f"{CONFIRM_VARIABLE}={env} when there is no terminal (CI)"
            )


def check_limit(fault: Any, name: str, limit: FaultLimit, env: str) -> None:
    where = f"[environments.{env}.limits.{name}] (or [limits.{name}])"
    if not limit.allow:
        raise FaultRefused(f"fault {name} is not allowed in environment {env!r} (allow = false in {where})")
    if not isinstance(fault, Bounded):
        return
    blast = fault.blast()
    if limit.max_pods is not None and blast.pods is not None and blast.pods > limit.max_pods:
        raise FaultRefused(
            f"fault {name} would break {blast.pods} pods, over the limit of {limit.max_pods} "
            f"(max_pods in {where}); ask for fewer, or raise the limit"
        )
    if limit.max_percent is not None and blast.percent is not None and blast.percent > limit.max_percent:
        raise FaultRefused(
            f"fault {name} would break {blast.percent:g}% of the pods, over the limit of "
            f"{limit.max_percent:g}% (max_percent in {where}); ask for less, or raise the limit"
        )
    if limit.max_nodes is not None and blast.nodes is not None and blast.nodes > limit.max_nodes:
        raise FaultRefused(
            f"fault {name} would drain {blast.nodes} nodes, over the limit of {limit.max_nodes} "
            f"(max_nodes in {where}); pick a smaller zone, or raise the limit"
        )
