"""The fault space, schedules and the command's bad input (no platform needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.faults.noop import NoopFault
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.explore import FaultChoice, FaultSpace, Schedule, Target, schedules
from drillbook.harness.explore.schedule import Scheduled

ROOT = Path(__file__).resolve().parents[2]
CHOICES = tuple(FaultChoice(f"noop {i}", lambda p: NoopFault(), st.just({"i": i})) for i in range(4))
SPACE = FaultSpace(CHOICES, max_faults=3, max_concurrent=2)


@settings(max_examples=200, deadline=None)
@given(schedules(SPACE))
def test_schedules_stay_within_the_budget_and_round_trip(schedule: Schedule) -> None:
    assert 1 <= len(schedule.faults) <= 3
    assert len({f.fault for f in schedule.faults}) == len(schedule.faults)
    assert schedule.max_concurrent() <= 2
    assert all(0.5 <= f.duration_s <= 3.0 and 0 <= f.start_s <= 3.0 for f in schedule.faults)
    assert Schedule.from_json(schedule.to_json()) == schedule
    assert Schedule.from_json(schedule.to_json()).key() == schedule.key()


def test_the_key_is_the_same_for_every_way_of_writing_a_schedule() -> None:
    a = Scheduled("noop 1", {"b": 1, "a": 2}, 0.1 + 0.2, 0.5)
    b = Scheduled("noop 0", {}, 0.0, 1.0)
    same = Schedule((Scheduled("noop 1", {"a": 2, "b": 1}, 0.3, 0.5), b))
    assert Schedule((a, b)).key() == Schedule((b, a)).key() == same.key()
    assert Schedule((a, b)).key() != Schedule((a,)).key()
    assert Schedule((a, b)).key() != Schedule((Scheduled("noop 1", {"a": 2, "b": 1}, 0.3, 0.6), b)).key()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"choices": ()}, "at least one fault choice"),
        ({"choices": (CHOICES[0], CHOICES[0])}, "repeated: noop 0"),
        ({"choices": CHOICES, "max_concurrent": 0}, "max_concurrent must be"),
        ({"choices": CHOICES, "min_duration_s": 4.0}, "durations need"),
    ],
)
def test_a_bad_fault_space_is_refused_clearly(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidDrillConfig, match=message):
        FaultSpace(**kwargs)  # type: ignore[arg-type]


def test_a_schedule_that_is_no_schedule() -> None:
    with pytest.raises(InvalidDrillConfig, match="not a schedule"):
        Schedule.from_json('[{"fault": 1}]')


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "0"], "--budget must be more than 0"),
        (["--budget", "soon"], "--budget"),
        (["--seed", "x"], "--seed must be a whole number"),
        (["--seed", "-1"], "--seed must not be negative"),
    ],
)
def test_bad_input_is_one_message(tmp_path: Path, args: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "drillbook", "explore", *args], cwd=tmp_path,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("quiet_s", [-1.0, 601.0])
def test_a_target_refuses_a_quiet_pause_out_of_range(quiet_s: float) -> None:
    with pytest.raises(InvalidDrillConfig, match="quiet_s"):
        Target("t", SPACE, lambda: [], quiet_s=quiet_s)
