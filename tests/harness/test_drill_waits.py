"""A drill's waits poll at the environment's interval (the profile's ``poll_interval``: tens of
milliseconds locally, seconds on AWS and Kubernetes), never past the drill's hard timeout, and
say where they stand on each poll of a long wait."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.harness import journal
from drillbook.harness.config import ConfigError, find_config
from drillbook.harness.environments.profile import POLL_INTERVAL_S, load_profile
from drillbook.harness.environments.staging.environment import StagingEnvironment
from drillbook.twin.settings import LocalSettings

STAGE = """
[environments.stage]
{setting}

[environments.stage.database]
url = "postgresql://drills@127.0.0.1:1/compliant"
"""


def write(path: Path, setting: str = "") -> None:
    (path / "drillbook.toml").write_text(STAGE.format(setting=setting))


def test_defaults_are_per_kind_and_a_profile_sets_its_own(tmp_path: Path) -> None:
    write(tmp_path)
    config = find_config(tmp_path)
    assert load_profile(config, "local").poll_interval == POLL_INTERVAL_S["local"] == 0.05
    assert load_profile(config, "stage").poll_interval == POLL_INTERVAL_S["staging"] == 5.0
    assert StagingEnvironment.from_config(config, "stage").poll_interval == 5.0
    write(tmp_path, 'poll_interval = "2s"')
    config = find_config(tmp_path)
    assert load_profile(config, "stage").poll_interval == 2.0
    assert StagingEnvironment.from_config(config, "stage").poll_interval == 2.0


def test_the_local_profile_reads_the_same_key(tmp_path: Path) -> None:
    (tmp_path / "drillbook.toml").write_text('[environments.local]\npoll_interval = "20ms"\n')
    config = find_config(tmp_path)
    assert load_profile(config, "local").poll_interval == 0.02
    assert LocalSettings.from_config(config).poll_interval_s == 0.02


def test_a_bad_interval_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    write(tmp_path, 'poll_interval = "soon"')
    with pytest.raises(ConfigError, match="poll_interval"):
        load_profile(find_config(tmp_path), "stage")


DRILL = """
import time, pytest
from drillbook.faults.noop import NoopFault

calls = []

@pytest.mark.drill(scenario="waits", tier="monthly", rto="1s", rpo="1s")
def test_counts_polls(drill):
    drill.steady_state(lambda: True)
    started = time.monotonic()
    drill.wait_until(lambda: calls.append(1) or time.monotonic() - started > 1.0, timeout=10, what="a second")
    drill.verify("polls", (True, str(len(calls))))

@pytest.mark.drill(scenario="bounded", tier="monthly", rto="1s", rpo="1s")
def test_bounded(drill):
    drill.steady_state(lambda: True)
    drill.inject(NoopFault())
    started = time.monotonic()
    try:
        drill.wait_until(lambda: False, timeout=600, what="what never comes")
    except Exception as exc:
        drill.verify("bounded", (time.monotonic() - started < 20, f"{type(exc).__name__} {exc}"))

@pytest.mark.drill(scenario="driver", tier="monthly", rto="1s", rpo="1s")
def test_driver_wait_bounded(drill):
    from drillbook.harness.environments.staging.waiting import wait_until
    drill.steady_state(lambda: True)
    drill.inject(NoopFault())
    started = time.monotonic()
    try:  # a driver's own wait (an RDS restore's hour) knows nothing of the drill
        wait_until("the restored instance", lambda: (False, "creating"), timeout=3600, interval=0.2)
    except Exception as exc:
        drill.verify("driver bounded", (time.monotonic() - started < 20, f"{type(exc).__name__} {exc}"))

def test_after_a_drill_waits_are_no_longer_cut():
    from drillbook.harness.polling import WaitTimeout, wait_until
    started = time.monotonic()
    with pytest.raises(WaitTimeout):
        wait_until(lambda: False, what="a plain wait", timeout=1.5, interval=0.1)
    assert time.monotonic() - started >= 1.4
"""


def test_waits_poll_at_the_profiles_interval_within_the_hard_timeout(pytester: pytest.Pytester) -> None:
    write(pytester.path, 'poll_interval = "250ms"')
    pytester.makepyfile(test_waits=DRILL)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--drill-env", "stage", "--drill-hard-timeout", "7s"
    )
    result.assert_outcomes(passed=4)
    counted, bounded, driver = journal.load_dicts(pytester.path / "drill-results")
    polls = int(counted["verification"][0]["detail"])
    assert 3 <= polls <= 7, polls  # ~1 s at 250 ms, not ~20 polls at the local 50 ms
    assert counted["environment"]["poll_interval_s"] == 0.25
    check = bounded["verification"][0]
    assert check["passed"] and "WaitTimeout" in check["detail"] and "what never comes" in check["detail"]
    # Past LONG_WAIT_S (5 s) a wait says where it stands, about once a second.
    lines = [line for line in result.outlines if "what never comes: not yet after" in line]
    assert 1 <= len(lines) <= 4, result.outlines
    cut = driver["verification"][0]
    assert cut["passed"]
    assert "the restored instance (cut to the drill's hard timeout of 7.00s)" in cut["detail"]
