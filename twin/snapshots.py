"""Snapshots: base backups of the primary (``pg_basebackup``), catalogued and verified.

A snapshot is a plain-format base backup with its WAL (``-X stream``), so it
restores on its own, and with a backup manifest, so ``pg_verifybackup`` can
check every file. The catalogue is a directory in the environment's state:
``<id>/data`` (the backup) and ``<id>/snapshot.json`` (written last, atomically:
a snapshot without it is incomplete and ignored).
"""

from __future__ import annotations

import builtins
import json
import re
import secrets
import shutil
import subprocess
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drillbook.harness.environments.base import Snapshot
from drillbook.harness.errors import DrillbookError
from drillbook.twin.postgres import ClusterError, PostgresCluster, directory_size
from drillbook.twin.spread import spread
from drillbook.twin.trash import discard_tree

META = "snapshot.json"
KINDS = ("manual", "scheduled")


class SnapshotError(DrillbookError):
    pass


class SnapshotNotFound(SnapshotError, LookupError):
    pass


class SnapshotCatalogue:
    """The snapshots of one primary, newest first."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    # -- taking ----------------------------------------------------------------

    def take(self, source: PostgresCluster, *, kind: str = "manual", verify: bool = True,
             timeout: float = 600.0, snapshot_id: str | None = None) -> Snapshot:
        """A base backup of ``source`` (running), verified with ``pg_verifybackup``; its id is
        ``snapshot_id`` if given (an RDS snapshot identifier), else made from the kind and time."""
        if kind not in KINDS:
            raise SnapshotError(f"snapshot kind {kind!r} is not one of {', '.join(KINDS)}")
        snap_id = snapshot_id or new_id(kind)
        home = spread(self.directory) / snap_id
        try:
            home.mkdir()
        except FileExistsError:
            raise SnapshotError(f"a snapshot {snap_id!r} exists in {self.directory}; use another id") \
                from None
        source.user.reach(home)
        source.user.own(home)
        data = home / "data"
        started = datetime.now(UTC)
        began = time.monotonic()
        try:
            source.run_tool(
                [str(source.tool("pg_basebackup")), "-d", source.dsn("postgres"), "-D", str(data),
                 "-X", "stream", "-c", "fast", "--label", snap_id, "--no-password"],
                timeout=timeout)
        except ClusterError as exc:
            shutil.rmtree(home, ignore_errors=True)
            raise SnapshotError(f"snapshot of {source.name} failed: {exc}") from exc
        finished = datetime.now(UTC)
        backup_s = time.monotonic() - began
        start_lsn, timeline = _backup_label(data)
        detail: dict[str, Any] = {
            "kind": kind, "source": source.name, "path": str(data), "timeline": timeline,
            "end_lsn": _manifest_end_lsn(data), "backup_s": round(backup_s, 3),
        }
        snap = Snapshot(id=snap_id, started_at=started, finished_at=finished, lsn=start_lsn,
                        size_bytes=directory_size(data), verified=None, detail=detail)
        if verify:
            snap = self._verified(snap, source, timeout=timeout)
        self._write(snap)
        return snap

    def verify(self, snapshot: Snapshot, source: PostgresCluster, timeout: float = 600.0) -> Snapshot:
        """Check the snapshot's files and WAL against its manifest; record the outcome."""
        snap = self._verified(snapshot, source, timeout=timeout)
        self._write(snap)
        return snap

    def _verified(self, snap: Snapshot, source: PostgresCluster, *, timeout: float) -> Snapshot:
        began = time.monotonic()
        done = source.run_tool([str(source.tool("pg_verifybackup")), "--quiet", str(self.data(snap))],
                               timeout=timeout, check=False)
        detail = {**snap.detail, "verify_s": round(time.monotonic() - began, 3)}
        if done.returncode != 0:
            detail["verify_error"] = (done.stderr or done.stdout).strip()[-2000:]
        return replace(snap, verified=done.returncode == 0, detail=detail)

    # -- the catalogue ---------------------------------------------------------

    def list(self) -> builtins.list[Snapshot]:
        """Complete snapshots, newest first."""
        if not self.directory.is_dir():
            return []
        found = []
        for meta in self.directory.glob(f"*/{META}"):
            try:
                found.append(_load(json.loads(meta.read_text())))
            except (OSError, ValueError, KeyError) as exc:
                raise SnapshotError(f"unreadable snapshot record {meta}: {exc}; "
                                    "delete its directory") from exc
        return sorted(found, key=lambda s: s.finished_at, reverse=True)

    def get(self, snapshot_id: str) -> Snapshot:
        for snap in self.list():
            if snap.id == snapshot_id:
                return snap
        known = ", ".join(s.id for s in self.list()) or "none"
        raise SnapshotNotFound(f"no snapshot {snapshot_id!r}; snapshots: {known}")

    def latest(self) -> Snapshot | None:
        snaps = self.list()
        return snaps[0] if snaps else None

    def data(self, snapshot: Snapshot) -> Path:
        return self.directory / snapshot.id / "data"

    def copy_into(self, snapshot: Snapshot, datadir: Path, timeout: float = 1800.0) -> None:
        """Copy the snapshot's files to ``datadir`` (which must not exist), owners kept."""
        source = self.data(snapshot)
        if not (self.directory / snapshot.id / META).is_file():
            raise SnapshotNotFound(f"snapshot {snapshot.id} is not in {self.directory}")
        if datadir.exists():
            raise SnapshotError(f"{datadir} already exists; restore into a new name")
        try:
            subprocess.run(["cp", "-a", str(source), str(datadir)], check=True, capture_output=True,
                           text=True, timeout=timeout)
        except subprocess.CalledProcessError as exc:
            shutil.rmtree(datadir, ignore_errors=True)
            raise SnapshotError(f"copying snapshot {snapshot.id} failed: {exc.stderr.strip()}") from exc
        except subprocess.TimeoutExpired as exc:
            shutil.rmtree(datadir, ignore_errors=True)
            raise SnapshotError(f"copying snapshot {snapshot.id} took over {timeout:.0f}s") from exc
        # A copy of a backup is not a backup: its manifest would not match once it runs.
        (datadir / "backup_manifest").unlink(missing_ok=True)

    def delete(self, snapshot_id: str) -> None:
        home = self.directory / snapshot_id
        (home / META).unlink(missing_ok=True)
        discard_tree(home)

    def prune(self, keep: int, kind: str = "scheduled") -> builtins.list[str]:
        """Delete all but the ``keep`` newest snapshots of ``kind``; their ids."""
        doomed = [s.id for s in self.list() if s.detail.get("kind") == kind][keep:]
        for snapshot_id in doomed:
            self.delete(snapshot_id)
        return doomed

    def _write(self, snap: Snapshot) -> None:
        home = self.directory / snap.id
        tmp = home / f".{META}.tmp"
        tmp.write_text(json.dumps(_dump(snap), indent=2, sort_keys=True))
        tmp.replace(home / META)


