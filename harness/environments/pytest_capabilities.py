"""The ``requires_capability`` marker: a drill that needs what the environment's platform
cannot do is skipped, naming the capability, before anything is started or injected.

Loaded with the drillbook plugin (its ``pytest_plugins``). The capabilities are the
profile's (:class:`~drillbook.harness.environments.profile.Profile`): the local
environment has them all, a staging profile those it grants.
"""

from __future__ import annotations

import pytest

from drillbook.harness.environments import capabilities as caps
from drillbook.harness.environments.profile import load_profile
from drillbook.harness.errors import InvalidDrillConfig

MARKER = "requires_capability"
HELP = (
    f"{MARKER}(*capabilities): skip the test, naming the capability, on an environment that lacks "
    f"one of them; capabilities: {', '.join(sorted(caps.KNOWN))}"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", HELP)


def needed(item: pytest.Item) -> list[str]:
    """Every capability the item's markers name (closest first); unknown names are rejected."""
    names: list[str] = []
    for marker in item.iter_markers(MARKER):
        if marker.kwargs or not marker.args or not all(isinstance(a, str) for a in marker.args):
            raise InvalidDrillConfig(
                f"{item.nodeid}: @pytest.mark.{MARKER} takes capability names, e.g. "
                f'@pytest.mark.{MARKER}("{caps.DATA_DIRECTORY}")'
            )
        names += [n for n in caps.check_names(marker.args, where=item.nodeid) if n not in names]
    return names


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    try:
        wanted = needed(item)
    except InvalidDrillConfig as exc:
        pytest.fail(f"InvalidDrillConfig: {exc}", pytrace=False)
    if not wanted:
        return
    from drillbook.harness.plugin import RUN_KEY

    state = item.config.stash.get(RUN_KEY, None)
    if state is None:  # the drillbook plugin is off: nothing says which environment runs
        return
    name = state.settings.env_name
    try:
        have = load_profile(state.config, name).capabilities
    except InvalidDrillConfig:
        return  # the environment's own setup reports the bad profile
    lacking = caps.missing(wanted, have)
    if lacking:
        # As pytest's own skip marker does: the skip is reported at the test, not at this hook.
        raise pytest.skip.Exception(caps.why_missing(lacking[0], name), _use_item_location=True)
