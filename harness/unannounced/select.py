"""A pytest plugin (``-p drillbook.harness.unannounced.select``) that keeps only the drills of
the scenarios named by ``--drill-scenario`` (repeatable): how an unannounced run
runs exactly the drawn scenarios through ``drillbook run``'s machinery."""

from __future__ import annotations

import pytest

from drillbook.harness.marker import DrillSpec
from drillbook.harness.plugin import SPEC_KEY


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("drillbook").addoption(
        "--drill-scenario",
        action="append",
        default=None,
        metavar="NAME",
        help="run only the drills of this scenario (repeatable)",
    )


@pytest.hookimpl(trylast=True)  # after the drillbook plugin has validated the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = config.getoption("drill_scenario")
    if not wanted:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        spec = item.stash.get(SPEC_KEY, None)
        (keep if isinstance(spec, DrillSpec) and spec.scenario in wanted else drop).append(item)
    missing = sorted(set(wanted) - {i.stash[SPEC_KEY].scenario for i in keep})  # type: ignore[union-attr]
    if missing:
        raise pytest.UsageError(
            f"--drill-scenario: no drill of scenario(s) {', '.join(missing)} in this suite "
            "(renamed or removed since the drill was sealed?)"
        )
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
