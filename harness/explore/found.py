"""A minimal failing schedule written out as an ordinary drill file (``test_<id>.py``) that
reproduces it under plain pytest: the ``drill`` fixture, the target built again by its
factory, the schedule played as the search played it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from drillbook.harness.drill import Drill
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.explore.play import SCENARIO, play, rto_target_s
from drillbook.harness.explore.run import Finding
from drillbook.harness.explore.schedule import Schedule
from drillbook.harness.explore.target import Target

TEMPLATE = '''"""Found by `drillbook explore` on {target} ({when}, seed {seed}): {invariant}.

{detail}

Minimal schedule ({count} fault(s)):
{lines}
"""

import pytest

from drillbook.explore import Schedule, replay
from {module} import {function}

SCHEDULE = Schedule.from_json("""
{schedule}
""")


@pytest.mark.drill({scenario!r}, rto={rto!r}, rpo={rpo!r}, description={description!r})
def test_{ident}(drill{fixtures_args}):
    replay(drill, {function}({fixtures}), SCHEDULE)
'''


def drill_id(schedule: Schedule) -> str:
    return hashlib.sha256(schedule.to_json().encode()).hexdigest()[:10]


def write_drill(directory: Path, target: Target, finding: Finding, *, seed: int | None, when: str) -> Path:
    if target.factory is None:
        raise InvalidDrillConfig(
            f"target {target.name!r} has no factory ('module:function'): no drill file can rebuild it"
        )
    module, function = target.factory.split(":", 1)
    ident = drill_id(finding.schedule)
    fixtures = ", ".join(target.factory_fixtures)
    text = TEMPLATE.format(
        target=target.name,
        when=when,
        seed="random" if seed is None else seed,
        invariant=finding.invariant,
        detail=finding.detail.replace('"""', "'''"),
        count=len(finding.schedule.faults),
        lines="\n".join(f"- {f.text()}" for f in finding.schedule.faults),
        module=module,
        function=function,
        schedule=finding.schedule.to_json(),
        scenario=SCENARIO,
        rto=rto_target_s(target, finding.schedule),
        rpo=target.rpo_s,
        description=f"explore {target.name}: {finding.schedule.text()}",
        ident=ident,
        fixtures_args="".join(f", {name}" for name in target.factory_fixtures),
        fixtures=fixtures,
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"test_{ident}.py"
    path.write_text(text)
    finding.drill_file = path
    return path


def replay(drill: Drill, target: Target, schedule: Schedule) -> None:
    """Play ``schedule`` in a drill of pytest's (the written drill files call this)."""
    play(drill, target, schedule)
