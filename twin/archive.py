"""The WAL archive: where the primary's write-ahead log segments are copied, durably.

Base backups (``snapshots``) plus this archive are what point-in-time recovery
replays; the DR replica also reads it when it falls too far behind to stream.
Only the primary archives (``archive_mode`` is off on the standby and on
restored copies), so a promotion never writes a second timeline into it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from drillbook.harness.errors import DrillbookError
from drillbook.harness.polling import WaitTimeout, wait_until
from drillbook.twin.pgbin import RunAs
from drillbook.twin.postgres import PostgresCluster


@dataclass(frozen=True)
class ArchiveStatus:
    """What ``pg_stat_archiver`` says on the primary."""

    archived_count: int
    last_archived_wal: str | None
    last_archived_time: datetime | None
    failed_count: int
    last_failed_wal: str | None


@dataclass(frozen=True)
class WalArchive:
    directory: Path

    def create(self, user: RunAs) -> WalArchive:
        self.directory.mkdir(parents=True, exist_ok=True)
        user.reach(self.directory)
        user.own(self.directory)
        return self

    def archive_command(self) -> str:
        """Copy a segment in, fsync it, then rename it into place.

        A segment already archived with the same content succeeds (the archiver
        retries after a crash); a different one fails, so nothing is overwritten.
        """
        target = shlex.quote(str(self.directory))
        return (
            f"if [ -f {target}/%f ]; then cmp -s %p {target}/%f; "
            f"else cp %p {target}/%f.part && sync {target}/%f.part "
            f"&& mv {target}/%f.part {target}/%f && sync {target}; fi"
        )

    def restore_command(self) -> str:
        target = shlex.quote(str(self.directory))
        return f"cp {target}/%f %p"

    def primary_settings(self, *, timeout_s: float) -> dict[str, Any]:
        """``archive_timeout`` bounds how old the newest archived write can be (the RPO
        of a restore from the archive alone)."""
        return {
            "archive_mode": "on",
            "archive_command": _conf_string(self.archive_command()),
            "archive_timeout": f"'{max(1, int(timeout_s))}s'",
        }

    def segments(self) -> list[str]:
        """Archived file names (segments, history and backup files), sorted."""
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.iterdir() if not p.name.endswith(".part"))

    def size_bytes(self) -> int:
        if not self.directory.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.directory.iterdir() if p.is_file())


class ArchiveError(DrillbookError):
    pass


def status_of(primary: PostgresCluster, timeout: float = 5.0) -> ArchiveStatus:
    return archiver_status(primary.sql(ARCHIVER_QUERY, timeout=timeout)[0])


def archive_current_wal(primary: PostgresCluster, timeout: float = 60.0) -> str:
    """Commit a marker, close the current WAL segment and wait until it is archived.

    Afterwards every transaction committed before the call is reachable by a
    point-in-time recovery (whose time target needs a later commit to stop at).
    Returns the archived segment's name.
    """
    primary.sql("SELECT pg_current_xact_id()", timeout=timeout)
    segment = str(primary.sql("SELECT pg_walfile_name(pg_switch_wal() - 1)", timeout=timeout)[0][0])
    seen: list[ArchiveStatus] = []

    def archived() -> bool:
        seen[:] = [status_of(primary)]
        return seen[-1].last_archived_wal is not None and seen[-1].last_archived_wal >= segment

    try:
        wait_until(archived, what=f"WAL segment {segment} archived", timeout=timeout, interval=0.05)
    except WaitTimeout:
        raise ArchiveError(
            f"WAL segment {segment} not archived within {timeout:.0f}s (last archived "
            f"{seen[-1].last_archived_wal}, last failed {seen[-1].last_failed_wal}); "
            f"check archive_command in {primary.logfile}") from None
    return segment


def archiver_status(row: tuple[Any, ...]) -> ArchiveStatus:
    """An :class:`ArchiveStatus` from ``SELECT archived_count, last_archived_wal,
    last_archived_time, failed_count, last_failed_wal FROM pg_stat_archiver``."""
    return ArchiveStatus(int(row[0]), row[1], row[2], int(row[3]), row[4])


ARCHIVER_QUERY = ("SELECT archived_count, last_archived_wal, last_archived_time, failed_count, "
                  "last_failed_wal FROM pg_stat_archiver")


def _conf_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
