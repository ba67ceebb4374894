"""Where sealed plans live: readable by the drill operator only.

``<dir>/sealed/<id>.json`` (mode 0600, in 0700 directories) holds the plan,
the nonce and the commitment. ``<dir>/done/<commitment>.json`` marks a sealed
drill as run; it holds nothing secret (the plan is revealed by then), so CI may
cache that directory between scheduled jobs while the sealed file stays a secret.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from drillbook.harness import journal
from drillbook.harness.errors import DrillbookError
from drillbook.harness.timing import utcnow_iso
from drillbook.harness.unannounced.commitment import canonical_json
from drillbook.harness.unannounced.plan import UnannouncedPlan


class SealError(DrillbookError):
    """A sealed plan is unreadable, exposed or does not match its commitment."""


@dataclass(frozen=True)
class Sealed:
    plan: UnannouncedPlan
    nonce: str
    commitment: str
    path: Path | None = None

    @property
    def id(self) -> str:
        return self.commitment[:16]

    def to_dict(self) -> dict[str, Any]:
        plan = self.plan.to_dict()
        # The exact bytes hashed, kept so a later reader need not trust our encoder.
        return {
            "commitment": self.commitment,
            "nonce": self.nonce,
            "plan": plan,
            "plan_canonical": canonical_json(plan),
        }


class SealStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.sealed_dir = directory / "sealed"
        self.done_dir = directory / "done"

    def save(self, sealed: Sealed) -> Path:
        for d in (self.directory, self.sealed_dir):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
            d.chmod(0o700)
        path = self.sealed_dir / f"{sealed.id}.json"
        # Created 0600 from the start: never a moment when others could read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(sealed.to_dict(), out, indent=2, sort_keys=True)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        return path

    def load(self, path: Path) -> Sealed:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SealError(
                f"sealed plan {path} is readable by others (mode {mode:04o}): the drill is no longer "
                f"sealed; chmod 600 it if nobody read it, otherwise seal a new one"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            plan_data = data["plan"]
            if "plan_canonical" in data and canonical_json(plan_data) != data["plan_canonical"]:
                raise SealError(f"sealed plan {path}: the plan was edited (its canonical form changed)")
            return Sealed(
                UnannouncedPlan.from_dict(plan_data), str(data["nonce"]), str(data["commitment"]), path
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise SealError(f"sealed plan {path} is unreadable ({exc}); restore it from your copy") from exc

    def sealed(self) -> list[Sealed]:
        if not self.sealed_dir.is_dir():
            return []
        return [self.load(p) for p in sorted(self.sealed_dir.glob("*.json"))]

    def pending(self, results_dir: Path | None = None) -> list[Sealed]:
        """Sealed drills not run yet (by a done mark or, given ``results_dir``, the journal)."""
        ran = self._journal_commitments(results_dir) if results_dir is not None else set()
        return sorted(
            (s for s in self.sealed() if not self.is_done(s.commitment) and s.commitment not in ran),
            key=lambda s: s.plan.scheduled_at,
        )

    def due(self, now: datetime, results_dir: Path | None = None) -> list[Sealed]:
        return [s for s in self.pending(results_dir) if s.plan.scheduled_at <= now]

    def is_done(self, commitment: str) -> bool:
        return (self.done_dir / f"{commitment}.json").is_file()

    def mark_done(self, sealed: Sealed, *, run_id: str, exit_code: int, verified: bool) -> Path:
        self.done_dir.mkdir(parents=True, exist_ok=True)
        path = self.done_dir / f"{sealed.commitment}.json"
        record = {
            "commitment": sealed.commitment,
            "run_id": run_id,
            "ran_at": utcnow_iso(),
            "exit_code": exit_code,
            "verified": verified,
        }
        path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @staticmethod
    def _journal_commitments(results_dir: Path) -> set[str]:
        found = set()
        for record in journal.load_dicts(results_dir):
            unannounced = (record.get("extra") or {}).get("unannounced")
            if isinstance(unannounced, dict) and isinstance(unannounced.get("commitment"), str):
                found.add(unannounced["commitment"])
        return found
