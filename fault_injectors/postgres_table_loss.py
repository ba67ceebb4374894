"""Lose a table: DROP it, TRUNCATE it, or DELETE every row (Scenario 2B/2C)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from psycopg import sql

from drillbook.faults._postgres import check_no_secret, pg_tool, resolve_dsn
from drillbook.faults.base import Fault
from drillbook.harness import pg
from drillbook.harness.errors import InvalidDrillConfig

MODES = ("drop", "truncate", "delete")


class PostgresTableLoss(Fault):
    """Destroys the rows of one table as an operator's mistake or a bad migration would.

    Before destroying anything the table (schema and rows) is dumped with pg_dump to
    ``backup``, beside a small JSON note of what was done, so revert can rebuild
    it in another process. Revert restores the table on the same server when it
    is still missing or emptied there; once the note is gone there is nothing to do.
    """

    name = "postgres_table_loss"
    blast_radius = "one table of one database"
    rollback = "restore the table from the pg_dump taken just before the loss"

    def __init__(
        self,
        table: str,
        backup: str,
        mode: str = "drop",
        dsn: str | None = None,
        dsn_env: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        if mode not in MODES:
            raise InvalidDrillConfig(f"invalid mode {mode!r} for {self.name}: use one of {', '.join(MODES)}")
        check_no_secret(dsn)
        self.table, self.backup, self.mode = table, backup, mode
        self.dsn, self.dsn_env, self.timeout = dsn, dsn_env, timeout

    @property
    def _note(self) -> Path:
        return Path(self.backup + ".json")

    def _ident(self) -> sql.Identifier:
        return sql.Identifier(*self.table.split(".", 1))

    def inject(self) -> None:
        target = resolve_dsn(self.dsn, self.dsn_env)
        with pg.connect(target, self.timeout) as conn:
            rows = pg.execute(
                conn,
                sql.SQL("SELECT count(*) FROM {}").format(self._ident()).as_string(conn),
                timeout=self.timeout,
            )[0][0]
            referencing = pg.execute(
                conn,
                "SELECT conname, conrelid::regclass::text, "
                "pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'f' AND confrelid = %s::regclass",
                (self.table,),
                self.timeout,
            )
        Path(self.backup).parent.mkdir(parents=True, exist_ok=True)
        pg_tool(
            "pg_dump",
            ["--format=custom", f"--table={self.table}", f"--file={self.backup}"],
            timeout=self.timeout,
            dsn=target,
        )
        self._note.write_text(
            json.dumps({"rows": rows, "mode": self.mode, "referencing": [list(r) for r in referencing]})
        )
        statement = {
            "drop": sql.SQL("DROP TABLE {} CASCADE"),
            "truncate": sql.SQL("TRUNCATE {} CASCADE"),
            "delete": sql.SQL("DELETE FROM {}"),
        }[self.mode].format(self._ident())
        with pg.connect(target, self.timeout) as conn:
            pg.execute(conn, statement.as_string(conn), timeout=self.timeout)

    def revert(self) -> None:
        if not self._note.exists():
            return  # never injected, or already reverted
        note = json.loads(self._note.read_text())
        target = resolve_dsn(self.dsn, self.dsn_env)
        with pg.connect(target, self.timeout) as conn:
            exists = pg.execute(conn, "SELECT to_regclass(%s) IS NOT NULL", (self.table,), self.timeout)[0][0]
            if exists:
                count = pg.execute(
                    conn,
                    sql.SQL("SELECT count(*) FROM {}").format(self._ident()).as_string(conn),
                    timeout=self.timeout,
                )[0][0]
                if count >= note["rows"]:
                    self._done()
                    return
            # Emptied but present: put the rows back, keeping what was written since (triggers off
            # meanwhile). Dropped: the table, its grants, and the foreign keys that pointed at it.
            restore = Path(self.backup + ".sql")
            only_rows = ("--data-only", "--disable-triggers") if exists else ()
            pg_tool("pg_restore", [*only_rows, f"--file={restore}", self.backup], timeout=self.timeout)
            with open(restore, "a", encoding="utf-8") as script:
                script.write("RESET search_path;\n")  # pg_restore's script empties it; the names are as seen
                for name, table, definition in [] if exists else note["referencing"]:
                    statement = sql.SQL(
                        "ALTER TABLE {} ADD CONSTRAINT {} "
                        + definition.replace("{", "{{").replace("}", "}}")
                        + " NOT VALID"
                    ).format(sql.Identifier(*table.split(".", 1)), sql.Identifier(name))
                    script.write(statement.as_string(conn) + ";\n")
        # All of it in one transaction: a revert cut short (its runner killed part-way) leaves the
        # table as the fault left it, and the next revert does it all again. Never a table back
        # without its grants, its foreign keys or its triggers.
        try:
            pg_tool(
                "psql",
                ["--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
                 f"--file={restore}"],
                timeout=self.timeout,
                dsn=target,
            )
        finally:
            restore.unlink(missing_ok=True)
        self._done()

    def _done(self) -> None:
        self._note.unlink(missing_ok=True)
        Path(self.backup).unlink(missing_ok=True)

    def describe(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "backup": self.backup,
            "mode": self.mode,
            "dsn": self.dsn,
            "dsn_env": self.dsn_env,
            "timeout": self.timeout,
        }
