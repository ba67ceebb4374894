"""The reveal: the plan and nonce made public, and whether they match the commitment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drillbook.harness.unannounced.commitment import verify
from drillbook.harness.unannounced.store import Sealed


@dataclass(frozen=True)
class Reveal:
    sealed: Sealed
    revealed_at: str
    commitment_verified: bool
    draw_verified: bool

    @property
    def verified(self) -> bool:
        return self.commitment_verified and self.draw_verified

    def to_extra(self) -> dict[str, Any]:
        """``extra["unannounced"]`` of every journal record of the drill (read by the reports)."""
        plan = self.sealed.plan
        return {
            "commitment": self.sealed.commitment,
            "nonce": self.sealed.nonce,
            "plan": plan.to_dict(),
            "verified": self.verified,
            "commitment_verified": self.commitment_verified,
            "draw_verified": self.draw_verified,
            "tier": plan.tier,
            "sealed_at": plan.sealed_at.isoformat(),
            "scheduled_at": plan.scheduled_at.isoformat(),
            "revealed_at": self.revealed_at,
        }


def reveal(sealed: Sealed, revealed_at: str) -> Reveal:
    return Reveal(
        sealed=sealed,
        revealed_at=revealed_at,
        commitment_verified=verify(sealed.plan.to_dict(), sealed.nonce, sealed.commitment),
        draw_verified=sealed.plan.draw_matches(),
    )
