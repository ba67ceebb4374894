"""Sealing: draw the scenarios and the time from a fresh secret seed, commit to the plan."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.paging.rotation import Rotation
from drillbook.harness.unannounced.commitment import commit, new_nonce
from drillbook.harness.unannounced.draw import draw
from drillbook.harness.unannounced.plan import UnannouncedPlan, allowed_moment
from drillbook.harness.unannounced.store import Sealed
from drillbook.harness.unannounced.window import Window


def seal(
    candidates: Mapping[str, Sequence[str]],
    *,
    tier: str,
    window: Window,
    count: int = 1,
    excluded: Sequence[str] = (),
    rotation: Rotation | None = None,
    suite: str = "",
    environment: str = "local",
    now: datetime | None = None,
    seed: bytes | None = None,
) -> Sealed:
    """A sealed plan over ``candidates`` (scenario name -> its node ids).

    ``seed`` is for tests and audits only: a real seal draws 32 bytes from
    :mod:`secrets`, so nobody (the operator included) can steer the draw.
    """
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    if window.end <= now:
        raise InvalidDrillConfig(
            f"window {window.describe()} is over: choose a window that ends in the future"
        )
    if not candidates:
        raise InvalidDrillConfig(f"no {tier} drills to draw from; check --suite and --tier")
    ahead = Window(max(window.start, now), window.end)
    excluded_t = tuple(dict.fromkeys(p.strip() for p in excluded if p.strip()))
    seed = seed if seed is not None else secrets.token_bytes(32)
    drawn = draw(seed, list(candidates), count, ahead, allowed=allowed_moment(rotation, excluded_t))
    plan = UnannouncedPlan(
        tier=tier,
        window=window,
        draw_window=ahead,
        sealed_at=now,
        seed=seed.hex(),
        candidates=tuple(sorted(candidates)),
        scenarios=drawn.scenarios,
        scheduled_at=drawn.at,
        nodeids={s: tuple(candidates[s]) for s in drawn.scenarios},
        excluded=excluded_t,
        rotation=rotation,
        suite=suite,
        environment=environment,
    )
    nonce = new_nonce()
    return Sealed(plan, nonce, commit(plan.to_dict(), nonce))
