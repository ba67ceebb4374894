"""Sign-off as evidence: who signed a suite run's DR Test Report, as which role, when, and what.

A sign-off is a record of the journal's hash chain (``kind = "signoff"``), so it can
be neither back-dated nor removed without ``drillbook verify`` naming the damage.
What it signs is the *report hash*: the sha256 of the run's drill records, each
named by its record id and journal hash, in chain order::

    sha256("drillbook.report/1\\n" + "".join(f"{record_id} {hash}\\n" for each drill record))

Any change to a signed record, a record added to the run or one removed gives
another report hash, and the report then says it changed after signing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from drillbook.harness import journal
from drillbook.harness.records import SignOff
from drillbook.harness.timing import utcnow_iso

PREFIX = "drillbook.report/1\n"
#: A note longer than this is not a sign-off note (a pasted document).
MAX_NOTE = 1000


def report_hash(records: Iterable[tuple[str, str]]) -> str:
    """The report hash of ``(record_id, journal hash)`` pairs in chain order."""
    body = PREFIX + "".join(f"{record_id} {digest}\n" for record_id, digest in records)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SignOffState:
    """A sign-off as a report shows it: valid, or the journal changed after it was signed."""

    signoff: SignOff
    current_hash: str

    @property
    def valid(self) -> bool:
        return self.signoff.report_hash == self.current_hash

    @property
    def text(self) -> str:
        s = self.signoff
        if self.valid:
            return f"valid: signs this report (hash {s.report_hash[:16]})"
        return (
            f"CHANGED AFTER SIGNING: it signs report hash {s.report_hash[:16]}, "
            f"the journal now gives {self.current_hash[:16]}"
        )


def sign(
    directory: Path,
    *,
    run_id: str,
    role: str,
    name: str,
    records: list[tuple[str, str]],
    note: str = "",
    index: int = 1,
) -> tuple[SignOff, Path]:
    """Append a sign-off of ``records`` (the run's drill records) to the journal in ``directory``."""
    signoff = SignOff(
        run_id=run_id,
        role=role,
        name=name,
        signed_at=utcnow_iso(),
        report_hash=report_hash(records),
        records=[record_id for record_id, _ in records],
        note=note,
        record_id=f"{run_id}-signoff-{index}",
    )
    path = journal.append(directory, signoff)
    return signoff, path
