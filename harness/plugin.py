"""The pytest plugin: the ``drill`` marker and fixture, options, JUnit properties,
tier selection, the summary table, and SIGTERM handling. Loaded through the
``pytest11`` entry point."""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from drillbook.harness import journal, mutation, polling, signals
from drillbook.harness.calls.scope import scope
from drillbook.harness.config import Config, config_for_run
from drillbook.harness.configcheck import check_run_config
from drillbook.harness.drill import Drill, FaultGuard
from drillbook.harness.durations import format_duration
from drillbook.harness.environments.profile import kind_of, load_profile
from drillbook.harness.errors import DrillbookError, InvalidDrillConfig
from drillbook.harness.fingerprint import fingerprint
from drillbook.harness.lease.keeper import LeaseKeeper
from drillbook.harness.marker import MARKER_HELP, TIERS, DrillSpec, spec_from_marker
from drillbook.harness.records import CallerKind, DrillResult, EnvironmentInfo, Status
from drillbook.harness.settings import DrillSettings, from_config
from drillbook.harness.timing import new_run_id
from drillbook.harness.undolog import UndoLog, leftovers

#: The capability marker is part of this plugin (loaded with it, no entry point of its own).
pytest_plugins = ("drillbook.harness.environments.pytest_capabilities",)


class DrillFailed(AssertionError):
    """The drill's status is not PASS; the message says why, with the numbers."""

    __module__ = "drillbook"


@dataclass
class RunState:
    run_id: str
    settings: DrillSettings
    config: Config
    undo_log: UndoLog
    results: list[DrillResult] = field(default_factory=list)
    counter: int = 0
    fingerprint: dict[str, Any] | None = None
    environment: EnvironmentInfo | None = None


RUN_KEY = pytest.StashKey[RunState]()
DRILL_KEY = pytest.StashKey[Drill]()
SPEC_KEY = pytest.StashKey["DrillSpec | InvalidDrillConfig"]()
#: Set by an environment that restricts faults (the production guard).
FAULT_GUARD_KEY = pytest.StashKey[FaultGuard]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drillbook", "drillbook DR drills")
    group.addoption(
        "--drill-results",
        metavar="DIR",
        default=None,
        help="directory of the drill journal (default: drill-results/)",
    )
    group.addoption(
        "--drill-state-dir",
        metavar="DIR",
        default=None,
        help="state directory for the undo log and environments (default: .drillbook/)",
    )
    group.addoption(
        "--drill-tier",
        choices=TIERS,
        default=None,
        help="run only the drills of this tier (annual runs every drill)",
    )
    group.addoption(
        "--drill-env",
        metavar="NAME",
        default=None,
        help="environment profile the drills run against (default: local)",
    )
    group.addoption(
        "--drill-allow-partial",
        action="store_true",
        default=False,
        help="report PARTIAL drills without failing their test",
    )
    group.addoption(
        "--drill-probe-interval",
        metavar="DURATION",
        default=None,
        help="steady-state probe interval while awaiting recovery (default 100ms)",
    )
    group.addoption(
        "--drill-consecutive",
        metavar="K",
        type=int,
        default=None,
        help="consecutive passing checks that mean recovered (default 3)",
    )
    group.addoption(
        "--drill-hard-timeout",
        metavar="DURATION",
        default=None,
        help="give up recovery after this long (default: twice the RTO target)",
    )
    group.addoption("--drill-run-id", metavar="ID", default=None, help="the run id (default: generated)")
    group.addoption(
        "--drill-quiet", action="store_true", default=False, help="do not print drill progress lines"
    )
    group.addoption(
        "--drill-led-by",
        metavar="NAME",
        default=None,
        help="who leads this run, recorded in every journal record (default: [report] led_by)",
    )
    group.addoption(
        "--drill-participant",
        metavar="NAME:ROLE",
        action="append",
        default=None,
        help="a participant and their role, repeatable, recorded in every journal record "
        "(default: [report] participants)",
    )
    group.addoption(
        "--drill-wait-for-lease",
        metavar="DURATION",
        default=None,
        help="wait this long for the environment's lease when another run holds it (default: refuse at once)",
    )
    group.addoption(
        "--drill-extra",
        metavar="FILE",
        default=None,
        help="a JSON object merged into every journal record's extra (e.g. an unannounced drill's reveal)",
    )
    mutation.add_option(group)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    try:
        cfg = config_for_run(Path(str(config.rootpath)))
        settings = _settings(config, cfg)
        journal.check_appendable(settings.results_dir)
    except DrillbookError as exc:
        raise pytest.UsageError(f"drillbook: {exc}") from None
    run_id = config.getoption("drill_run_id") or new_run_id()
    undo_log = UndoLog(settings.state_dir, run_id)
    config.stash[RUN_KEY] = RunState(run_id, settings, cfg, undo_log)
    config.pluginmanager.register(
        LeaseKeeper(env=settings.env_name, config=cfg, state_dir=settings.state_dir, run_id=run_id,
                    undo_log=undo_log, wait=settings.wait_for_lease),
        "drillbook-lease",
    )
    signals.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    signals.uninstall()


