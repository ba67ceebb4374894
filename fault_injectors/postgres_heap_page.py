"""Overwrite one heap page on disk (Scenario 2D): checksums and amcheck must catch it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from drillbook.faults.base import Fault
from drillbook.harness.errors import FaultError
from drillbook.twin.postgres import PostgresCluster

PAGE = 8192


class PostgresHeapPage(Fault):
    """Overwrites block ``block`` of ``table``'s heap file with garbage, as a failing
    disk or a stray ``dd`` would: the server is stopped cleanly (so the page is not
    served from shared buffers), the original bytes are saved, garbage written, and
    the server started again. Reading the page then fails its checksum.

    Only for a cluster whose data directory is local. Revert writes the saved
    bytes back (stopping and starting the server) if the data directory still exists.
    """

    name = "postgres_heap_page"
    blast_radius = "one 8 kB page of one table (its rows unreadable)"
    rollback = "stop the server, write the saved page back, start it"

    def __init__(self, datadir: str, port: int, table: str, backup: str, dbname: str = "postgres",
                 block: int = 0, timeout: float = 60.0) -> None:
        self.datadir, self.port, self.table, self.backup = datadir, port, table, backup
        self.dbname, self.block, self.timeout = dbname, block, timeout

    def _cluster(self) -> PostgresCluster:
        return PostgresCluster(Path(self.datadir), port=self.port)

    @property
    def _note(self) -> Path:
        return Path(self.backup + ".json")

    def inject(self) -> None:
        cluster = self._cluster()
        relpath = cluster.sql("SELECT pg_relation_filepath(%s::regclass)", (self.table,), dbname=self.dbname,
                              timeout=self.timeout)[0][0]
        path = Path(self.datadir) / relpath
        cluster.sql("CHECKPOINT", timeout=self.timeout)
        cluster.stop("fast", timeout=self.timeout)
        try:
            with open(path, "r+b") as handle:
                handle.seek(self.block * PAGE)
                original = handle.read(PAGE)
                if len(original) != PAGE:
                    raise FaultError(f"{self.table} has no block {self.block}")
                Path(self.backup).parent.mkdir(parents=True, exist_ok=True)
                Path(self.backup).write_bytes(original)
                self._note.write_text(json.dumps({"path": str(path), "offset": self.block * PAGE}))
                handle.seek(self.block * PAGE)
                # Random bytes: a page of zeroes would pass as a new, empty page.
                handle.write(os.urandom(PAGE))
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            cluster.start(timeout=self.timeout)
            cluster.wait_ready(self.timeout)

    def revert(self) -> None:
        if not self._note.exists():
            return
        note = json.loads(self._note.read_text())
        path = Path(note["path"])
        if not Path(self.datadir).is_dir() or not path.exists():
            self._done()  # the cluster was decommissioned: nothing left to repair
            return
        cluster = self._cluster()
        was_running = cluster.running()
        cluster.stop("fast", timeout=self.timeout)
        try:
            with open(path, "r+b") as handle:
                handle.seek(note["offset"])
                handle.write(Path(self.backup).read_bytes())
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            if was_running:
                cluster.start(timeout=self.timeout)
                cluster.wait_ready(self.timeout)
        self._done()

    def _done(self) -> None:
        self._note.unlink(missing_ok=True)
        Path(self.backup).unlink(missing_ok=True)

    def describe(self) -> dict[str, Any]:
        return {"datadir": self.datadir, "port": self.port, "table": self.table, "backup": self.backup,
                "dbname": self.dbname, "block": self.block, "timeout": self.timeout}
