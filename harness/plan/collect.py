"""Collect a drill suite with pytest, without running it.

``pytest --collect-only`` runs in this process with a small plugin that keeps,
for every drill item, its validated marker (the drillbook plugin's own
:func:`~drillbook.harness.marker.spec_from_marker`, with the suite's config) and the
faults and runbooks its code refers to. Collection imports the suite's modules;
they are dropped from ``sys.modules`` afterwards so that collecting again (or
another suite with the same file names) starts clean.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import FunctionType
from typing import Any

import pytest

from drillbook.faults.base import Reversible
from drillbook.harness.config import find_config
from drillbook.harness.errors import DrillbookError, InvalidDrillConfig
from drillbook.harness.marker import TIERS, DrillSpec
from drillbook.harness.plan.discover import module_runbooks, referenced
from drillbook.harness.plugin import RUN_KEY, SPEC_KEY
from drillbook.harness.registry import registered_faults
from drillbook.harness.runbook import Runbook


class CollectionFailed(DrillbookError):
    """pytest could not collect the suite (a usage error, or no suite at all)."""


@dataclass
class CollectedDrill:
    """One drill item as collected: its marker and the live objects its code uses."""

    nodeid: str
    spec: DrillSpec | None
    error: str | None
    faults: list[type[Reversible]]
    runbooks: list[Runbook]
    #: ``drill.phase(...)`` calls in the drill's own code: (name, expected seconds).
    phases: list[tuple[str, float | None]]
    path: str


@dataclass
class Collection:
    drills: list[CollectedDrill] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rootdir: str = ""
    config_where: str = "(no config file)"
    config_data: dict[str, Any] = field(default_factory=dict)


class _Recorder:
    def __init__(self, suite: Path) -> None:
        self.suite = suite.resolve()
        self.collection = Collection()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            self.collection.errors.append(f"{report.nodeid or self.suite}: {text[-1] if text else 'failed'}")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        state = session.config.stash.get(RUN_KEY, None)
        self.collection.rootdir = str(session.config.rootpath)
        if state is not None:
            self.collection.config_where = state.config.where()
            self.collection.config_data = dict(state.config.data)
        registered = registered_faults()
        for item in session.items:
            if item.get_closest_marker("drill") is None:
                continue
            spec = item.stash.get(SPEC_KEY, None)
            self.collection.drills.append(self._drill(item, spec, registered))

    def _drill(
        self,
        item: pytest.Item,
        spec: DrillSpec | InvalidDrillConfig | None,
        registered: dict[str, type[Reversible]],
    ) -> CollectedDrill:
        module = getattr(item, "module", None)
        funcs: list[Any] = []
        function = getattr(item, "function", None)
        if function is not None:
            funcs.append(function)
        funcs += self._fixture_functions(item)
        namespace = vars(module) if module is not None else {}
        refs = referenced(funcs, namespace, registered, local=self._local)
        runbooks = refs.runbooks
        if not runbooks and module is not None:
            runbooks = module_runbooks(module)
        error = str(spec) if isinstance(spec, InvalidDrillConfig) else None
        return CollectedDrill(
            nodeid=item.nodeid,
            spec=spec if isinstance(spec, DrillSpec) else None,
            error=error,
            faults=refs.faults,
            runbooks=runbooks,
            phases=refs.phases,
            path=str(item.path),
        )

    def _fixture_functions(self, item: pytest.Item) -> list[Any]:
        # The suite's own fixtures may inject faults too (``_fixtureinfo`` is
        # pytest's long-standing but private record of an item's fixtures).
        info = getattr(item, "_fixtureinfo", None)
        defs = getattr(info, "name2fixturedefs", {}) or {}
        found = []
        for fixturedefs in defs.values():
            for fixturedef in fixturedefs:
                func = getattr(fixturedef, "func", None)
                if isinstance(func, FunctionType) and self._local(func):
                    found.append(func)
        return found

    def _local(self, func: FunctionType) -> bool:
        filename = func.__code__.co_filename
        try:
            return Path(filename).resolve().is_relative_to(self.suite)
        except (OSError, ValueError):
            return False


def collect(suite: Path, *, schedule: str | None = None, extra_args: list[str] | None = None) -> Collection:
    """Collect the drills of ``suite`` (a file or directory), of ``schedule`` only if given."""
    if not suite.exists():
        raise CollectionFailed(f"drill suite {suite} does not exist; pass --suite PATH")
    if schedule is not None and schedule not in TIERS:
        raise InvalidDrillConfig(f"invalid schedule {schedule!r}: use one of {', '.join(TIERS)}")
    recorder = _Recorder(suite if suite.is_dir() else suite.parent)
    args = [str(suite), "--collect-only", "-q", "-p", "no:cacheprovider", "--drill-quiet"]
    if schedule is not None:
        args += ["--drill-tier", schedule]
    args += extra_args or []
    if not any(a.startswith(("--rootdir", "-c", "--config-file")) for a in extra_args or []):
        # Where no pytest ini file lies above the suite, pytest roots it at the common
        # ancestor of the suite and the working directory (/tmp, say), and the plugin would
        # miss the suite's drillbook.toml: root it at the config nearest the suite instead.
        nearest = find_config(recorder.suite).path
        if nearest is not None:
            args += ["--rootdir", str(nearest.parent)]
    output = io.StringIO()
    # Warnings of the suite's plugins at collection are not the plan's business.
    with _isolated(recorder.suite), contextlib.redirect_stdout(output), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = pytest.main(args, plugins=[recorder])
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        tail = output.getvalue().strip().splitlines()[-5:]
        raise CollectionFailed(f"pytest could not collect {suite}: " + " | ".join(tail))
    return recorder.collection


@contextlib.contextmanager
def _isolated(suite: Path) -> Any:
    """Forget the suite's modules and sys.path entries once collected."""
    modules = set(sys.modules)
    path = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            filename = getattr(sys.modules[name], "__file__", None)
            if filename and _under(Path(filename), suite):
                del sys.modules[name]


def _under(path: Path, directory: Path) -> bool:
    try:
        return path.resolve().is_relative_to(directory)
    except (OSError, ValueError):
        return False
