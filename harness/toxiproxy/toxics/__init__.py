"""The toxics, one per module, registered by their toxiproxy type name."""

from drillbook.harness.toxiproxy.toxics import (  # noqa: F401  (importing registers them)
    bandwidth,
    latency,
    limit_data,
    noop,
    reset_peer,
    slicer,
    slow_close,
    timeout,
)
from drillbook.harness.toxiproxy.toxics.base import REGISTRY, BadAttribute, Toxic, register

__all__ = ["REGISTRY", "BadAttribute", "Toxic", "register"]
