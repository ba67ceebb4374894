"""Unannounced drills: sealed in advance by a commitment, revealed and checked when run."""

from harness.unannounced.commitment import canonical_json, commit, verify
from harness.unannounced.draw import Draw, draw
from harness.unannounced.plan import UnannouncedPlan
from harness.unannounced.reveal import Reveal, reveal
from harness.unannounced.seal import seal
from harness.unannounced.store import Sealed, SealError, SealStore
from harness.unannounced.window import Window, parse_window

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
