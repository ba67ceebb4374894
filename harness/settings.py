"""Run-wide settings of the drill harness, from options and config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillbook.harness.records import People


@dataclass(frozen=True)
class DrillSettings:
    results_dir: Path = Path("drill-results")
    state_dir: Path = Path(".drillbook")
    probe_interval: float = 0.1
    consecutive: int = 3
    hard_timeout: float | None = None  # None: twice the RTO target, else 600 s
    ledger_interval: float = 0.05
    ledger_timeout: float = 1.0
    allow_partial: bool = False
    env_name: str = "local"
    schedule: str | None = None
    progress: bool = True
    #: Merged into every record's ``extra`` (e.g. an unannounced drill's commitment).
    run_extra: dict[str, Any] = field(default_factory=dict)
    #: Who led the run and took part (``--drill-led-by``, ``--drill-participant``, ``[report]``).
    people: People | None = None

    def hard_timeout_for(self, rto_target: float | None) -> float:
        if self.hard_timeout is not None:
            return self.hard_timeout
        if rto_target:
            return 2 * rto_target
        return 600.0
