"""Check, from the journal alone, that every unannounced drill matched its commitment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from drillbook.harness import journal
from drillbook.harness.unannounced.commitment import verify
from drillbook.harness.unannounced.plan import UnannouncedPlan


@dataclass(frozen=True)
class JournalCheck:
    commitment: str
    run_ids: tuple[str, ...]
    commitment_ok: bool
    draw_ok: bool

    @property
    def ok(self) -> bool:
        return self.commitment_ok and self.draw_ok


def check_journal(results_dir: Path) -> list[JournalCheck]:
    found: dict[str, tuple[set[str], bool, bool]] = {}
    for record in journal.load_dicts(results_dir):
        data = (record.get("extra") or {}).get("unannounced")
        if not isinstance(data, dict) or "commitment" not in data:
            continue
        plan = data.get("plan")
        nonce = data.get("nonce")
        commitment_ok = (
            isinstance(plan, dict) and isinstance(nonce, str) and verify(plan, nonce, data["commitment"])
        )
        try:
            draw_ok = isinstance(plan, dict) and UnannouncedPlan.from_dict(plan).draw_matches()
        except (KeyError, ValueError, TypeError):
            draw_ok = False
        runs, c_ok, d_ok = found.get(data["commitment"], (set(), True, True))
        runs.add(str(record.get("run_id")))
        found[data["commitment"]] = (runs, c_ok and commitment_ok, d_ok and draw_ok)
    return [JournalCheck(c, tuple(sorted(r)), c_ok, d_ok) for c, (r, c_ok, d_ok) in found.items()]
