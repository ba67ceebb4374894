"""The draw: which scenarios and when, as a pure function of a secret seed.

Anyone holding the revealed seed can redo the draw and get the same result,
without Python: every random number is HMAC-SHA256(seed, label) read as a
big-endian 256-bit integer, reduced to ``[0, n)`` by rejection sampling (labels
``"<label>:<attempt>"``, attempt 0, 1, ...). Scenarios: from the candidates
sorted by code point, draw ``i`` (label ``scenario:<i>``) removes and takes the
element at the drawn index. Time: label ``time:<k>`` draws a whole second
offset into the window; draw ``k + 1`` is tried while the moment is not
allowed (an excluded person on call).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from drillbook.harness.errors import DrillbookError, InvalidDrillConfig
from drillbook.harness.unannounced.window import Window

_SPACE = 1 << 256
#: Times drawn before giving up on finding an allowed moment.
MAX_TIME_DRAWS = 4096


class NoAllowedTime(DrillbookError):
    """Every moment drawn was excluded (the window may be covered by excluded people)."""


@dataclass(frozen=True)
class Draw:
    scenarios: tuple[str, ...]
    at: datetime


def uniform(seed: bytes, label: str, n: int) -> int:
    """A uniform integer in ``[0, n)`` determined by ``seed`` and ``label``."""
    if n < 1:
        raise InvalidDrillConfig(f"cannot draw from an empty range ({label})")
    limit = _SPACE - _SPACE % n
    attempt = 0
    while True:
        digest = hmac.new(seed, f"{label}:{attempt}".encode(), hashlib.sha256).digest()
        value = int.from_bytes(digest, "big")
        if value < limit:
            return value % n
        attempt += 1


def draw(
    seed: bytes,
    candidates: Sequence[str],
    count: int,
    window: Window,
    *,
    allowed: Callable[[datetime], bool] | None = None,
) -> Draw:
    pool = sorted(set(candidates))
    if count < 1:
        raise InvalidDrillConfig(f"--scenarios {count}: draw at least one scenario")
    if count > len(pool):
        raise InvalidDrillConfig(
            f"--scenarios {count}: only {len(pool)} scenario(s) to draw from ({', '.join(pool) or 'none'})"
        )
    chosen = tuple(pool.pop(uniform(seed, f"scenario:{i}", len(pool))) for i in range(count))
    span = window.seconds
    if span < 1:
        raise InvalidDrillConfig(f"window {window.describe()} is shorter than a second")
    for k in range(MAX_TIME_DRAWS):
        moment = window.start + timedelta(seconds=uniform(seed, f"time:{k}", span))
        if allowed is None or allowed(moment):
            return Draw(chosen, moment)
    raise NoAllowedTime(
        f"no allowed time found in {window.describe()} after {MAX_TIME_DRAWS} draws: the excluded "
        "people cover (nearly) the whole window; widen the window or exclude fewer people"
    )
