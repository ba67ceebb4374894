"""Inline SVG charts: no script, no external resource, readable in print (explicit colours).

Each chart is a string of SVG built from numbers only; every text is escaped.
Class names (``phase``, ``rto-target``, ``measured``, ``target``) let tests and
stylesheets find the parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from drillbook.harness.durations import format_duration
from drillbook.reports.model import DrillReport

COLOURS = {
    "within": "#2e7d32",
    "over": "#ef6c00",
    "failed": "#c62828",
    "no expectation": "#546e7a",
    "PASS": "#2e7d32",
    "PARTIAL": "#ef6c00",
    "FAIL": "#c62828",
    "target": "#37474f",
    "grid": "#cfd8dc",
}
WIDTH = 760
LABEL_W = 200
PLOT_RIGHT = WIDTH - 20
ROW_H = 24
OFF_SCALE = 4.0  # a target further than this many times the drill's span is drawn off scale


def _f(value: float) -> str:
    return f"{value:.1f}"


def _text(
    x: float,
    y: float,
    text: str,
    *,
    cls: str = "",
    anchor: str = "start",
    size: int = 11,
    fill: str = "#263238",
) -> str:
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<text{klass} x="{_f(x)}" y="{_f(y)}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" font-family="sans-serif">{escape(text)}</text>'
    )


@dataclass(frozen=True)
class _Scale:
    domain: float
    right: float  # x where the domain ends
    off_scale_x: float | None  # x of an off-scale target, when there is one

    def x(self, seconds: float) -> float:
        return LABEL_W + (self.right - LABEL_W) * max(0.0, min(seconds, self.domain)) / self.domain


def _scale(span: float, target: float | None) -> _Scale:
    domain = max(span, 1e-3)
    if target is not None and target <= OFF_SCALE * domain:
        return _Scale(max(domain, target) * 1.05, PLOT_RIGHT, None)
    if target is not None:
        return _Scale(domain * 1.02, PLOT_RIGHT - 70, PLOT_RIGHT - 10)
    return _Scale(domain * 1.02, PLOT_RIGHT, None)


def timeline_svg(drill: DrillReport, *, chart_id: str = "timeline") -> str:
    """Phases as bars (expected duration as a dashed outline), fault/detection/recovery markers,
    and the RTO target as a vertical line at fault + target."""
    m = drill.marks
    phases = [p for p in drill.phases if p.duration_s is not None and p.start_offset_s is not None]
    top = 44
    height = top + ROW_H * max(len(phases), 1) + 46
    bottom = height - 40
    scale = _scale(max(m.span_s, m.recovered_s or 0.0), m.rto_target_s)
    title = (
        f"Timeline of {drill.identity.scenario}: phases, fault, detection, recovery and the "
        f"{drill.rto.name} target"
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="timeline" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    out += _axis(scale, top - 6, bottom)
    for row, phase in enumerate(phases):
        y = top + row * ROW_H
        start = phase.start_offset_s or 0.0
        x0, x1 = scale.x(start), scale.x(start + (phase.duration_s or 0.0))
        colour = COLOURS.get(phase.state, COLOURS["no expectation"])
        out.append(_text(LABEL_W - 8, y + 15, phase.name, cls="phase-label", anchor="end"))
        if phase.expected_s is not None:
            xe = scale.x(start + phase.expected_s)
            out.append(
                f'<rect class="expected" x="{_f(x0)}" y="{_f(y + 3)}" width="{_f(max(xe - x0, 1))}" '
                f'height="{ROW_H - 6}" fill="none" stroke="{COLOURS["target"]}" stroke-dasharray="4 3"/>'
            )
        out.append(
            f'<rect class="phase" data-phase="{escape(phase.name)}" data-state="{escape(phase.state)}" '
            f'x="{_f(x0)}" y="{_f(y + 6)}" width="{_f(max(x1 - x0, 2))}" height="{ROW_H - 12}" '
            f'fill="{colour}"><title>{escape(f"{phase.name}: {phase.duration}")}'
            f"{escape(f' (expected {phase.expected})' if phase.expected else '')}</title></rect>"
        )
        if x1 + 48 <= PLOT_RIGHT:
            out.append(_text(x1 + 4, y + 15, phase.duration, cls="phase-duration", size=10))
        else:  # no room after the bar: inside its end, in white
            out.append(
                _text(
                    x1 - 4,
                    y + 15,
                    phase.duration,
                    cls="phase-duration",
                    anchor="end",
                    size=10,
                    fill="#ffffff",
                )
            )
    marks = (
        ("fault", "fault injected" if drill.outage else "test action", m.fault_s, "#c62828"),
        ("detected", "detected", m.detected_s, "#6a1b9a"),
        ("recovered", "recovered" if drill.outage else "completed", m.recovered_s, "#2e7d32"),
    )
    for row, (cls, label, at, colour) in enumerate(marks):
        if at is None:
            continue
        x = scale.x(at)
        out.append(
            f'<line class="marker {cls}" x1="{_f(x)}" y1="{top - 4}" x2="{_f(x)}" y2="{bottom}" '
            f'stroke="{colour}" stroke-width="1.5"/>'
        )
        out.append(_text(x + 3, 12 + row * 11, label, cls=f"marker-label {cls}", size=10, fill=colour))
    out += _target_line(drill, scale, top, bottom)
    out.append("</svg>")
    return "".join(out)


def _axis(scale: _Scale, top: float, bottom: float) -> list[str]:
    out = [
        f'<line class="axis" x1="{LABEL_W}" y1="{_f(bottom)}" x2="{_f(scale.right)}" y2="{_f(bottom)}" '
        'stroke="#90a4ae"/>'
    ]
    for i in range(6):
        seconds = scale.domain * i / 5
        x = scale.x(seconds)
        out.append(
            f'<line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(bottom)}" stroke="{COLOURS["grid"]}" '
            'stroke-width="0.5"/>'
        )
        out.append(
            _text(
                x,
                bottom + 14,
                "0" if i == 0 else f"+{format_duration(seconds)}",
                anchor="middle",
                size=9,
                fill="#546e7a",
            )
        )
    out.append(_text(LABEL_W, bottom + 30, "time since the test start", size=9, fill="#546e7a"))
    return out


def _target_line(drill: DrillReport, scale: _Scale, top: float, bottom: float) -> list[str]:
    m = drill.marks
    if m.rto_target_s is None:
        none = f"no {drill.rto.name} target"
        return [_text(PLOT_RIGHT, bottom + 30, none, cls="rto-target-label", anchor="end", size=9)]
    label = f"{drill.rto.name} target {drill.rto.target}"
    if scale.off_scale_x is not None:
        x = scale.off_scale_x
        label += " (off scale)"
        out = [
            f'<path class="scale-break" d="M{_f(scale.right + 8)} {_f(bottom - 6)} l6 12 m6 -12 l6 12" '
            'stroke="#90a4ae" fill="none"/>'
        ]
    else:
        x = scale.x(m.rto_target_s)
        out = []
    out.append(
        f'<line class="rto-target" data-target-s="{m.rto_target_s - (m.fault_s or 0.0):.3f}" '
        f'x1="{_f(x)}" y1="{top - 8}" x2="{_f(x)}" y2="{_f(bottom)}" stroke="{COLOURS["target"]}" '
        'stroke-width="2" stroke-dasharray="6 4"/>'
    )
    out.append(
        _text(
            x - 3, bottom + 30, label, cls="rto-target-label", anchor="end", size=10, fill=COLOURS["target"]
        )
    )
    return out


def bars_svg(drill: DrillReport, *, chart_id: str = "bars") -> str:
    """Measured against target, one pair of bars for RTO and one for RPO (each on its own scale)."""
    height = 2 * 64 + 16
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="bars" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f"<title>Measured against target RTO and RPO for {escape(drill.identity.scenario)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    for row, cmp in enumerate((drill.rto, drill.rpo)):
        y = 8 + row * 64
        values = [v for v in (cmp.measured_s, cmp.target_s) if v is not None]
        top = max(values) * 1.1 if values and max(values) > 0 else 1.0
        out.append(_text(LABEL_W - 8, y + 26, cmp.name, anchor="end", size=13))
        for offset, cls, value, text in (
            (0, "measured", cmp.measured_s, f"measured {cmp.measured}"),
            (28, "target", cmp.target_s, f"target {cmp.target}"),
        ):
            yy = y + offset
            if value is None:
                out.append(
                    _text(
                        LABEL_W,
                        yy + 16,
                        "not measured" if cls == "measured" else "no target",
                        cls=f"{cls}-missing",
                        size=11,
                        fill="#78909c",
                    )
                )
                continue
            width = max((PLOT_RIGHT - 150 - LABEL_W) * value / top, 2)
            colour = (
                COLOURS["target"]
                if cls == "target"
                else (
                    COLOURS["PASS"]
                    if cmp.met
                    else COLOURS["FAIL"]
                    if cmp.met is False
                    else COLOURS["no expectation"]
                )
            )
            out.append(
                f'<rect class="bar {cls}" data-seconds="{value:.3f}" x="{LABEL_W}" y="{yy + 4}" '
                f'width="{_f(width)}" height="18" fill="{colour}"/>'
            )
            out.append(_text(LABEL_W + width + 6, yy + 17, text, cls=f"{cls}-label", size=11))
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class TrendPoint:
    at: datetime
    value: float
    status: str


def trend_svg(
    points: Sequence[TrendPoint],
    *,
    target: float | None,
    threshold: float | None,
    title: str,
    chart_id: str = "trend",
    width: int = 360,
    height: int = 150,
) -> str:
    """A value over time: dots coloured by status, the target and the warning threshold as lines."""
    left, right, top, bottom = 52, width - 10, 18, height - 24
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="trend" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff" stroke="#eceff1"/>',
    ]
    if not points:
        out.append(_text(width / 2, height / 2, "no measurements", anchor="middle", fill="#78909c"))
        out.append("</svg>")
        return "".join(out)
    t0, t1 = points[0].at.timestamp(), points[-1].at.timestamp()
    span = max(t1 - t0, 1.0)
    ceiling = max([p.value for p in points] + [target or 0.0]) * 1.1 or 1.0

    def x(at: datetime) -> float:
        return left + (right - left) * (at.timestamp() - t0) / span

    def y(value: float) -> float:
        return bottom - (bottom - top) * value / ceiling

    out.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#90a4ae"/>')
    out.append(_text(left - 4, y(ceiling / 1.1) + 4, format_duration(ceiling / 1.1), anchor="end", size=9))
    out.append(_text(left - 4, bottom + 3, "0", anchor="end", size=9))
    out.append(_text(left, height - 8, f"{points[0].at:%Y-%m-%d}", size=9, fill="#546e7a"))
    out.append(_text(right, height - 8, f"{points[-1].at:%Y-%m-%d}", anchor="end", size=9, fill="#546e7a"))
    if target is not None:
        out.append(
            f'<line class="target" x1="{left}" y1="{_f(y(target))}" x2="{right}" y2="{_f(y(target))}" '
            f'stroke="{COLOURS["target"]}" stroke-dasharray="6 4"/>'
        )
        out.append(_text(right, y(target) - 3, f"target {format_duration(target)}", anchor="end", size=9))
        if threshold is not None:
            level = target * threshold
            out.append(
                f'<line class="threshold" x1="{left}" y1="{_f(y(level))}" x2="{right}" y2="{_f(y(level))}" '
                'stroke="#ef6c00" stroke-dasharray="2 3"/>'
            )
    shown = list(points)
    path = " ".join(f"{_f(x(p.at))},{_f(y(p.value))}" for p in shown)
    out.append(f'<polyline class="series" points="{path}" fill="none" stroke="#90a4ae" stroke-width="1"/>')
    out += [
        f'<circle class="point {p.status.lower()}" cx="{_f(x(p.at))}" cy="{_f(y(p.value))}" r="2.5" '
        f'fill="{COLOURS.get(p.status, "#546e7a")}"/>'
        for p in shown
    ]
    out.append("</svg>")
    return "".join(out)