def new_id(kind: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{kind}-{stamp}-{secrets.token_hex(2)}"


def _backup_label(data: Path) -> tuple[str | None, int | None]:
    try:
        text = (data / "backup_label").read_text()
    except OSError:
        return None, None
    lsn = re.search(r"START WAL LOCATION: ([0-9A-F]+/[0-9A-F]+)", text)
    timeline = re.search(r"START TIMELINE: (\d+)", text)
    return (lsn.group(1) if lsn else None, int(timeline.group(1)) if timeline else None)


def _manifest_end_lsn(data: Path) -> str | None:
    try:
        manifest = json.loads((data / "backup_manifest").read_text())
        return str(manifest["WAL-Ranges"][-1]["End-LSN"])
    except (OSError, ValueError, KeyError, IndexError):
        return None


def _dump(snap: Snapshot) -> dict[str, Any]:
    return {
        "id": snap.id, "started_at": snap.started_at.isoformat(), "finished_at": snap.finished_at.isoformat(),
        "lsn": snap.lsn, "size_bytes": snap.size_bytes, "verified": snap.verified, "detail": snap.detail,
    }


def _load(data: dict[str, Any]) -> Snapshot:
    return Snapshot(
        id=data["id"], started_at=datetime.fromisoformat(data["started_at"]),
        finished_at=datetime.fromisoformat(data["finished_at"]), lsn=data.get("lsn"),
        size_bytes=data.get("size_bytes"), verified=data.get("verified"), detail=data.get("detail", {}),
    )
