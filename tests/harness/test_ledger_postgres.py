"""RPO against ground truth on a real PostgreSQL: rows removed as a restore would."""

from __future__ import annotations

import time
from pathlib import Path

from drillbook.faults.noop import NoopFault
from drillbook.harness.ledger.postgres import PostgresLedgerStore
from drillbook.harness.ledger.reconcile import WriteOutcome
from drillbook.harness.settings import DrillSettings
from drillbook.harness.standalone import standalone_drill
from drillbook.twin.postgres import PostgresCluster
from tests.twin.dataplane_support import server_tmp


def _settings(tmp_path: Path) -> DrillSettings:
    return DrillSettings(state_dir=tmp_path / "state", ledger_interval=0.02, progress=False)


def test_a_removed_suffix_gives_exact_rpo_and_lost_writes(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    store = PostgresLedgerStore(pg_cluster.dsn())
    with standalone_drill(
        "restore to earlier point", results_dir=None, settings=_settings(tmp_path), rpo="1h"
    ) as drill:
        drill.steady_state(lambda: True)
        ledger = drill.ledger(store)
        assert ledger.wait_for_acks(40)
        drill.inject(NoopFault("restore"))
        time.sleep(0.2)  # writes acknowledged after the fault are counted apart
        ledger.stop()
        t_fault = drill.t_fault
        assert t_fault is not None
        before = [w for w in ledger.history() if w.outcome is WriteOutcome.ACKED and w.done <= t_fault]
        # A restore to just after write 25: every later write is gone.
        keep_until = 25
        lost = [w.seq for w in before if w.seq > keep_until]
        after = [w.seq for w in ledger.history() if w.done > t_fault and w.outcome is WriteOutcome.ACKED]
        assert store.delete(ledger.run_id, lost + after) == len(lost) + len(after)
        rec = drill.reconcile()
    expected_rpo = t_fault - next(w.done for w in before if w.seq == keep_until)
    assert rec.lost_writes == len(lost)
    assert rec.rpo_s == expected_rpo
    assert rec.acked_writes == len(before)
    assert rec.lost_after_fault == len(after) and rec.unexpected_writes == 0
    result = drill.finished
    assert result is not None and result.measured.rpo_s == expected_rpo
    assert result.measured.lost_writes == len(lost)


def test_nothing_removed_gives_rpo_zero(pg_cluster: PostgresCluster, tmp_path: Path) -> None:
    store = PostgresLedgerStore(pg_cluster.dsn())
    with standalone_drill("no loss", results_dir=None, settings=_settings(tmp_path), rpo="0") as drill:
        drill.steady_state(lambda: True)
        ledger = drill.ledger(store)
        assert ledger.wait_for_acks(20)
        drill.inject(NoopFault())
        time.sleep(0.1)
    result = drill.finished
    assert result is not None
    assert result.measured.rpo_s == 0.0 and result.measured.lost_writes == 0
    assert result.measured.acked_writes is not None and result.measured.acked_writes >= 20
    assert result.status.value == "PASS"


def test_writes_to_a_stopped_server_fail_definitely(tmp_path: Path) -> None:
    with server_tmp("ledger") as base:
        cluster = PostgresCluster(base / "pg").init()
        cluster.start()
        cluster.wait_ready()
        store = PostgresLedgerStore(cluster.dsn())
        try:
            with standalone_drill("db stopped", results_dir=None, settings=_settings(tmp_path)) as drill:
                drill.steady_state(lambda: True)
                ledger = drill.ledger(store)
                assert ledger.wait_for_acks(10)
                cluster.stop("immediate")
                drill.inject(NoopFault("stop"))
                time.sleep(0.3)
                failed = [w for w in ledger.history() if w.outcome is WriteOutcome.FAILED]
                assert failed, "writes to a stopped server are definite failures"
                cluster.start()
                cluster.wait_ready()
        finally:
            cluster.stop("immediate")
    result = drill.finished
    assert result is not None and result.measured.lost_writes == 0
