"""The twin's side of the RDS API, whole: every call's action on the real servers
(``instance_actions``, ``read_replica``, ``snapshot_actions``) over what exists (``views``), and the
primary's Multi-AZ standby kept."""

from __future__ import annotations

import logging
import re
from functools import cached_property

from drillbook.twin.pgbin import find_bindir, server_version
from drillbook.twin.rds import multi_az
from drillbook.twin.rds.instance_actions import InstanceActions
from drillbook.twin.rds.operations import INSTANCE
from drillbook.twin.rds.plane import PRIMARY, STANDBY, DataPlane, PlaneNotUp
from drillbook.twin.rds.read_replica import ReadReplicaActions
from drillbook.twin.rds.snapshot_actions import SnapshotActions


class RdsTwin(InstanceActions, ReadReplicaActions, SnapshotActions):
    def __init__(self, plane: DataPlane, *, multi_az: bool = True, log: logging.Logger | None = None) -> None:
        super().__init__(plane, log=log)
        self.multi_az = multi_az

    @cached_property
    def engine_version(self) -> str:
        """The PostgreSQL version every instance runs (``15.14``, not Debian's ``15.14-0+deb12u1``)."""
        found = re.match(r"\d+(\.\d+)*", server_version(find_bindir()))
        return found.group() if found else "15"

    def keep_standby(self) -> None:
        """Build the primary's standby once the environment is up, and start it again if it
        stopped (RDS replaces a failed standby); meanwhile the primary is ``modifying``."""
        if not self.multi_az:
            return
        with self.lock:
            try:
                record = self.record()
            except PlaneNotUp:
                return
            primary_id = self.plane.platform.primary_instance
            if record.phase != "up" or self.ops.running(INSTANCE, primary_id):
                return
            if not self.plane.server(record, PRIMARY).running():
                return  # stopped or crashed on purpose: a drill's to restart
            if STANDBY not in record.clusters:
                action = "build of the Multi-AZ standby"

                def work() -> None:
                    multi_az.build(self.plane, record)
            elif not self.plane.server(record, STANDBY).running():
                action = "restart of the Multi-AZ standby"

                def work() -> None:
                    multi_az.restart(self.plane, record)
            else:
                return

            self.ops.begin(INSTANCE, primary_id, action=action, status="modifying", work=work)
