"""``drillbook history``: per scenario the runs, pass rate, p50/p95 RTO and RPO, trends,
the last PASS, the freshness matrix and regression warnings, from every journal record."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup

from drillbook.harness.durations import format_duration
from drillbook.reports import freshness, regression
from drillbook.reports.charts import TrendPoint, trend_svg
from drillbook.reports.frame import as_datetime, as_float, load_frame
from drillbook.reports.journals import files_or_fail
from drillbook.reports.options import ReportOptions
from drillbook.reports.render import render

FORMATS = ("table", "html", "csv")


@dataclass(frozen=True)
class ScenarioStats:
    drill: str
    tiers: str
    runs: int
    passes: int
    partials: int
    fails: int
    pass_rate: float
    rto_p50: float | None
    rto_p95: float | None
    rpo_p50: float | None
    rpo_p95: float | None
    rto_target: float | None
    rpo_target: float | None
    last_run: datetime
    last_status: str
    last_pass: datetime | None
    last_pass_record: str


@dataclass(frozen=True)
class History:
    directory: Path
    as_of: datetime
    records: int
    runs: int
    first: datetime | None
    last: datetime | None
    scenarios: tuple[ScenarioStats, ...]
    freshness: freshness.Matrix
    warnings: tuple[regression.RegressionWarning, ...]
    options: ReportOptions
    frame: pd.DataFrame

    @property
    def attention(self) -> bool:
        """Something overdue or regressing: ``drillbook history --check`` exits 1."""
        return bool(self.warnings or self.freshness.overdue)


def build(directory: Path, options: ReportOptions, as_of: datetime, *, cache: bool = False) -> History:
    frame = load_frame(directory, files=files_or_fail(directory), cache=cache).sort_values(
        "started", kind="stable"
    )
    return History(
        directory,
        as_of,
        len(frame),
        int(frame["run_id"].nunique()),
        as_datetime(frame["started"].min()),
        as_datetime(frame["started"].max()),
        _stats(frame),
        freshness.matrix(frame, as_of, options.cadence_days),
        _warnings(frame, options),
        options,
        frame,
    )


def _stats(frame: pd.DataFrame) -> tuple[ScenarioStats, ...]:
    groups = frame.groupby("drill", sort=True)
    counts = frame.pivot_table(index="drill", columns="status", values="run_id", aggfunc="size", fill_value=0)
    quant = groups[["rto_s", "rpo_s"]].quantile(np.array([0.5, 0.95])).unstack()
    last = groups.tail(1).set_index("drill")
    last_pass = frame[frame["status"] == "PASS"].groupby("drill").tail(1).set_index("drill")
    tiers = groups["tier"].agg(lambda s: ", ".join(sorted({t for t in s if t})))
    out = []
    for drill in counts.index:
        row = counts.loc[drill]
        runs = int(row.sum())
        passes = int(row.get("PASS", 0))
        lp = last_pass.loc[drill] if drill in last_pass.index else None
        out.append(
            ScenarioStats(
                drill=str(drill),
                tiers=str(tiers[drill]),
                runs=runs,
                passes=passes,
                partials=int(row.get("PARTIAL", 0)),
                fails=int(row.get("FAIL", 0)),
                pass_rate=passes / runs,
                rto_p50=as_float(quant.at[drill, ("rto_s", 0.5)]),
                rto_p95=as_float(quant.at[drill, ("rto_s", 0.95)]),
                rpo_p50=as_float(quant.at[drill, ("rpo_s", 0.5)]),
                rpo_p95=as_float(quant.at[drill, ("rpo_s", 0.95)]),
                rto_target=as_float(last.at[drill, "rto_target"]),
                rpo_target=as_float(last.at[drill, "rpo_target"]),
                last_run=as_datetime(last.at[drill, "started"]) or datetime.min,
                last_status=str(last.at[drill, "status"]),
                last_pass=None if lp is None else as_datetime(lp["started"]),
                last_pass_record="" if lp is None else str(lp["record_id"]),
            )
        )
    return tuple(out)


def _warnings(frame: pd.DataFrame, options: ReportOptions) -> tuple[regression.RegressionWarning, ...]:
    out = []
    for drill, group in frame.groupby("drill", sort=True):
        for metric, column, target in (("RTO", "rto_s", "rto_target"), ("RPO", "rpo_s", "rpo_target")):
            values = group[column].dropna().to_numpy()
            warning = regression.check(
                str(drill), metric, values, as_float(group[target].iloc[-1]), options.regression
            )
            if warning is not None:
                out.append(warning)
    return tuple(out)


TREND_POINTS = 300  # a few hundred dots show a trend; more only slow the page down


def trends(history: History, metric: str, *, points: int = TREND_POINTS) -> dict[str, list[TrendPoint]]:
    """Per scenario, the measured values over time, thinned to about ``points`` (the last one kept)."""
    column = {"RTO": "rto_s", "RPO": "rpo_s"}[metric]
    frame = history.frame.dropna(subset=[column])
    out = {}
    for drill, group in frame.groupby("drill", sort=True):
        step = max(1, len(group) // points)
        keep = group.iloc[::step]
        if step > 1 and keep.index[-1] != group.index[-1]:
            keep = pd.concat([keep, group.iloc[[-1]]])
        out[str(drill)] = [
            TrendPoint(at, float(v), str(s))
            for at, v, s in zip(keep["started"].dt.to_pydatetime(), keep[column], keep["status"], strict=True)
        ]
    return out


def _d(value: float | None) -> str:
    return format_duration(value) if value is not None else "n/a"


def _day(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d}" if value is not None else "never"


def table(history: History) -> str:
    """The terminal form."""
    lines = [
        f"drillbook history: {history.records} records, {history.runs} runs in {history.directory} "
        f"({_day(history.first)} .. {_day(history.last)}), as of {history.as_of:%Y-%m-%d %H:%M} UTC",
        "",
    ]
    head = (
        "scenario",
        "tier",
        "runs",
        "pass",
        "RTO p50",
        "RTO p95",
        "RTO target",
        "RPO p50",
        "RPO p95",
        "RPO target",
        "last",
        "last PASS",
    )
    rows = [
        (
            s.drill,
            s.tiers,
            str(s.runs),
            f"{s.pass_rate:.0%}",
            _d(s.rto_p50),
            _d(s.rto_p95),
            _d(s.rto_target),
            _d(s.rpo_p50),
            _d(s.rpo_p95),
            _d(s.rpo_target),
            f"{_day(s.last_run)} {s.last_status}",
            _day(s.last_pass),
        )
        for s in history.scenarios
    ]
    lines += _grid(head, rows)
    m = history.freshness
    lines += [
        "",
        "freshness (last PASS against the cadence: "
        + ", ".join(f"{t} {history.options.cadence_days[t]} d" for t in m.tiers)
        + ")",
    ]
    lines += _grid(("scenario", *m.tiers), [(s, *(m.cell(s, t).text for t in m.tiers)) for s in m.scenarios])
    lines.append("")
    if history.warnings:
        lines += [f"REGRESSION WARNING {w.drill}: {w.message}" for w in history.warnings]
    else:
        lines.append(
            f"no regression warning (threshold {history.options.regression.threshold:.0%} of target)"
        )
    overdue = m.overdue
    if overdue:
        lines += [f"OVERDUE {c.scenario} ({c.tier}): {c.text}" for c in overdue]
    return "\n".join(lines) + "\n"


def _grid(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:{w}}}" for w in widths)
    return [
        fmt.format(*head).rstrip(),
        fmt.format(*("-" * w for w in widths)).rstrip(),
        *(fmt.format(*r).rstrip() for r in rows),
    ]


def html(history: History, *, generated_at: str, generator: str) -> str:
    rule = history.options.regression
    charts = {}
    rto, rpo = trends(history, "RTO"), trends(history, "RPO")
    for i, s in enumerate(history.scenarios, 1):
        charts[s.drill] = (
            Markup(
                trend_svg(
                    rto.get(s.drill, []),
                    target=s.rto_target,
                    threshold=rule.threshold,
                    title=f"RTO of {s.drill} over time",
                    chart_id=f"trend-rto-{i}",
                )
            ),
            Markup(
                trend_svg(
                    rpo.get(s.drill, []),
                    target=s.rpo_target,
                    threshold=rule.threshold,
                    title=f"RPO of {s.drill} over time",
                    chart_id=f"trend-rpo-{i}",
                )
            ),
        )
    return render(
        "history.html.j2",
        h=history,
        charts=charts,
        generated_at=generated_at,
        generator=generator,
        d=_d,
        day=_day,
    )


def csv_text(history: History) -> str:
    """Per scenario figures (seconds), one row each, with its freshness per tier."""
    out = io.StringIO()
    tiers = history.freshness.tiers
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "scenario",
            "tiers",
            "runs",
            "passes",
            "partials",
            "fails",
            "pass_rate",
            "rto_p50_s",
            "rto_p95_s",
            "rto_target_s",
            "rpo_p50_s",
            "rpo_p95_s",
            "rpo_target_s",
            "last_run",
            "last_status",
            "last_pass",
            "last_pass_record",
            *(f"freshness_{t}" for t in tiers),
            "regression_warning",
        ]
    )
    warned: dict[str, str] = {}
    for w in history.warnings:
        warned[w.drill] = f"{warned[w.drill]}; {w.message}" if w.drill in warned else w.message
    for s in history.scenarios:
        writer.writerow(
            [
                s.drill,
                s.tiers,
                s.runs,
                s.passes,
                s.partials,
                s.fails,
                f"{s.pass_rate:.4f}",
                *(_num(v) for v in (s.rto_p50, s.rto_p95, s.rto_target, s.rpo_p50, s.rpo_p95, s.rpo_target)),
                s.last_run.isoformat(),
                s.last_status,
                s.last_pass.isoformat() if s.last_pass else "",
                s.last_pass_record,
                *(history.freshness.cell(s.drill, t).state for t in tiers),
                warned.get(s.drill, ""),
            ]
        )
    return out.getvalue()


def _num(value: float | None) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.3f}"
