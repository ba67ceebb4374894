"""A PostgreSQL ledger store (psycopg 3): one row per acknowledged write."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import psycopg

from drillbook.harness import pg
from drillbook.harness.ledger.store import WriteFailed, WriteIndeterminate

TABLE = "drillbook_ledger"


class PostgresLedgerStore:
    """Writes ``(run_id, seq)`` rows to ``drillbook_ledger`` in autocommit mode.

    ``dsn`` may be a callable, read again at every reconnect, so the writer follows
    a switchover to a restored or promoted database. A write the server answered
    with an error certainly did not commit (``WriteFailed``); a write whose
    connection broke without an answer is indeterminate.
    """

    def __init__(self, dsn: str | Callable[[], str], *, table: str = TABLE) -> None:
        self._dsn = dsn
        self.table = table
        self._conn: psycopg.Connection[Any] | None = None

    def dsn(self) -> str:
        return self._dsn() if callable(self._dsn) else self._dsn

    def prepare(self, run_id: str) -> None:
        pg.query(
            self.dsn(),
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            " run_id text NOT NULL, seq bigint NOT NULL,"
            " written_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
            " PRIMARY KEY (run_id, seq))",
        )

    def write(self, run_id: str, seq: int, timeout: float) -> None:
        try:
            conn = self._connection(timeout)
        except psycopg.Error as exc:
            self._drop()
            raise WriteFailed(f"connect failed: {exc}") from exc
        try:
            pg.execute(
                conn, f"INSERT INTO {self.table} (run_id, seq) VALUES (%s, %s)", (run_id, seq), timeout
            )
        except psycopg.Error as exc:
            answered = exc.sqlstate is not None and not conn.broken
            self._drop()
            if answered:
                raise WriteFailed(f"{exc.sqlstate}: {exc}") from exc
            raise WriteIndeterminate(f"no answer: {exc}") from exc

    def present(self, run_id: str, timeout: float) -> set[int]:
        rows = pg.query(self.dsn(), f"SELECT seq FROM {self.table} WHERE run_id = %s", (run_id,), timeout)
        return {int(r[0]) for r in rows}

    def delete(self, run_id: str, seqs: range | list[int], timeout: float = 5.0) -> int:
        """Remove rows (for tests that simulate a restore to an earlier point)."""
        rows = pg.query(
            self.dsn(),
            f"DELETE FROM {self.table} WHERE run_id = %s AND seq = ANY(%s) RETURNING seq",
            (run_id, list(seqs)),
            timeout,
        )
        return len(rows)

    def close(self) -> None:
        self._drop()

    def _connection(self, timeout: float) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = pg.connect(self.dsn(), timeout)
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None
