"""The registry of faults and recovery changes (everything a drill undoes), read from the entry
point group ``drillbook.fault_injectors``."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from drillbook.faults.base import Reversible
from drillbook.harness.errors import DuplicateFault, UnknownFault

GROUP = "drillbook.fault_injectors"


@cache
def registered_faults() -> dict[str, type[Reversible]]:
    """Every registered fault and change class by its ``name``; a duplicate name is an error."""
    found: dict[str, type[Reversible]] = {}
    origin: dict[str, str] = {}
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Reversible)):
            raise DuplicateFault(f"entry point {ep.name} = {ep.value} is not a Fault or Change subclass")
        name = cls.name
        if name in found and found[name] is not cls:
            raise DuplicateFault(
                f"fault name {name!r} is registered twice: by {origin[name]} and by {ep.value}; "
                "rename one of them"
            )
        found[name] = cls
        origin[name] = ep.value
    return found


def is_registered(fault: Reversible) -> bool:
    return registered_faults().get(type(fault).name) is type(fault)


def build(name: str, params: dict[str, Any]) -> Reversible:
    """Rebuild a registered fault or change from its name and ``describe()`` parameters."""
    try:
        cls = registered_faults()[name]
    except KeyError:
        known = ", ".join(sorted(registered_faults())) or "none"
        raise UnknownFault(f"no registered fault named {name!r} (registered: {known})") from None
    return cls.from_params(params)
