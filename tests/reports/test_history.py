"""History, freshness and regression warnings: golden files and the rules themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from drillbook.harness.errors import InvalidDrillConfig
from drillbook.reports import freshness, history, regression, synthetic
from drillbook.reports.frame import load_frame
from drillbook.reports.options import Regression, ReportOptions
from drillbook.reports.options import regression as make_regression
from tests.reports.conftest import NOW, SUITE, Golden

SYNTH_END = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("synth")
    synthetic.write(directory, synthetic.SyntheticSpec(records=400, end=SYNTH_END, days=365, seed=3))
    return directory


def test_history_of_the_stored_journal_matches_golden(in_repo: Path, golden: Golden) -> None:
    built = history.build(SUITE, ReportOptions(), NOW)
    golden("history-suite.txt", history.table(built))
    golden("history-suite.csv", history.csv_text(built))


def test_history_of_a_synthetic_journal_matches_golden(synth: Path, golden: Golden) -> None:
    built = history.build(synth, ReportOptions(), SYNTH_END + timedelta(days=3))
    golden("history-synthetic.txt", history.table(built).replace(str(synth), "<journal>"))
    golden("history-synthetic.csv", history.csv_text(built))


def test_per_scenario_figures_are_the_journals(in_repo: Path) -> None:
    built = history.build(SUITE, ReportOptions(), NOW)
    crash = next(s for s in built.scenarios if s.drill == "application-crash")
    frame = load_frame(SUITE)
    rtos = frame[frame["drill"] == "application-crash"]["rto_s"]
    assert crash.runs == 2 and crash.passes == 2 and crash.pass_rate == 1.0
    assert crash.rto_p50 == pytest.approx(float(np.median(rtos)))
    assert crash.last_pass is not None and crash.last_pass_record.endswith("-001")
    old_and_new = next(s for s in built.scenarios if s.drill == "complete-infrastructure-failure")
    assert old_and_new.runs == 2 and old_and_new.passes == 0 and old_and_new.last_pass is None


def test_the_drifting_scenario_raises_a_regression_warning(synth: Path) -> None:
    built = history.build(synth, ReportOptions(), SYNTH_END)
    warned = {(w.drill, w.metric) for w in built.warnings}
    assert ("database-corruption / pitr", "RTO") in warned
    assert not any(d.startswith("application-crash") for d, _ in warned)
    lax = history.build(synth, ReportOptions(regression=Regression(threshold=5.0)), SYNTH_END)
    assert not lax.warnings


def _frame(rows: list[tuple[str, str, str, str, datetime]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["drill", "tier", "schedule", "status", "started"])
    frame["record_id"] = [f"r{i}" for i in range(len(frame))]
    return frame


def test_freshness_states_against_the_cadence() -> None:
    now = datetime(2026, 6, 30, tzinfo=UTC)
    frame = _frame(
        [
            ("backup", "monthly", "monthly", "PASS", now - timedelta(days=10)),
            ("failover", "quarterly", "quarterly", "PASS", now - timedelta(days=80)),
            ("restore", "monthly", "monthly", "PASS", now - timedelta(days=45)),
            ("restore", "monthly", "monthly", "FAIL", now - timedelta(days=2)),
            ("breach", "quarterly", "quarterly", "FAIL", now - timedelta(days=1)),
            ("backup", "monthly", "annual", "PASS", now - timedelta(days=200)),
        ]
    )
    m = freshness.matrix(frame, now, {"monthly": 31, "quarterly": 92, "annual": 366})
    assert m.cell("backup", "monthly").state == freshness.FRESH
    assert m.cell("backup", "annual").state == freshness.FRESH
    assert m.cell("failover", "quarterly").state == freshness.DUE_SOON  # 80 d of 92
    assert m.cell("restore", "monthly").state == freshness.OVERDUE  # a later FAIL does not refresh it
    assert m.cell("restore", "monthly").age_days == pytest.approx(45)
    assert m.cell("breach", "quarterly").state == freshness.NEVER
    assert m.cell("failover", "monthly").state == freshness.NOT_SCHEDULED
    assert m.cell("failover", "annual").state == freshness.NEVER  # every scenario, once a year
    assert {(c.scenario, c.tier) for c in m.overdue} == {
        ("restore", "monthly"),
        ("breach", "quarterly"),
        ("breach", "annual"),
        ("failover", "annual"),
        ("restore", "annual"),
    }
    tight = freshness.matrix(frame, now, {"monthly": 5, "quarterly": 92, "annual": 366})
    assert tight.cell("backup", "monthly").state == freshness.OVERDUE


def test_level_rule() -> None:
    rule = Regression(threshold=0.8, window=3, min_runs=3)
    assert regression.check("d", "RTO", np.array([10, 10, 10, 85, 90, 95.0]), 100.0, rule) is not None
    assert (
        regression.check("d", "RTO", np.array([76, 74, 75, 76, 74, 75.0]), 100.0, rule) is None
    )  # flat at 75 %
    assert regression.check("d", "RTO", np.array([90, 95.0]), 100.0, rule) is None  # too few runs
    assert regression.check("d", "RPO", np.array([5, 5, 5, 5.0]), 0.0, rule) is None  # a 0 target: no trend


def test_slope_rule_warns_early() -> None:
    rule = Regression(threshold=0.8, window=5, slope_window=8, horizon=5, min_runs=4)
    rising = np.array([30, 35, 40, 45, 50, 55, 60, 65.0])  # +5 per run, p50 55 % of the target
    warning = regression.check("d", "RTO", rising, 100.0, rule)
    assert warning is not None and warning.rule == "slope"
    assert warning.slope_per_run == pytest.approx(5.0)
    assert warning.projected == pytest.approx(90.0)
    assert "projected" in warning.message and "90%" in warning.message
    assert regression.check("d", "RTO", rising[::-1].copy(), 100.0, rule) is None


def test_bad_regression_settings_are_rejected() -> None:
    with pytest.raises(InvalidDrillConfig, match="threshold"):
        make_regression(threshold=0, window=5, slope_window=10, horizon=5, min_runs=4)
    with pytest.raises(InvalidDrillConfig, match="window"):
        make_regression(threshold=0.8, window=0, slope_window=10, horizon=5, min_runs=4)


def test_html_history_has_a_trend_chart_per_scenario(synth: Path) -> None:
    built = history.build(synth, ReportOptions(), SYNTH_END)
    html = history.html(built, generated_at="now", generator="test")
    assert html.count('class="trend"') == 2 * len(built.scenarios)
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert 'class="warn regression"' in html


def test_fast_top_level_parse_equals_a_full_parse(synth: Path) -> None:
    import json

    from drillbook.harness import journal
    from drillbook.reports.frame import row, top_level

    for path in [*journal.record_files(synth)[:50], *journal.record_files(Path(__file__).parents[2] / SUITE)]:
        text = path.read_text(encoding="utf-8")
        assert row(top_level(text), path.name) == row(json.loads(text), path.name)
    compact = json.dumps(json.loads(journal.record_files(synth)[0].read_text()))
    assert top_level(compact)["run_id"] == json.loads(compact)["run_id"]  # not canonical: parsed whole


def test_parallel_load_equals_serial_load(synth: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from drillbook.reports import frame

    if threading.active_count() > 1:
        pytest.skip("another thread is alive: load_rows stays serial (fork safety)")
    monkeypatch.setattr(frame, "PARALLEL_FROM", 10)
    assert frame.load_rows(synth, workers=2) == frame.load_rows(synth, workers=1)


def test_row_cache_rereads_only_what_changed(suite_copy: Path, cache_dir: Path) -> None:
    from drillbook.harness import journal
    from drillbook.reports import frame, rowcache

    parsed: list[int] = []

    def counting(stale: list[Path]) -> list[tuple[object, ...]]:
        parsed.append(len(stale))
        return frame._parse(stale, 1)

    files = journal.record_files(suite_copy)
    first = rowcache.rows(suite_copy, files, counting, columns=len(frame.COLUMNS))
    assert first == frame.load_rows(suite_copy, workers=1)
    assert rowcache.cache_file(suite_copy).parent == cache_dir
    again = rowcache.rows(suite_copy, files, counting, columns=len(frame.COLUMNS))
    assert again == first and parsed == [len(files), 0]
    files[3].write_text(files[3].read_text().replace('"FAIL"', '"PASS"'))  # edited in place
    edited = rowcache.rows(suite_copy, files, counting, columns=len(frame.COLUMNS))
    assert parsed[-1] == 1 and edited[3][7] == "PASS"
    rowcache.cache_file(suite_copy).write_text("{not json")
    assert rowcache.rows(suite_copy, files, counting, columns=len(frame.COLUMNS)) == edited
    assert parsed[-1] == len(files)


def test_history_with_and_without_cache_agree(in_repo: Path) -> None:
    cold = history.build(SUITE, ReportOptions(), NOW, cache=True)
    warm = history.build(SUITE, ReportOptions(), NOW, cache=True)
    plain = history.build(SUITE, ReportOptions(), NOW)
    assert history.csv_text(cold) == history.csv_text(warm) == history.csv_text(plain)
