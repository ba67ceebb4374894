"""Readiness as a terminal table, Markdown or JSON."""

from __future__ import annotations

import json

from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.readiness.model import Readiness

FORMATS = ("table", "md", "json")


def render(readiness: Readiness, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(readiness.to_dict(), indent=2, sort_keys=True) + "\n"
    if fmt == "md":
        return _markdown(readiness)
    if fmt == "table":
        return _table(readiness)
    raise InvalidDrillConfig(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def _summary(r: Readiness) -> str:
    auto = [i for i in r.items if i.automated]
    manual = len(r.items) - len(auto)
    verdict = "READY" if r.ok else f"NOT READY: {len(r.failed)} automated item(s) failed"
    passing = len(auto) - len(r.failed)
    return f"{verdict} ({passing}/{len(auto)} automated items pass, {manual} to confirm by hand)"


def _table(r: Readiness) -> str:
    rows = [(str(i.state), i.title, i.detail) for i in r.items]
    width = [max(len(h), *(len(row[n]) for row in rows)) for n, h in enumerate(("state", "item"))]
    lines = [f"Pre-Disaster Preparation readiness: environment {r.environment}, journal {r.results}", ""]
    lines.append(f"{'state'.ljust(width[0])}  {'item'.ljust(width[1])}  detail")
    for state, title, detail in rows:
        lines.append(f"{state.ljust(width[0])}  {title.ljust(width[1])}  {detail}")
    return "\n".join([*lines, "", _summary(r), ""])


def _markdown(r: Readiness) -> str:
    lines = [
        "# DR readiness: Pre-Disaster Preparation",
        "",
        f"Environment `{r.environment}` · journal `{r.results}` · {r.generated_at}",
        "",
        "| | Item | Checklist line | Detail |",
        "| --- | --- | --- | --- |",
    ]
    for item in r.items:
        box = {"PASS": "[x]", "FAIL": "[ ] **FAIL**", "MANUAL": "[ ] confirm"}[str(item.state)]
        cells = (box, item.title, item.checklist, item.detail)
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join([*lines, "", _summary(r), ""])
