"""The bloat fault's revert leaves the table healthy as the DR procedures look at it: the
statistics (``n_dead_tup``), not only the heap. VACUUM FULL rewrites the heap but does not
report to the statistics, so without an ANALYZE the next drill's steady state read the dead
tuples the revert had removed (a kill campaign: 2A re-runs refused "projects: 1216 dead tuples"
right after a clean revert)."""

from __future__ import annotations

import time

from drillbook.faults.postgres_bloat import PostgresBloat
from drillbook.harness import pg


def reported_dead(dsn: str) -> int:
    return int(pg.query(dsn, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'projects'")[0][0])


def test_after_the_revert_the_statistics_show_no_bloat(pg_database: str) -> None:
    fault = PostgresBloat("projects", rounds=6, dsn=pg_database)
    fault.inject()
    deadline = time.monotonic() + 10
    while reported_dead(pg_database) < 1000:
        assert time.monotonic() < deadline, "the bloat never showed in the statistics"
        time.sleep(0.1)
    fault.revert()
    time.sleep(1.2)  # the statistics are flushed within a second
    assert reported_dead(pg_database) < 1000
    assert pg.query(pg_database, "SELECT reloptions FROM pg_class WHERE relname = 'projects'") == [(None,)]
