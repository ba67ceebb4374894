"""Rendering: jinja2 templates (autoescape on) to HTML and Markdown, the model to JSON.

Two environments (HTML and Markdown, both autoescaping) serve every template of
``reports/templates/``, so later work (readiness, drill plans) renders with the
same filters, CSS, escaping and redaction.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from drillbook.harness.atomic import write_atomic
from drillbook.harness.durations import format_duration
from drillbook.harness.fingerprint import drillbook_version
from drillbook.harness.redact import redact_text
from drillbook.reports.charts import bars_svg, timeline_svg
from drillbook.reports.journals import redact_texts
from drillbook.reports.model import Links, RunReport
from drillbook.reports.options import ReportOptions

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = ("html", "md", "json")
JSON_FORMAT = "drillbook.report"
JSON_VERSION = 1


_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def md_escape(value: Any) -> Markup:
    """Escaping for Markdown: no HTML tag or entity can be formed, everything else stays readable.

    The Markdown environment has autoescape on; this runs first (as its
    ``finalize``) and returns Markup, so ``'`` and ``&`` are not turned into
    entities that would clutter wikis and PR comments, while ``<`` and ``>``
    still are.
    """
    if isinstance(value, Markup):
        return value
    text = redact_text("" if value is None else str(value))
    return Markup(_ENTITY.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;"))


def md_cell(value: Any) -> Markup:
    """Text for a Markdown table cell: escaped, no pipe or line break to break the table."""
    return Markup(str(md_escape(value)).replace("|", "\\|").replace("\n", " "))


def _redacted(value: Any) -> Any:
    # Every printed value passes through redaction, whatever its origin.
    return redact_text(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def _make(finalize: Any) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        finalize=finalize,
    )
    env.filters["cell"] = md_cell
    env.filters["dur"] = format_duration
    return env


@cache
def environment() -> jinja2.Environment:
    """For HTML templates: autoescape on, every value redacted."""
    return _make(_redacted)


@cache
def md_environment() -> jinja2.Environment:
    """For Markdown templates (``*.md.j2``): autoescape on, values escaped by :func:`md_escape`."""
    return _make(md_escape)


def generator() -> str:
    return f"drillbook {drillbook_version()}"


def render(template: str, **context: Any) -> str:
    env = md_environment() if template.endswith(".md.j2") else environment()
    return env.get_template(template).render(**context)


def run_html(report: RunReport) -> str:
    charts = [
        {
            "timeline": Markup(timeline_svg(d, chart_id=f"timeline-{i}")),
            "bars": Markup(bars_svg(d, chart_id=f"bars-{i}")),
        }
        for i, d in enumerate(report.drills, 1)
    ]
    return render("report.html.j2", run=report, charts=charts)


def run_markdown(report: RunReport) -> str:
    return tidy(render("report.md.j2", run=report))


def to_jsonable(obj: Any) -> Any:
    return redact_texts(json.loads(json.dumps(dataclasses.asdict(obj), default=str)))


def run_json(report: RunReport) -> str:
    body = {"format": JSON_FORMAT, "version": JSON_VERSION, **to_jsonable(report)}
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_RENDERERS = {"html": run_html, "md": run_markdown, "json": run_json}


def relink(report: RunReport, journal: str) -> RunReport:
    """``report`` with its evidence links under ``journal`` (the journal directory as the
    report file reaches it: a path relative to the report, never this machine's absolute one)."""
    drills = tuple(
        dataclasses.replace(
            d,
            links=Links(
                journal_record=f"{journal}/{d.evidence.journal_file}",
                postmortem=d.links.postmortem,
                comms=d.links.comms,
            ),
        )
        for d in report.drills
    )
    return dataclasses.replace(report, journal=journal, drills=drills)


def relative_journal(report: RunReport, target: Path) -> str:
    """The journal directory of ``report`` relative to the directory ``target`` of its files."""
    return Path(os.path.relpath(Path(report.journal).resolve(), target.resolve())).as_posix()


def render_files(
    report: RunReport, formats: Iterable[str], options: ReportOptions | None, today: datetime | None
) -> dict[str, str]:
    """File name to text: ``report.<fmt>``, and with ``options`` each drill's post-mortem and
    comms drafts, which the report links."""
    from drillbook.reports import postmortem

    files = {f"report.{fmt}": _RENDERERS[fmt](report) for fmt in formats}
    if options is not None:
        for d in report.drills:
            pm = postmortem.build_postmortem(d, options, today=today or datetime.now().astimezone())
            files[d.links.postmortem] = postmortem.postmortem_markdown(pm)
            files[d.links.comms] = postmortem.comms_markdown(postmortem.build_comms(d, options))
    return files


def write_run(
    report: RunReport,
    out_dir: Path,
    formats: Iterable[str],
    *,
    options: ReportOptions | None = None,
    today: datetime | None = None,
) -> list[Path]:
    """Write ``report.<fmt>`` (and, with ``options``, the drafts it links) under
    ``out_dir/<run id>/``; returns the files written."""
    target = out_dir / safe_name(report.run_id)
    target.mkdir(parents=True, exist_ok=True)
    report = relink(report, relative_journal(report, target))
    written = []
    for name, text in render_files(report, formats, options, today).items():
        # Rendered in full first, then written whole: a failure never leaves half a report.
        written.append(write_atomic(target / name, text))
    return written


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:100] or "run"


def tidy(text: str) -> str:
    """At most one blank line in a row (templates leave more where blocks are empty)."""
    return re.sub(r"\n{3,}", "\n\n", text)
