"""The registry of faults and recovery changes (everything a drill undoes), read from the entry
point group ``drillbook.fault_injectors``.

An entry point that cannot be loaded (its module gone or broken since the distribution was
installed, a stale editable install) is skipped with a warning naming it and the fix: one
broken plug-in must not fail every drill. A duplicate name stays an error: a revert must
never be able to pick the wrong class.
"""

from __future__ import annotations

import warnings
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from drillbook.faults.base import Reversible
from drillbook.harness.errors import DuplicateFault, UnknownFault

GROUP = "drillbook.fault_injectors"


class BrokenEntryPoint(UserWarning):
    """A registered fault could not be loaded; it is left out of the registry."""


#: Entry points skipped by the last load, each with why (``registered_faults`` fills it).
_broken: dict[str, str] = {}


@cache
def registered_faults() -> dict[str, type[Reversible]]:
    """Every registered fault and change class by its ``name``; a duplicate name is an error."""
    found: dict[str, type[Reversible]] = {}
    origin: dict[str, str] = {}
    _broken.clear()
    for ep in entry_points(group=GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # whatever a broken plug-in module raises on import
            _skip(ep.name, ep.value, f"it cannot be loaded ({type(exc).__name__}: {exc})", _dist(ep))
            continue
        if not (isinstance(cls, type) and issubclass(cls, Reversible)):
            _skip(ep.name, ep.value, "it is not a Fault or Change subclass", _dist(ep))
            continue
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
        skipped = "".join(f"; skipped: {why}" for why in _broken.values())
        raise UnknownFault(f"no registered fault named {name!r} (registered: {known}){skipped}") from None
    return cls.from_params(params)


def broken() -> dict[str, str]:
    """The entry points the registry skipped, by name, each with why."""
    registered_faults()
    return dict(_broken)


def _dist(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    return getattr(dist, "name", None) or "its distribution"


def _skip(name: str, value: str, why: str, dist: str) -> None:
    message = (f"fault entry point {name} = {value} of {dist} is skipped: {why}; reinstall {dist} "
               f"(for a clone: pip install -e .) or remove the entry point")
    _broken[name] = message
    warnings.warn(message, BrokenEntryPoint, stacklevel=3)
