"""AWS's RDS errors, as the twin raises them: each code is the one AWS returns (moto
renders the exception shape of the RDS model: its code and HTTP status). The messages
are the twin's, saying what was wrong and what to do."""

from __future__ import annotations

from moto.rds.exceptions import (
    DBInstanceAlreadyExists,
    DBInstanceNotFoundError,
    DBSnapshotAlreadyExistsError,
    DBSnapshotNotFoundFault,
    InvalidParameterCombination,
    InvalidParameterValue,
    RDSClientError,
)

__all__ = [
    "DBInstanceAlreadyExists",
    "DBInstanceNotFoundError",
    "DBSnapshotAlreadyExistsError",
    "DBSnapshotNotFoundFault",
    "InvalidDBInstanceState",
    "InvalidDBSnapshotState",
    "InvalidParameterCombination",
    "InvalidParameterValue",
    "InvalidRestore",
    "NotEmulated",
    "PointInTimeRestoreNotEnabled",
]


class InvalidDBInstanceState(RDSClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidDBInstanceStateFault", message)


class InvalidDBSnapshotState(RDSClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidDBSnapshotStateFault", message)


class InvalidRestore(RDSClientError):
    """A restore time outside the source's restorable window."""

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRestoreFault", message)


class PointInTimeRestoreNotEnabled(RDSClientError):
    def __init__(self, instance_id: str) -> None:
        super().__init__(
            "PointInTimeRestoreNotEnabledFault",
            f"Point-in-time restore is not enabled for DB instance {instance_id}: it has no "
            "automated backups (BackupRetentionPeriod 0). Restore from the primary, or from "
            "a snapshot of this instance.",
        )


class NotEmulated(RDSClientError):
    """A call the twin does not bind to a real server: refused rather than faked."""

    def __init__(self, action: str, instead: str) -> None:
        super().__init__(
            "InvalidAction",
            f"{action} is not emulated by drillbook's local environment: its DB instances are "
            f"real PostgreSQL servers it manages. {instead}",
        )
