"""Communication templates: the post-mortem and the incident communications are ready to fill."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from drillbook.harness.readiness.model import Item, failed, passed

LINE = "Communication templates prepared"
#: What must exist, by kind: file name patterns (in reports' templates or the team's own directory).
REQUIRED = {
    "post-mortem": ("postmortem*", "post-mortem*", "post_mortem*"),
    "incident communications": ("comms*", "communication*", "status*", "notification*"),
}


def builtin_templates() -> Path | None:
    try:
        return Path(str(files("drillbook.reports").joinpath("templates")))
    except ModuleNotFoundError:
        return None


def templates_present(directories: Sequence[Path]) -> Item:
    title = "communication templates present (post-mortem, incident communications)"
    names = sorted({p.name for d in directories if d.is_dir() for p in d.iterdir() if p.is_file()})
    found, missing = [], []
    for kind, patterns in REQUIRED.items():
        matches = [n for n in names if any(Path(n).match(p) for p in patterns)]
        (found.append(f"{kind}: {', '.join(matches)}") if matches else missing.append(kind))
    where = ", ".join(str(d) for d in directories) or "no template directory"
    if missing:
        return failed(
            "templates",
            title,
            LINE,
            f"missing {', '.join(missing)} template(s) in {where}",
            directories=[str(d) for d in directories],
        )
    return passed("templates", title, LINE, "; ".join(found), directories=[str(d) for d in directories])