def _settings(config: pytest.Config, cfg: Config) -> DrillSettings:
    options = {name: config.getoption(name) for name in OPTIONS}
    options["drill_env"] = options["drill_env"] or os.environ.get("DRILLBOOK_ENV")
    settings = from_config(cfg, options)
    check_run_config(cfg, settings.env_name)
    return replace(settings, run_extra=_run_extra(config.getoption("drill_extra")))


#: The options :func:`drillbook.harness.settings.from_config` reads.
OPTIONS = ("drill_probe_interval", "drill_hard_timeout", "drill_consecutive", "drill_results",
           "drill_state_dir", "drill_allow_partial", "drill_env", "drill_tier", "drill_quiet",
           "drill_wait_for_lease", "drill_led_by", "drill_participant")


def _run_extra(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise pytest.UsageError(f"--drill-extra {path}: cannot read a JSON object ({exc})") from None
    if not isinstance(data, dict):
        raise pytest.UsageError(f"--drill-extra {path}: must hold a JSON object, not {type(data).__name__}")
    return data


def pytest_sessionstart(session: pytest.Session) -> None:
    mutation.active(session.config)  # an unknown --drill-mutate is refused before anything runs
    state = session.config.stash[RUN_KEY]
    try:
        left = leftovers(state.settings.state_dir)
    except DrillbookError as exc:  # an undo log that cannot be read: say which, run on
        left = []
        session.config.issue_config_time_warning(pytest.PytestWarning(f"drillbook: {exc}"), stacklevel=2)
    if left:
        count = sum(len(log.outstanding) for log in left)
        names = ", ".join(sorted({e.name for log in left for e in log.outstanding}))
        message = (
            f"drillbook: {count} fault(s) left behind by a dead runner ({names}); "
            "run `drillbook revert` to undo them"
        )
        tr = session.config.pluginmanager.getplugin("terminalreporter")
        if tr is not None:
            tr.write_line(message, yellow=True, bold=True)
        session.config.issue_config_time_warning(pytest.PytestWarning(message), stacklevel=2)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash[RUN_KEY]
    tier = state.settings.schedule
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("drill")
        if marker is None:
            keep.append(item)
            continue
        try:
            spec: DrillSpec | InvalidDrillConfig = spec_from_marker(
                marker.args, marker.kwargs, config=state.config, where=item.nodeid
            )
        except InvalidDrillConfig as exc:
            spec = exc
        item.stash[SPEC_KEY] = spec
        if tier is None or tier == "annual" or isinstance(spec, InvalidDrillConfig) or spec.tier == tier:
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def drill(request: pytest.FixtureRequest) -> Generator[Drill, None, None]:
    """A :class:`Drill` for this test; needs ``@pytest.mark.drill(...)``."""
    item = request.node
    spec = item.stash.get(SPEC_KEY, None)
    if spec is None:
        marker = item.get_closest_marker("drill")
        if marker is None:
            pytest.fail(
                f"{item.nodeid}: the drill fixture needs @pytest.mark.drill(scenario=..., tier=...)",
                pytrace=False,
            )
        try:
            spec = spec_from_marker(
                marker.args, marker.kwargs, config=request.config.stash[RUN_KEY].config, where=item.nodeid
            )
        except InvalidDrillConfig as exc:
            spec = exc
    if isinstance(spec, InvalidDrillConfig):
        pytest.fail(f"InvalidDrillConfig: {spec}", pytrace=False)
    state = request.config.stash[RUN_KEY]
    state.counter += 1
    if state.environment is None:
        state.environment = _environment(request.config, state)
    base = state.environment
    env_info = EnvironmentInfo(
        base.name, dict(base.fingerprint), base.kind, base.production,
        None if base.capabilities is None else list(base.capabilities), base.poll_interval_s,
    )
    drill_obj = Drill(
        spec,
        nodeid=item.nodeid,
        run_id=state.run_id,
        record_id=f"{state.run_id}-{state.counter:03d}",
        settings=state.settings,
        undo_log=state.undo_log,
        environment=env_info,
        guard=request.config.stash.get(FAULT_GUARD_KEY, None),
        progress=_progress(request.config) if state.settings.progress else None,
        mutation=mutation.active(request.config),
    )
    item.stash[DRILL_KEY] = drill_obj
    yield drill_obj
    # Normally finished in the call phase; this covers errors before it.
    _finish(request.config, drill_obj, None)


def _environment(config: pytest.Config, state: RunState) -> EnvironmentInfo:
    """What every record says of the environment: its name, kind and fingerprint."""
    name = state.settings.env_name
    capabilities: list[str] | None
    poll_interval: float | None
    try:
        profile = load_profile(state.config, name)
        kind, production, capabilities = profile.kind, profile.production, sorted(profile.capabilities)
        poll_interval = profile.poll_interval
    except InvalidDrillConfig:  # the guard plugin reports a bad profile; the record still says the kind
        kind, production, capabilities, poll_interval = kind_of(name, None), False, None, None
    if state.fingerprint is None:
        state.fingerprint = fingerprint(Path(str(config.rootpath)), state.config.hash)
    return EnvironmentInfo(
        name=name,
        fingerprint=dict(state.fingerprint),
        kind=kind,
        production=production,
        capabilities=capabilities,
        poll_interval_s=poll_interval,
    )


def _progress(config: pytest.Config) -> Any:
    tr = config.pluginmanager.getplugin("terminalreporter")
    capman = config.pluginmanager.getplugin("capturemanager")
    if tr is None:
        return None

    def say(message: str) -> None:
        if capman is not None:
            with capman.global_and_fixture_disabled():
                tr.write_line(f"    drill: {message}", cyan=True)
        else:
            tr.write_line(f"    drill: {message}", cyan=True)

    return say


def _finish(config: pytest.Config, drill_obj: Drill, exc: BaseException | None) -> DrillResult:
    if drill_obj.finished is not None:
        return drill_obj.finished
    state = config.stash[RUN_KEY]
    with signals.critical():
        result = drill_obj.finish(exc)
        journal.append(state.settings.results_dir, result)
    state.results.append(result)
    return result


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # A drill cuts its thread's waits at its hard timeout and clears the cut when it finishes;
    # a test that made a Drill and never finished it must not cut the next test's waits.
    polling.cut_at(None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    drill_obj = item.stash.get(DRILL_KEY, None)
    if drill_obj is None:
        return (yield)
    try:
        # The body's own calls (between steps: waits, verification) are the drill's.
        with scope(drill_obj.calls, CallerKind.DRILL):
            outcome = yield
    except BaseException as exc:
        if isinstance(exc, pytest.skip.Exception) and not drill_obj.acted:
            drill_obj.finish(exc)  # skipped before acting, as a fixture skips: no drill ran, no record
        else:  # a skip half-way too: what it did is reverted and on the record
            _properties(item, _finish(item.config, drill_obj, exc))
        raise
    result = _finish(item.config, drill_obj, None)
    _properties(item, result)
    allow = item.config.stash[RUN_KEY].settings.allow_partial
    if result.status is Status.FAIL or (result.status is Status.PARTIAL and not allow):
        raise DrillFailed(f"drill {result.status}: " + "; ".join(result.reasons))
    return outcome


def _properties(item: pytest.Item, result: DrillResult) -> None:
    item.user_properties.append(("status", result.status.value))
    item.user_properties.append(("rto_s", _num(result.measured.rto_s)))
    item.user_properties.append(("rpo_s", _num(result.measured.rpo_s)))
    item.user_properties.append(("run_id", result.run_id))
    item.user_properties.append(("record_id", result.record_id or ""))


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(RUN_KEY, None)
    if state is None or not state.results:
        return
    tr = terminalreporter
    tr.section("drillbook summary")
    headers = (
        "scenario",
        "option",
        "tier",
        "RTO target",
        "RTO measured",
        "RPO target",
        "RPO measured",
        "status",
    )
    rows = [
        (
            r.drill.scenario,
            r.drill.option or "",
            r.drill.tier or "",
            format_duration(r.targets.rto_s),
            format_duration(r.measured.rto_s),
            format_duration(r.targets.rpo_s),
            format_duration(r.measured.rpo_s),
            r.status.value,
        )
        for r in state.results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    tr.write_line("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        colour = {"PASS": "green", "PARTIAL": "yellow", "FAIL": "red"}[row[-1]]
        tr.write_line("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)), **{colour: True})
    tr.write_line(f"run {state.run_id}: journal in {state.settings.results_dir}")
