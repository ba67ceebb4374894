"""Unannounced drills: sealed in advance by a commitment, revealed and checked when run."""

from drillbook.harness.unannounced.commitment import canonical_json, commit, verify
from drillbook.harness.unannounced.draw import Draw, draw
from drillbook.harness.unannounced.plan import UnannouncedPlan
from drillbook.harness.unannounced.reveal import Reveal, reveal
from drillbook.harness.unannounced.seal import seal
from drillbook.harness.unannounced.store import Sealed, SealError, SealStore
from drillbook.harness.unannounced.window import Window, parse_window

__all__ = [
    "Draw",
    "Reveal",
    "SealError",
    "SealStore",
    "Sealed",
    "UnannouncedPlan",
    "Window",
    "canonical_json",
    "commit",
    "draw",
    "parse_window",
    "reveal",
    "seal",
    "verify",
]
