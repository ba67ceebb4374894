"""Reconciliation: compare what the client saw acknowledged with what survived.

The definitions are the README's ("What is measured"), kept exact:

* P is the longest prefix (by sequence) of writes acknowledged before ``t_fault``
  that all survive. ``rpo_s = t_fault - ack_time(last write of P)``, and 0 when
  every write acknowledged before ``t_fault`` survived. When not even the first
  of them survived, P is empty and ``rpo_s = t_fault - started`` (the whole
  window the ledger covered was lost, so the loss is at least that).
* ``acked_writes``: acknowledged before ``t_fault``; ``lost_writes``: of those,
  absent. Writes acknowledged after ``t_fault`` are counted apart
  (``acked_after_fault``, ``lost_after_fault``).
* ``indeterminate_writes``: the client timed out or lost the connection after
  sending; the outcome is unknown, so present or absent is no violation.
* ``unexpected_writes``: present, but never acknowledged and not indeterminate
  (a write the client saw fail, or never sent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class WriteOutcome(StrEnum):
    ACKED = "acked"
    FAILED = "failed"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class WriteRecord:
    seq: int
    sent: float  # monotonic time the write began
    outcome: WriteOutcome
    done: float  # monotonic time the outcome was known (the ack time when acked)


@dataclass
class Reconciliation:
    rpo_s: float | None
    acked_writes: int
    lost_writes: int
    indeterminate_writes: int
    unexpected_writes: int
    acked_after_fault: int
    lost_after_fault: int
    lost_seqs: list[tuple[int, int]] = field(default_factory=list)  # inclusive ranges
    last_safe_seq: int | None = None  # last write of P


def reconcile(
    writes: Iterable[WriteRecord], present: set[int], t_fault: float | None, started: float
) -> Reconciliation:
    """Reconcile a write history against the sequence numbers that survived.

    With no fault (``t_fault`` is None) every acknowledged write counts as before
    the fault and ``rpo_s`` is None.
    """
    history = sorted(writes, key=lambda w: w.seq)
    acked = [w for w in history if w.outcome is WriteOutcome.ACKED]
    before = [w for w in acked if t_fault is None or w.done <= t_fault]
    after = [w for w in acked if t_fault is not None and w.done > t_fault]
    lost_before = [w for w in before if w.seq not in present]
    lost_after = [w for w in after if w.seq not in present]
    indeterminate = {w.seq for w in history if w.outcome is WriteOutcome.INDETERMINATE}
    acked_seqs = {w.seq for w in acked}
    unexpected = present - acked_seqs - indeterminate

    last_safe: WriteRecord | None = None
    for w in before:
        if w.seq not in present:
            break
        last_safe = w
    if t_fault is None:
        rpo: float | None = None
    elif not lost_before:
        rpo = 0.0
    else:
        rpo = t_fault - (last_safe.done if last_safe is not None else started)

    return Reconciliation(
        rpo_s=rpo,
        acked_writes=len(before),
        lost_writes=len(lost_before),
        indeterminate_writes=len(indeterminate),
        unexpected_writes=len(unexpected),
        acked_after_fault=len(after),
        lost_after_fault=len(lost_after),
        lost_seqs=_ranges(w.seq for w in lost_before + lost_after),
        last_safe_seq=last_safe.seq if last_safe is not None else None,
    )


def _ranges(seqs: Iterable[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s in sorted(set(seqs)):
        if out and out[-1][1] == s - 1:
            out[-1] = (out[-1][0], s)
        else:
            out.append((s, s))
    return out
