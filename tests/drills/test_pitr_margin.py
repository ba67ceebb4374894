"""``DRILLBOOK_PITR_MARGIN``, the 2C drill's margin before the fault: seconds or a duration;
a bad value is one line naming it, before the drill acts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from drillbook import InvalidDrillConfig
from drillbook.drills.test_database_corruption import pitr_margin_s

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "seconds"), [(None, 3.0), ("5", 5.0), ("2.5", 2.5), ("10m", 600.0), (" 3s ", 3.0)]
)
def test_the_margin_is_seconds_or_a_duration(
    raw: str | None, seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    if raw is None:
        monkeypatch.delenv("DRILLBOOK_PITR_MARGIN", raising=False)
    else:
        monkeypatch.setenv("DRILLBOOK_PITR_MARGIN", raw)
    assert pitr_margin_s() == seconds


@pytest.mark.parametrize("raw", ["abc", "-1", "nan", "3 parsecs"])
def test_a_bad_margin_is_refused_naming_it(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRILLBOOK_PITR_MARGIN", raw)
    with pytest.raises(InvalidDrillConfig, match="DRILLBOOK_PITR_MARGIN"):
        pitr_margin_s()


def test_a_bad_margin_stops_the_drill_before_it_acts_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-q",
         f"{ROOT}/drills/test_database_corruption.py::test_2c_table_lost_pitr",
         "--drill-results", str(tmp_path / "results")],
        cwd=tmp_path, env={**os.environ, "DRILLBOOK_PITR_MARGIN": "abc"}, capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode != 0, done.stdout
    assert "invalid DRILLBOOK_PITR_MARGIN 'abc'" in done.stdout, done.stdout
    assert "Traceback" not in done.stdout + done.stderr and "During handling" not in done.stdout
    assert not list((tmp_path / "results").glob("*.json")), "no drill ran, so no record"
