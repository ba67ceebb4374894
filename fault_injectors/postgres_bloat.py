"""Bloat a table with dead tuples, autovacuum off (Scenario 2A, minor corruption)."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from drillbook.faults._postgres import check_no_secret, resolve_dsn
from drillbook.faults.base import Fault
from drillbook.harness import pg


class PostgresBloat(Fault):
    """Turns autovacuum off for ``table`` and rewrites every row ``rounds`` times, leaving
    that many dead versions of each row (``n_dead_tup`` climbs, scans slow down).

    Revert is the DR procedures' cure, VACUUM FULL then ANALYZE, and autovacuum back on.
    """

    name = "postgres_bloat"
    blast_radius = "one table's storage and scan speed"
    rollback = "VACUUM FULL and ANALYZE the table, reset autovacuum_enabled"

    def __init__(
        self,
        table: str,
        rounds: int = 5,
        column: str = "updated_at",
        dsn: str | None = None,
        dsn_env: str | None = None,
        timeout: float = 120.0,
    ) -> None:
        check_no_secret(dsn)
        self.table, self.rounds, self.column = table, rounds, column
        self.dsn, self.dsn_env, self.timeout = dsn, dsn_env, timeout

    def _ident(self) -> sql.Identifier:
        return sql.Identifier(*self.table.split(".", 1))

    def inject(self) -> None:
        with pg.connect(resolve_dsn(self.dsn, self.dsn_env), self.timeout) as conn:
            pg.execute(
                conn,
                sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = false)")
                .format(self._ident())
                .as_string(conn),
                timeout=self.timeout,
            )
            col = sql.Identifier(self.column)
            for _ in range(self.rounds):
                pg.execute(
                    conn,
                    sql.SQL("UPDATE {} SET {} = {}").format(self._ident(), col, col).as_string(conn),
                    timeout=self.timeout,
                )

    def revert(self) -> None:
        with pg.connect(resolve_dsn(self.dsn, self.dsn_env), self.timeout) as conn:
            if not pg.execute(conn, "SELECT to_regclass(%s) IS NOT NULL", (self.table,), self.timeout)[0][0]:
                return
            pg.execute(
                conn,
                sql.SQL("ALTER TABLE {} RESET (autovacuum_enabled)").format(self._ident()).as_string(conn),
                timeout=self.timeout,
            )
            pg.execute(
                conn, sql.SQL("VACUUM FULL {}").format(self._ident()).as_string(conn), timeout=self.timeout
            )
            # VACUUM FULL does not report to the statistics; ANALYZE does, so n_dead_tup (what the
            # DR procedures' assessment reads) shows the table healthy again.
            analyze = sql.SQL("ANALYZE {}").format(self._ident()).as_string(conn)
            pg.execute(conn, analyze, timeout=self.timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rounds": self.rounds,
            "column": self.column,
            "dsn": self.dsn,
            "dsn_env": self.dsn_env,
            "timeout": self.timeout,
        }
