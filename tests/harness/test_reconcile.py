"""Reconciliation against a brute-force oracle written from the README's words ("What is measured")."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.harness.ledger.reconcile import WriteOutcome, WriteRecord, reconcile


def oracle(writes: list[WriteRecord], present: set[int], t_fault: float, started: float) -> dict[str, object]:
    before = [w for w in writes if w.outcome is WriteOutcome.ACKED and w.done <= t_fault]
    before.sort(key=lambda w: w.seq)
    # The longest prefix that all survive: try every length, longest first.
    prefix: list[WriteRecord] = []
    for k in range(len(before), -1, -1):
        if all(w.seq in present for w in before[:k]):
            prefix = before[:k]
            break
    everything_survived = all(w.seq in present for w in before)
    if everything_survived:
        rpo = 0.0
    elif prefix:
        rpo = t_fault - prefix[-1].done
    else:
        rpo = t_fault - started
    acked = {w.seq for w in writes if w.outcome is WriteOutcome.ACKED}
    indeterminate = {w.seq for w in writes if w.outcome is WriteOutcome.INDETERMINATE}
    after = [w for w in writes if w.outcome is WriteOutcome.ACKED and w.done > t_fault]
    return {
        "rpo_s": rpo,
        "acked_writes": len(before),
        "lost_writes": sum(1 for w in before if w.seq not in present),
        "indeterminate_writes": len(indeterminate),
        "unexpected_writes": len({s for s in present if s not in acked and s not in indeterminate}),
        "acked_after_fault": len(after),
        "lost_after_fault": sum(1 for w in after if w.seq not in present),
    }


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[WriteRecord], set[int], float]:
    n = draw(st.integers(0, 40))
    outcomes = draw(st.lists(st.sampled_from(list(WriteOutcome)), min_size=n, max_size=n))
    gaps = draw(st.lists(st.floats(0.001, 0.2), min_size=n, max_size=n))
    writes, t = [], 1.0
    for seq, (outcome, gap) in enumerate(zip(outcomes, gaps, strict=True), start=1):
        sent = t
        t += gap
        writes.append(WriteRecord(seq, sent, outcome, t))
    t_fault = draw(st.floats(1.0, t + 0.5))
    # What survives: any subset of the attempted writes, plus maybe a phantom seq.
    present = {w.seq for w in writes if draw(st.booleans())}
    if draw(st.booleans()):
        present.add(n + draw(st.integers(1, 5)))
    return writes, present, t_fault


@settings(max_examples=500)
@given(histories())
def test_reconcile_matches_oracle(case: tuple[list[WriteRecord], set[int], float]) -> None:
    writes, present, t_fault = case
    result = reconcile(writes, present, t_fault, started=1.0)
    expected = oracle(writes, present, t_fault, 1.0)
    for key, value in expected.items():
        assert getattr(result, key) == value, key


def _acked(n: int, step: float = 0.1) -> list[WriteRecord]:
    return [WriteRecord(i, i * step, WriteOutcome.ACKED, i * step + 0.01) for i in range(1, n + 1)]


def test_a_restore_to_an_earlier_point_loses_a_suffix() -> None:
    writes = _acked(100)
    present = set(range(1, 61))  # restored to just after write 60
    result = reconcile(writes, present, t_fault=10.5, started=0.0)
    assert result.lost_writes == 40
    assert result.rpo_s == 10.5 - writes[59].done
    assert result.lost_seqs == [(61, 100)]
    assert result.last_safe_seq == 60


def test_nothing_lost_means_rpo_zero_and_no_fault_means_none() -> None:
    writes = _acked(10)
    assert reconcile(writes, set(range(1, 11)), 5.0, 0.0).rpo_s == 0.0
    assert reconcile(writes, set(range(1, 11)), None, 0.0).rpo_s is None


def test_a_hole_in_the_middle_counts_from_the_last_write_before_it() -> None:
    writes = _acked(10)
    present = set(range(1, 11)) - {4}
    result = reconcile(writes, present, 5.0, 0.0)
    assert result.lost_writes == 1
    assert result.rpo_s == 5.0 - writes[2].done
