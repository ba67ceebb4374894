"""Point a DNS record elsewhere (Route 53 UPSERT); undone by pointing it back."""

from __future__ import annotations

from typing import Any

from drillbook.faults._env import open_environment
from drillbook.faults.base import Change, Fault


class DnsRecord(Fault, Change):
    """UPSERTs ``record`` to ``value`` and waits for the change; revert UPSERTs ``previous``
    (read at build time). The DR failover of Scenario 1B is this change; pointed at a name no
    load balancer answers, it is a fault: the front door lost (Scenario 1A)."""

    name = "dns_record"
    blast_radius = "every client resolving the record"
    rollback = "UPSERT the previous value"

    def __init__(
        self,
        env_name: str,
        state_dir: str,
        record: str,
        value: str,
        previous: str | None = None,
        timeout: float = 300.0,
    ) -> None:
        self.env_name, self.state_dir, self.record, self.value = env_name, state_dir, record, value
        self.timeout = timeout
        self.previous = previous if previous is not None else self._dns().resolve(record)

    def _dns(self) -> Any:
        return open_environment(self.env_name, self.state_dir).dns

    def inject(self) -> None:
        self._dns().upsert(self.record, self.value, wait=True, timeout=self.timeout)

    def revert(self) -> None:
        dns = self._dns()
        if self.previous is not None and dns.resolve(self.record) != self.previous:
            dns.upsert(self.record, self.previous, wait=True, timeout=self.timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "env_name": self.env_name,
            "state_dir": self.state_dir,
            "record": self.record,
            "value": self.value,
            "previous": self.previous,
            "timeout": self.timeout,
        }
