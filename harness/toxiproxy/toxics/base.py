"""The ``Toxic`` base class and the registry of toxic types (toxiproxy's ``toxics.Register``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

if TYPE_CHECKING:
    from drillbook.harness.toxiproxy.stub import ToxicStub

REGISTRY: dict[str, type[Toxic]] = {}


class BadAttribute(ValueError):
    """An attribute of a toxic has the wrong type; the message says which."""


class Toxic:
    """A toxic's attributes (dataclass fields, all integers, named as in toxiproxy's
    JSON) and ``pipe``, which moves data through one direction of one connection.

    ``pipe`` reads with ``stub.read()`` until it returns None, then calls
    ``stub.close()``. Every ``await`` in it may be interrupted (the toxic is being
    updated or removed): the stub then hands unforwarded bytes back, so a toxic
    never needs to catch ``CancelledError``.
    """

    type_name: ClassVar[str] = ""
    #: Chunks queued ahead of this toxic, so that it does not throttle the reader.
    buffer_size: ClassVar[int] = 1
    #: Removing this toxic closes the connections it acted on (they lost data).
    closes_on_removal: ClassVar[bool] = False

    async def pipe(self, stub: ToxicStub) -> None:
        raise NotImplementedError

    def new_state(self) -> Any:
        """Per-connection state kept across updates of the toxic (None if stateless)."""
        return None

    def attributes(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_attributes(cls, given: object, base: Toxic | None = None) -> Self:
        """Build from a JSON ``attributes`` object, on top of ``base``'s values.
        Unknown attributes are ignored, as toxiproxy does."""
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise BadAttribute(f"attributes of a {cls.type_name} toxic must be an object, got {given!r}")
        values = base.attributes() if base is not None else {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name in given:
                value = given[f.name]
                if isinstance(value, bool) or not isinstance(value, int):
                    raise BadAttribute(
                        f"attribute {f.name} of a {cls.type_name} toxic must be an integer, got {value!r}"
                    )
                values[f.name] = value
        return cls(**values)


T = TypeVar("T", bound="type[Toxic]")


def register(type_name: str) -> Callable[[T], T]:
    """Class decorator: make a toxic available by its toxiproxy type name."""

    def decorate(cls: T) -> T:
        cls.type_name = type_name
        REGISTRY[type_name] = cls
        return cls

    return decorate
