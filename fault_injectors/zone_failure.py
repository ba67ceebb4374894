"""An availability zone fails (Scenario 4, "data center failure")."""

from __future__ import annotations

from typing import Any

from drillbook.faults.base import Fault
from drillbook.twin.supervisor import SupervisorClient


class ZoneFailure(Fault):
    """Every replica in ``zone`` is SIGKILLed at once and the zone becomes
    unschedulable, as when an availability zone goes dark: the supervisor
    reschedules the lost replicas into the other zones (the automatic part of
    the DR procedures' multi-AZ recovery). Revert uncordons the zone; replicas
    do not move back by themselves, as in Kubernetes.
    """

    name = "zone_failure"
    blast_radius = "every replica of every deployment in one zone"
    rollback = "uncordon the zone"

    def __init__(self, zone: str = "az-a", *, state_dir: str | None = None,
                 control_url: str | None = None) -> None:
        self.zone, self.state_dir, self.control_url = zone, state_dir, control_url
        self.evicted: list[str] = []

    def _client(self) -> SupervisorClient:
        return SupervisorClient.locate(state_dir=self.state_dir, control_url=self.control_url)

    def inject(self) -> None:
        self.evicted = self._client().cordon(self.zone, signal="SIGKILL")

    def revert(self) -> None:
        self._client().uncordon(self.zone)

    def describe(self) -> dict[str, Any]:
        return {"zone": self.zone, "state_dir": self.state_dir, "control_url": self.control_url}
