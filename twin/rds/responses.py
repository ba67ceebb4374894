"""moto's RDS responses, with RebootDBInstance's ``ForceFailover`` passed on (moto reads
the identifier only: every reboot would be a plain one)."""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.rds.responses import RDSResponse

from drillbook.twin.rds.backend import TwinRdsBackend


class TwinRdsResponse(RDSResponse):
    def reboot_db_instance(self) -> ActionResult:
        backend = self.backend
        assert isinstance(backend, TwinRdsBackend)
        database = backend.reboot_db_instance(
            str(self.params.get("DBInstanceIdentifier")),
            force_failover=bool(self.params.get("ForceFailover", False)),
        )
        return ActionResult({"DBInstance": database})
