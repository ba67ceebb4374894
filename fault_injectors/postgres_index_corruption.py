"""Corrupt a B-tree index logically: rows written meanwhile are missing from it (Scenario 2A)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import sql

from drillbook.faults._postgres import check_no_secret, resolve_dsn
from drillbook.faults.base import Fault
from drillbook.harness import pg
from drillbook.harness.errors import FaultError


class PostgresIndexCorruption(Fault):
    """Stops ``index`` being maintained (``pg_index.indisready = false``) while the
    planner still trusts it, for ``window_s`` seconds and while ``during_sql`` runs
    (e.g. an INSERT); then marks it maintained again. Rows written in the window
    are missing from the index: index scans silently return too few rows and
    amcheck's ``bt_index_check(heapallindexed)`` reports the missing tuples, as
    after a real storage or replication bug. The fault checks that the
    corruption is real before returning. Revert rebuilds the index (REINDEX).
    """

    name = "postgres_index_corruption"
    blast_radius = "one index: wrong query results through it"
    rollback = "REINDEX INDEX"

    def __init__(
        self,
        index: str,
        during_sql: str | None = None,
        window_s: float = 0.0,
        dsn: str | None = None,
        dsn_env: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        check_no_secret(dsn)
        self.index, self.during_sql, self.window_s = index, during_sql, window_s
        self.dsn, self.dsn_env, self.timeout = dsn, dsn_env, timeout

    def inject(self) -> None:
        target = resolve_dsn(self.dsn, self.dsn_env)
        with pg.connect(target, self.timeout) as conn:
            pg.execute(conn, "CREATE EXTENSION IF NOT EXISTS amcheck", timeout=self.timeout)
            pg.execute(
                conn,
                "UPDATE pg_index SET indisready = false WHERE indexrelid = %s::regclass",
                (self.index,),
                self.timeout,
            )
        try:
            if self.during_sql:
                with pg.connect(target, self.timeout) as conn:
                    pg.execute(conn, self.during_sql, timeout=self.timeout)
            time.sleep(self.window_s)
        finally:
            with pg.connect(target, self.timeout) as conn:
                pg.execute(
                    conn,
                    "UPDATE pg_index SET indisready = true WHERE indexrelid = %s::regclass",
                    (self.index,),
                    self.timeout,
                )
        if self.intact(target):
            raise FaultError(
                f"{self.index} is still intact: nothing was written to its table during the "
                "window; give during_sql or a longer window_s"
            )

    def intact(self, target: str | None = None) -> bool:
        """amcheck's verdict: True when every heap tuple has its index entry."""
        try:
            with pg.connect(target or resolve_dsn(self.dsn, self.dsn_env), self.timeout) as conn:
                pg.execute(conn, "CREATE EXTENSION IF NOT EXISTS amcheck", timeout=self.timeout)
                pg.execute(conn, "SELECT bt_index_check(%s::regclass, true)", (self.index,), self.timeout)
        except (psycopg.errors.IndexCorrupted, psycopg.errors.DataCorrupted):
            return False
        return True

    def revert(self) -> None:
        with pg.connect(resolve_dsn(self.dsn, self.dsn_env), self.timeout) as conn:
            ready = pg.execute(
                conn,
                "SELECT indisready FROM pg_index WHERE indexrelid = to_regclass(%s)",
                (self.index,),
                self.timeout,
            )
            if not ready:
                return  # the index is gone (its table was dropped): nothing to rebuild
            pg.execute(
                conn,
                "UPDATE pg_index SET indisready = true WHERE indexrelid = %s::regclass",
                (self.index,),
                self.timeout,
            )
            if not self.intact():
                pg.execute(
                    conn,
                    sql.SQL("REINDEX INDEX {}")
                    .format(sql.Identifier(*self.index.split(".", 1)))
                    .as_string(conn),
                    timeout=self.timeout,
                )

    def describe(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "during_sql": self.during_sql,
            "window_s": self.window_s,
            "dsn": self.dsn,
            "dsn_env": self.dsn_env,
            "timeout": self.timeout,
        }
