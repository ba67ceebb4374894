"""Render a :class:`DrillPlan` as Markdown or HTML (jinja2; HTML autoescaped)."""

from __future__ import annotations

from pathlib import Path

import jinja2

from drillbook.harness.atomic import write_atomic
from drillbook.harness.durations import format_duration
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.plan.model import DrillPlan

FORMATS = ("md", "html")


def _cell(value: object) -> str:
    """Keep a Markdown table cell on one line and its pipes literal."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        # The reports' templates first: the plan takes the DR Test Report's stylesheet when present.
        loader=jinja2.ChoiceLoader(
            [jinja2.PackageLoader("drillbook.harness.plan", "templates"), *_reports_loader()]
        ),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dur"] = lambda s: "n/a" if s is None else format_duration(s)
    env.filters["cell"] = _cell
    return env


def _reports_loader() -> list[jinja2.BaseLoader]:
    try:
        return [jinja2.PackageLoader("drillbook.reports", "templates")]
    except (ValueError, ModuleNotFoundError):
        return []


def render(plan: DrillPlan, fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidDrillConfig(f"unknown plan format {fmt!r}: use {' or '.join(FORMATS)}")
    return _environment().get_template(f"plan.{fmt}.j2").render(plan=plan)


def write(plan: DrillPlan, directory: Path, formats: list[str]) -> list[Path]:
    """``drill-plan-<tier|all>.<fmt>`` in ``directory``, one file per format."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = directory / f"drill-plan-{plan.schedule or 'all'}.{fmt}"
        written.append(write_atomic(path, render(plan, fmt)))
    return written
