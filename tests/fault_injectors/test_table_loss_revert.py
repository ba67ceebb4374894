"""A table-loss revert is one transaction: cut short, it leaves the table as the fault left it and
the next revert does it all again; never a table back without its grants or its foreign keys (a
kill campaign found a table restored without its grants after the reverting runner was killed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.faults.postgres_table_loss import PostgresTableLoss
from drillbook.harness import pg
from drillbook.harness.errors import FaultError


def test_a_revert_that_fails_part_way_leaves_nothing_half_restored(pg_database: str, tmp_path: Path) -> None:
    pg.query(pg_database, "DROP ROLE IF EXISTS reader; CREATE ROLE reader; GRANT SELECT ON users TO reader")
    fault = PostgresTableLoss("users", str(tmp_path / "users.dump"), mode="drop", dsn=pg_database)
    fault.inject()
    # The last statement of the revert (the foreign key of projects) will fail: a constraint of that
    # name is in the way, as a revert killed after restoring the table would have left things.
    pg.query(pg_database, "ALTER TABLE projects ADD CONSTRAINT projects_owner_id_fkey CHECK (owner_id > 0)")
    with pytest.raises(FaultError, match="projects_owner_id_fkey"):
        fault.revert()
    assert pg.query(pg_database, "SELECT to_regclass('users') IS NULL") == [(True,)]  # not half there

    pg.query(pg_database, "ALTER TABLE projects DROP CONSTRAINT projects_owner_id_fkey")
    fault.revert()
    assert pg.query(pg_database, "SELECT count(*) FROM users") == [(50,)]
    assert pg.query(pg_database, "SELECT has_table_privilege('reader', 'users', 'SELECT')") == [(True,)]
    assert pg.query(
        pg_database, "SELECT contype FROM pg_constraint WHERE conname = 'projects_owner_id_fkey'"
    ) == [("f",)]
    fault.revert()  # twice is harmless


def test_an_emptied_table_gets_its_rows_back_with_its_triggers_on(pg_database: str, tmp_path: Path) -> None:
    fault = PostgresTableLoss("projects", str(tmp_path / "projects.dump"), mode="truncate", dsn=pg_database)
    fault.inject()
    fault.revert()
    assert pg.query(pg_database, "SELECT count(*) FROM projects") == [(500,)]
    disabled = pg.query(
        pg_database,
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'projects'::regclass AND tgenabled = 'D'",
    )
    assert disabled == [(0,)]
