"""Faults: one per module, registered through the entry point group
``drillbook.fault_injectors``. See ``fault_injectors/README.md`` to write one."""

from fault_injectors.base import Fault

__all__ = ["Fault"]
