"""The regression warning: a scenario's RTO (or RPO) creeping up towards its target.

Two rules, either of which warns (see :class:`drillbook.reports.options.Regression`):

* level: the median of the last ``window`` measured runs exceeds
  ``threshold`` x target ("p50 of the last 5 runs is 86 % of the target");
* slope: a least-squares line through the last ``slope_window`` runs rises and
  reaches ``threshold`` x target within ``horizon`` more runs, although the
  level is still below it (an early warning).

Runs without a measurement are skipped; a target of 0 (no loss acceptable) or
no target gives no warning (every miss is already a finding of its report).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drillbook.harness.durations import format_duration
from drillbook.reports.options import Regression


@dataclass(frozen=True)
class RegressionWarning:
    drill: str
    metric: str  # "RTO" or "RPO"
    rule: str  # "level" or "slope"
    message: str
    p50: float
    target: float
    ratio: float  # p50 / target
    slope_per_run: float | None
    projected: float | None


def check(
    drill: str, metric: str, values: np.ndarray, target: float | None, rule: Regression
) -> RegressionWarning | None:
    """``values``: the measured figures, oldest first, without missing ones."""
    if target is None or not np.isfinite(target) or target <= 0 or len(values) < rule.min_runs:
        return None
    recent = values[-rule.window :]
    p50 = float(np.median(recent))
    ratio = p50 / target
    limit = rule.threshold * target
    slope, projected = _trend(values[-rule.slope_window :], rule.horizon)
    if p50 > limit:
        trend = f"; rising {format_duration(slope)} per run" if slope and slope > 0 else ""
        return RegressionWarning(
            drill,
            metric,
            "level",
            f"{metric} p50 of the last {len(recent)} runs is {format_duration(p50)}, {ratio:.0%} of "
            f"the {format_duration(target)} target (warning above {rule.threshold:.0%}){trend}",
            p50,
            target,
            ratio,
            slope,
            projected,
        )
    if slope is not None and slope > 0 and projected is not None and projected >= limit:
        return RegressionWarning(
            drill,
            metric,
            "slope",
            f"{metric} rising {format_duration(slope)} per run over the last "
            f"{min(len(values), rule.slope_window)} runs: projected {format_duration(projected)} "
            f"({projected / target:.0%} of the {format_duration(target)} target) within "
            f"{rule.horizon} more runs",
            p50,
            target,
            ratio,
            slope,
            projected,
        )
    return None


def _trend(values: np.ndarray, horizon: int) -> tuple[float | None, float | None]:
    if len(values) < 2:
        return None, None
    index = np.arange(len(values), dtype="float64")
    slope, intercept = np.polyfit(index, values.astype("float64"), 1)
    return float(slope), float(intercept + slope * (len(values) - 1 + horizon))
