"""The production guard and blast-radius limits as a pytest plugin (``pytest11`` entry point
``drillbook-guard``).

- The selected environment's profile is read and checked before anything runs: a bad
  configuration is a usage error naming the key and the fix, never a traceback.
- ``--allow-production`` lets faults run in an environment marked ``production = true``,
  and only once its name is typed as confirmation: at a prompt when there is a terminal,
  else from ``DRILLBOOK_CONFIRM_PRODUCTION=<name>`` (CI).
- The guard (``config.stash[FAULT_GUARD_KEY]``) is called by every drill before each
  fault: it refuses faults in an unconfirmed production environment and faults over
  their ``[limits.<fault>]``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drillbook.harness.config import config_for_run
from drillbook.harness.drill import FaultGuard
from drillbook.harness.environments.guard import CONFIRM_VARIABLE, Confirmation, ProductionGuard
from drillbook.harness.environments.profile import Profile, load_profile
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.plugin import FAULT_GUARD_KEY, RUN_KEY

PROFILE_KEY = pytest.StashKey[Profile]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drillbook", "drillbook DR drills")
    group.addoption(
        "--allow-production",
        action="store_true",
        default=False,
        help="let faults run in an environment marked production = true, after typing its name "
        f"(or setting {CONFIRM_VARIABLE}=<name> where there is no terminal)",
    )


def _env_name(config: pytest.Config) -> str:
    name = config.getoption("drill_env", default=None)
    return str(name or os.environ.get("DRILLBOOK_ENV") or "local")


def _profile(config: pytest.Config) -> Profile:
    """The selected profile, fully checked (a staging profile's every role)."""
    state = config.stash.get(RUN_KEY, None)
    cfg = state.config if state is not None else config_for_run(Path(str(config.rootpath)))
    name = _env_name(config)
    profile = load_profile(cfg, name)
    if profile.kind == "staging":
        from drillbook.harness.environments.staging.settings import load_staging

        load_staging(cfg, name)
    return profile


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    # Before any plugin configures itself: a bad drillbook.toml is a usage error, not a traceback.
    try:
        _profile(config)
    except InvalidDrillConfig as exc:
        raise pytest.UsageError(f"drillbook: {exc}") from None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    try:
        profile = _profile(config)
    except InvalidDrillConfig as exc:
        raise pytest.UsageError(f"drillbook: {exc}") from None
    config.stash[PROFILE_KEY] = profile
    allowed = bool(config.getoption("allow_production"))
    typed = os.environ.get(CONFIRM_VARIABLE)
    guard: FaultGuard = ProductionGuard(profile, Confirmation(allowed, typed))
    config.stash[FAULT_GUARD_KEY] = guard


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    profile = config.stash.get(PROFILE_KEY, None)
    guard = config.stash.get(FAULT_GUARD_KEY, None)
    if profile is None or not profile.production or not isinstance(guard, ProductionGuard):
        return
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if not guard.confirmation.allowed:
        if reporter is not None:
            reporter.write_line(
                f"drillbook: environment {profile.name!r} is production: every fault will be "
                "refused (pass --allow-production to run them)",
                yellow=True,
                bold=True,
            )
        return
    if guard.confirmation.typed is None:
        guard.confirmation = Confirmation(True, _prompt(config, profile.name))
    if reporter is not None:
        confirmed = guard.confirmation.confirms(profile.name)
        reporter.write_line(
            f"drillbook: PRODUCTION environment {profile.name!r}: faults "
            + ("ALLOWED (confirmed)" if confirmed else "refused (the confirmation does not match)"),
            red=True,
            bold=True,
        )


def _prompt(config: pytest.Config, name: str) -> str | None:
    """What a person types at the terminal; None when there is no terminal (CI)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    # pytest's capture points stdin at /dev/null: only with it suspended (in_=True) is fd 0 the real one.
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    try:
        if not os.isatty(0):
            return None
        return input(
            f"drillbook: faults will run in PRODUCTION environment {name!r}. Type its name to confirm: "
        )
    except (OSError, EOFError):
        return None
    finally:
        if capture is not None:
            capture.resume_global_capture()
