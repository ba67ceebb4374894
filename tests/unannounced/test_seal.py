"""Sealing, commitments and the draw: pure functions, checked the way an auditor would."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.paging.rotation import Rotation
from drillbook.harness.unannounced import canonical_json, commit, draw, parse_window, reveal, seal, verify
from drillbook.harness.unannounced.draw import NoAllowedTime, uniform
from drillbook.harness.unannounced.plan import UnannouncedPlan
from drillbook.harness.unannounced.window import Window

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
CANDIDATES = {
    "complete-infrastructure-failure": ["drills/test_infra.py::test_region"],
    "database-corruption": ["drills/test_db.py::test_snapshot", "drills/test_db.py::test_pitr"],
    "security-breach": ["drills/test_breach.py::test_rotate"],
    "data-center-failure": ["drills/test_zone.py::test_zone"],
    "application-crash": ["drills/test_crash.py::test_crashloop"],
}
WINDOW = Window(datetime(2025, 3, 10, tzinfo=UTC), datetime(2025, 6, 30, tzinfo=UTC))


def sealed_plan(seed: bytes | None = None, count: int = 2):  # type: ignore[no-untyped-def]
    return seal(CANDIDATES, tier="annual", window=WINDOW, count=count, now=NOW, seed=seed)


def test_the_commitment_verifies_against_the_revealed_plan() -> None:
    sealed = sealed_plan()
    plan = sealed.plan.to_dict()
    assert verify(plan, sealed.nonce, sealed.commitment)
    shown = reveal(sealed, "2025-04-01T00:00:00Z")
    assert shown.verified and shown.commitment_verified and shown.draw_verified
    extra = shown.to_extra()
    assert extra["plan"] == plan and extra["commitment"] == sealed.commitment and extra["verified"] is True


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.update(scheduled_at="2025-05-01T09:00:00+00:00"),
        lambda p: p.update(scenarios=list(reversed(p["scenarios"]))),
        lambda p: p.update(excluded=["Jane Smith"]),
        lambda p: p.update(seed="00" * 32),
        lambda p: p.update(extra=True),
    ],
)
def test_a_changed_plan_fails_verification(change) -> None:  # type: ignore[no-untyped-def]
    sealed = sealed_plan()
    plan = sealed.plan.to_dict()
    change(plan)
    assert not verify(plan, sealed.nonce, sealed.commitment)


def test_a_changed_nonce_fails_verification() -> None:
    sealed = sealed_plan()
    assert not verify(sealed.plan.to_dict(), "0" * 64, sealed.commitment)


def test_a_forged_plan_with_a_matching_commitment_still_fails_the_draw_check() -> None:
    # Someone who controls both plan and commitment (re-sealing in secret) cannot pick
    # the scenarios: the draw must follow from the revealed seed.
    # (A random seed each run: the forged pick must differ from the draw whatever it was.)
    sealed = sealed_plan()
    drawn = list(sealed.plan.scenarios)
    not_drawn = next(s for s in CANDIDATES if s not in drawn)
    for scenarios in ([drawn[0], not_drawn], [not_drawn], list(reversed(drawn))):
        forged = UnannouncedPlan.from_dict({**sealed.plan.to_dict(), "scenarios": scenarios})
        assert not forged.draw_matches(), scenarios


def test_the_commitment_is_reproducible_with_a_shell(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sealed = sealed_plan()
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(canonical_json(sealed.plan.to_dict()))
    done = subprocess.run(
        ["sh", "-c", 'printf "%s\\n%s" "$1" "$(cat "$2")" | sha256sum', "sh", sealed.nonce, str(plan_file)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert done.stdout.split()[0] == sealed.commitment


def test_the_draw_follows_the_documented_algorithm() -> None:
    seed = bytes(range(32))
    digest = hmac.new(seed, b"scenario:0:0", hashlib.sha256).digest()
    value = int.from_bytes(digest, "big")
    assert value < (1 << 256) - (1 << 256) % 5  # not rejected for n = 5
    assert uniform(seed, "scenario:0", 5) == value % 5
    first = sorted(CANDIDATES)[value % 5]
    assert draw(seed, list(CANDIDATES), 1, WINDOW).scenarios == (first,)


def test_the_same_seed_gives_the_same_draw() -> None:
    seed = b"\x01" * 32
    a, b = sealed_plan(seed), sealed_plan(seed)
    assert (a.plan.scenarios, a.plan.scheduled_at) == (b.plan.scenarios, b.plan.scheduled_at)
    assert a.plan.redraw() == b.plan.redraw()
    # Each seal has its own nonce, so equal plans still get different commitments.
    assert a.nonce != b.nonce and a.commitment != b.commitment
    # Candidate order does not matter: the pool is sorted.
    again = draw(seed, list(reversed(list(CANDIDATES))), 2, a.plan.draw_window)
    assert (again.scenarios, again.at) == (a.plan.scenarios, a.plan.scheduled_at)


def test_a_new_seal_gives_a_different_draw() -> None:
    a, b = sealed_plan(), sealed_plan()
    assert a.plan.seed != b.plan.seed and len(a.plan.seed) == 64
    # 20 possible ordered pairs of scenarios x 9.4 million seconds: equal draws are all but impossible.
    assert (a.plan.scenarios, a.plan.scheduled_at) != (b.plan.scenarios, b.plan.scheduled_at)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32),
    start_offset=st.integers(min_value=0, max_value=10**8),
    length=st.integers(min_value=1, max_value=10**8),
    count=st.integers(min_value=1, max_value=5),
)
def test_the_drawn_time_lies_in_the_window_and_scenarios_are_distinct(
    seed: bytes, start_offset: int, length: int, count: int
) -> None:
    start = NOW + timedelta(seconds=start_offset)
    window = Window(start, start + timedelta(seconds=length))
    drawn = draw(seed, list(CANDIDATES), count, window)
    assert window.start <= drawn.at < window.end
    assert len(set(drawn.scenarios)) == count and set(drawn.scenarios) <= set(CANDIDATES)


def test_a_window_that_started_draws_from_now_on() -> None:
    sealed = seal(
        CANDIDATES, tier="annual", window=Window(NOW - timedelta(days=3), NOW + timedelta(hours=1)), now=NOW
    )
    assert sealed.plan.draw_window.start == NOW
    assert NOW <= sealed.plan.scheduled_at < NOW + timedelta(hours=1)


ROTATION = Rotation(
    start=datetime(2025, 3, 3, 9, 0, tzinfo=UTC),
    every_s=3600.0,
    people=("John Doe", "Jane Smith", "Bob Johnson"),
)


@settings(max_examples=100, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32))
def test_the_drill_never_falls_in_an_excluded_persons_shift(seed: bytes) -> None:
    sealed = seal(
        CANDIDATES,
        tier="annual",
        window=Window(NOW, NOW + timedelta(hours=12)),
        now=NOW,
        seed=seed,
        excluded=["jane smith", "Bob Johnson"],
        rotation=ROTATION,
    )
    assert ROTATION.on_call(sealed.plan.scheduled_at) == "John Doe"
    assert sealed.plan.draw_matches()


def test_excluding_everyone_on_call_is_a_clear_error() -> None:
    with pytest.raises(NoAllowedTime, match="widen the window or exclude fewer people"):
        seal(
            CANDIDATES,
            tier="annual",
            window=Window(NOW, NOW + timedelta(hours=3)),
            now=NOW,
            excluded=list(ROTATION.people),
            rotation=ROTATION,
        )


@pytest.mark.parametrize(
    ("count", "message"), [(0, "draw at least one"), (6, r"only 5 scenario\(s\) to draw from")]
)
def test_bad_scenario_counts(count: int, message: str) -> None:
    with pytest.raises(InvalidDrillConfig, match=message):
        sealed_plan(count=count)


def test_a_window_in_the_past_is_refused() -> None:
    with pytest.raises(InvalidDrillConfig, match="is over"):
        seal(
            CANDIDATES,
            tier="annual",
            window=Window(NOW - timedelta(days=2), NOW - timedelta(days=1)),
            now=NOW,
        )


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025-03-10..2025-03-31", datetime(2025, 3, 10, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)),
        (
            "2025-03-10T09:00..2025-03-10T17:00Z",
            datetime(2025, 3, 10, 9, tzinfo=UTC),
            datetime(2025, 3, 10, 17, tzinfo=UTC),
        ),
        (
            "2025-03-10T09:00+02:00..+8h",
            datetime(2025, 3, 10, 7, tzinfo=UTC),
            datetime(2025, 3, 10, 15, tzinfo=UTC),
        ),
        ("now..+30d", NOW, NOW + timedelta(days=30)),
    ],
)
def test_window_forms(text: str, start: datetime, end: datetime) -> None:
    window = parse_window(text, now=NOW)
    assert (window.start, window.end) == (start, end)


@pytest.mark.parametrize("text", ["2025-03-10", "2025-03-31..2025-03-01", "soon..later", "now..+x"])
def test_bad_windows_name_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidDrillConfig, match="window"):
        parse_window(text, now=NOW)


def test_the_plan_round_trips_through_json() -> None:
    sealed = seal(CANDIDATES, tier="annual", window=WINDOW, now=NOW, excluded=["John Doe"], rotation=ROTATION)
    data = sealed.plan.to_dict()
    assert UnannouncedPlan.from_dict(data).to_dict() == data
    assert commit(UnannouncedPlan.from_dict(data).to_dict(), sealed.nonce) == sealed.commitment
