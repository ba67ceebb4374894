"""Reboot the environment's primary without failover (``aws rds reboot-db-instance``)."""

from __future__ import annotations

from drillbook.faults.database_failover import DatabaseFailover


class DatabaseReboot(DatabaseFailover):
    """Reboots the environment's primary through its RDS API, without failover: its database
    engine restarts where it is, and every connection breaks until it accepts them again. The
    database outage RDS allows on a primary with a read replica, which it refuses to stop
    (``database_stop``). There is nothing to undo: revert waits while the reboot is under way,
    until the instance is available again."""

    name = "database_reboot"
    force_failover = False
    blast_radius = "the primary database: every connection drops while its engine restarts"
    rollback = "nothing to undo: wait until the instance is available again"
