"""Hypothesis over everything drillbook reads from disk or a command line: arbitrary bytes, TOML
and JSON never produce a traceback, a hang or a partial write. Each reader returns its result or
raises a DrillbookError (named, with the fix); a command returns an exit code.

Examples are bounded (``max_examples``) so the whole file runs in well under a minute.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import string
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from drillbook.harness import journal, undolog
from drillbook.harness.cli import build_parser, main
from drillbook.harness.config import find_config
from drillbook.harness.configcheck import check_run_config
from drillbook.harness.durations import format_duration, parse_duration
from drillbook.harness.errors import DrillbookError, InvalidDrillConfig
from drillbook.harness.revert import revert_leftovers
from drillbook.harness.settings import from_config
from drillbook.reports import frame, journals, model
from drillbook.reports.options import ReportOptions

SUITE = Path(__file__).parents[1] / "fixtures" / "journals" / "suite"
FAST = settings(
    max_examples=int(os.environ.get("FUZZ_N", 40)),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLOW = settings(FAST, max_examples=int(os.environ.get("FUZZ_SLOW_N", 15)))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A fresh directory per example (function-scoped fixtures are shared by every example)."""
    path = Path(tempfile.mkdtemp(prefix="drillbook-fuzz-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def a_record() -> dict[str, Any]:
    """The stored journal's newest drill record (it ends with sign-offs)."""
    records = [json.loads(p.read_text()) for p in journal.record_files(SUITE)]
    return dict(next(r for r in reversed(records) if r.get("kind", "drill") == "drill"))


def mutated(base: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
    """``base`` with the value at ``path`` (a key, or an index into the list there) replaced; what is
    missing on the way is created."""
    data = json.loads(json.dumps(base))
    here: Any = data
    for step, key in enumerate(path):
        last = step == len(path) - 1
        if isinstance(key, int):
            if not isinstance(here, list) or not here:
                raise AssertionError("an index follows a key whose value was made a list")
            key = min(key, len(here) - 1)
        if last:
            here[key] = value
            break
        child = here[key] if isinstance(key, int) else here.get(key)
        wants_list = isinstance(path[step + 1], int)
        if wants_list and not (isinstance(child, list) and child):
            child = [{}]
        elif not wants_list and not isinstance(child, dict):
            child = {}
        here[key] = child
        here = child
    return data


RECORD_KEYS = sorted(a_record())
FIELDS = [
    "rto_s",
    "rpo_s",
    "detect_s",
    "at",
    "event",
    "detail",
    "name",
    "params",
    "started_at",
    "duration_s",
    "expected_s",
    "passed",
    "scenario",
    "tier",
    "option",
    "severity",
    "fingerprint",
    "schedule",
    "unannounced",
    "commitment",
    "injected_at",
    "reverted_at",
    "revert_error",
    "acked_writes",
    "lost_writes",
    "reasons",
    "status",
]
record_paths = st.one_of(
    st.lists(st.sampled_from(RECORD_KEYS) | st.sampled_from(FIELDS), min_size=1, max_size=3),
    st.tuples(
        st.sampled_from(["timeline", "phases", "faults", "verification", "reasons"]),
        st.integers(0, 3),
        st.sampled_from(FIELDS),
    ).map(list),
    st.tuples(
        st.sampled_from(["extra", "environment", "drill", "measured", "targets"]),
        st.sampled_from(FIELDS),
        st.sampled_from(FIELDS),
    ).map(list),
)


# -- the journal reader ----------------------------------------------------------------------------


@FAST
@given(raw=st.binary(max_size=2000))
def test_arbitrary_bytes_are_a_record_or_a_named_error(raw: bytes) -> None:
    with scratch() as root:
        path = root / "000001-x.json"
        path.write_bytes(raw)
        with contextlib.suppress(DrillbookError):
            journal.to_result(journal.read_record(path), path)
        with contextlib.suppress(DrillbookError):
            frame.load_rows(root)
        assert journal.verify_chain(root).ok in (True, False)


@FAST
@given(path=record_paths, value=json_values)
@example(path=["extra", "schedule", "rto_s"], value=None)  # found by CI: the tier as an object
@example(path=["drill", "tier"], value=3)  # a label as a number: both readers take it as text
@example(path=["drill", "option"], value=False)  # none, for both
def test_a_record_with_any_value_anywhere_is_read_or_named(path: list[str | int], value: Any) -> None:
    with scratch() as root:
        target = root / "000001-r.json"
        target.write_text(json.dumps(mutated(a_record(), path, value)))
        history: DrillbookError | None = None
        try:
            frame.load_frame(root)
        except DrillbookError as exc:
            assert target.name in str(exc)
            history = exc
        try:
            records = journals.run_records(root)
        except DrillbookError as exc:
            assert target.name in str(exc)
            return
        # The history reads a part of what a run's report reads, by the same rules (a label is
        # any scalar, never a structure): a record the run's reader takes, the history takes.
        assert history is None, history
        from datetime import UTC, datetime

        from drillbook.reports import render

        try:
            built = model.build_run(records, ReportOptions(), generated_at=datetime.now(UTC),
                                    generator="fuzz")
        except DrillbookError as exc:
            assert target.name in str(exc)
            return
        render.run_markdown(built)
        render.run_json(built)


# -- the drillbook.toml loader ---------------------------------------------------------------------

toml_keys = st.sampled_from(
    [
        "suite",
        "state_dir",
        "results_dir",
        "probe_interval",
        "hard_timeout",
        "consecutive",
        "allow_partial",
        "driver",
        "production",
        "replicas",
        "workers",
        "zones",
        "data_size",
        "snapshot_interval",
        "rto",
        "rpo",
        "database",
        "app",
        "kubernetes",
        "aws",
        "lease",
        "namespace",
        "api_url",
        "url",
        "url_env",
        "region",
        "instance_id",
        "deployment",
        "selector",
        "duration",
        "kind",
        "limits",
        "max_pods",
        "password",
    ]
) | st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=10)
toml_scalars = (
    st.booleans()
    | st.integers(-10, 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=15)
    | st.sampled_from(
        [
            "30s",
            "5m",
            "0",
            "1h",
            "staging",
            "local",
            "kubernetes",
            "http://127.0.0.1:1",
            "postgresql://u:p@h/db",
        ]
    )
)
toml_tables = st.recursive(
    st.dictionaries(toml_keys, toml_scalars | st.lists(toml_scalars, max_size=3), max_size=4),
    lambda inner: st.dictionaries(toml_keys, inner, max_size=3),
    max_leaves=12,
)


def toml_text(data: dict[str, Any], prefix: str = "") -> str:
    """A minimal TOML writer (nested tables as [a.b] headers; strings JSON-quoted, which TOML accepts)."""
    lines, tables = [], []
    for key, value in data.items():
        quoted = json.dumps(key)
        if isinstance(value, dict):
            tables.append((f"{prefix}.{quoted}" if prefix else quoted, value))
        else:
            lines.append(f"{quoted} = {toml_value(value)}")
    out = "\n".join(lines) + "\n"
    for name, table in tables:
        out += f"\n[{name}]\n" + toml_text(table, name)
    return out


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "nan"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, str) else str(value)


def check_everything(root: Path) -> None:
    config = find_config(root)
    from_config(config)
    names = ["local", "staging", "containers", *[str(n) for n in (config.data.get("environments") or {})]]
    for name in names:
        with contextlib.suppress(DrillbookError):
            check_run_config(config, name)
            from drillbook.harness.lease import lease_for

            lease_for(name, config, root / ".drillbook")


@FAST
@given(raw=st.binary(max_size=600))
def test_arbitrary_bytes_as_drillbook_toml(raw: bytes) -> None:
    with scratch() as root:
        (root / "drillbook.toml").write_bytes(raw)
        with contextlib.suppress(InvalidDrillConfig):
            check_everything(root)


@FAST
@given(
    table=toml_tables,
    environments=st.dictionaries(
        st.sampled_from(["local", "staging", "containers", "x"]), toml_tables, max_size=2
    ),
)
def test_arbitrary_toml_tables_as_drillbook_toml(table: dict[str, Any], environments: dict[str, Any]) -> None:
    with scratch() as root:
        (root / "drillbook.toml").write_text(toml_text({**table, "environments": environments}))
        with contextlib.suppress(InvalidDrillConfig):
            check_everything(root)


# -- the duration parser ---------------------------------------------------------------------------


@FAST
@given(
    value=st.text(max_size=20)
    | st.from_regex(r"\A[0-9. ]{0,6}(ms|s|sec|m|min|h|d){0,3}[0-9]*\Z")
    | st.integers()
    | st.floats()
    | st.none()
    | st.booleans()
    | st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=400))
)
def test_a_duration_is_a_finite_number_of_seconds_or_a_named_error(value: Any) -> None:
    try:
        seconds = parse_duration(value, what="timeout")
    except InvalidDrillConfig as exc:
        assert "invalid timeout" in str(exc) and "use one of" in str(exc)
        return
    assert math.isfinite(seconds) and seconds >= 0
    assert format_duration(seconds)


# -- the undo-log reader ---------------------------------------------------------------------------

undo_lines = st.lists(
    st.fixed_dictionaries(
        {"op": st.sampled_from(["run", "inject", "injected", "reverted", "failed", "x"])},
        optional={
            "seq": json_values | st.integers(0, 3),
            "name": json_values,
            "params": json_values,
            "pid": json_values,
            "pid_ticks": json_values,
            "registered": json_values,
            "error": json_values,
            "run_id": json_values,
        },
    )
    | json_values,
    max_size=6,
)


@FAST
@given(
    raw=st.binary(max_size=1000)
    | undo_lines.map(lambda lines: "".join(json.dumps(line) + "\n" for line in lines).encode())
)
def test_an_undo_log_is_read_or_named(raw: bytes) -> None:
    with scratch() as root:
        (root / "undo").mkdir()
        path = root / "undo" / "run-x.jsonl"
        path.write_bytes(raw)
        try:
            log = undolog.read(path)
        except undolog.UndoLogError as exc:
            assert str(path) in str(exc)
        else:
            assert all(e.state in undolog.STATES for e in log.entries)
        # revert never raises for what it reads: it reports (a registered fault rebuilt from random
        # parameters may fail to revert, which is reported too)
        report = revert_leftovers(root, force=False)
        assert report.clean in (True, False)


# -- sealed plans (unannounced drills) -------------------------------------------------------------


def a_sealed_plan(root: Path) -> Path:
    from drillbook.harness.unannounced.seal import seal
    from drillbook.harness.unannounced.store import SealStore
    from drillbook.harness.unannounced.window import parse_window

    sealed = seal(
        {"alpha": ["t.py::test_a"], "beta": ["t.py::test_b"]},
        tier="annual",
        window=parse_window("now..+1h"),
        count=1,
    )
    return SealStore(root).save(sealed)


plan_paths = st.lists(
    st.sampled_from(
        [
            "plan",
            "nonce",
            "commitment",
            "plan_canonical",
            "version",
            "tier",
            "window",
            "draw_window",
            "start",
            "end",
            "sealed_at",
            "seed",
            "candidates",
            "scenarios",
            "scheduled_at",
            "nodeids",
            "excluded",
            "rotation",
            "every_s",
            "people",
            "suite",
            "environment",
        ]
    ),
    min_size=1,
    max_size=3,
)


@FAST
@given(path=plan_paths, value=json_values, raw=st.none() | st.binary(max_size=300))
def test_a_sealed_plan_is_read_or_named(path: list[str | int], value: Any, raw: bytes | None) -> None:
    from datetime import UTC, datetime

    from drillbook.harness.unannounced.store import SealError, SealStore

    with scratch() as root:
        sealed = a_sealed_plan(root)
        if raw is None:
            sealed.write_text(json.dumps(mutated(json.loads(sealed.read_text()), path, value)))
        else:
            sealed.write_bytes(raw)
        try:
            due = SealStore(root).due(datetime.now(UTC))
        except SealError as exc:
            assert str(sealed) in str(exc)
        else:
            assert len(due) <= 1


# -- the command line ------------------------------------------------------------------------------

WORDS = [
    "verify",
    "report",
    "history",
    "postmortem",
    "revert",
    "unannounced",
    "env",
    "run",
    "plan",
    "init",
    "readiness",
    "ack",
    "toxiproxy-server",
    "status",
    "down",
    "up",
    "check",
    "due",
    "seal",
    "--results",
    "--format",
    "--latest",
    "--run",
    "--as-of",
    "--no-cache",
    "--check",
    "-o",
    "--config",
    "--env",
    "--state-dir",
    "--run-id",
    "--force",
    "--json",
    "--wait-for-lease",
    "--schedule",
    "--suite",
    "--",
    "--regression-threshold",
    "--regression-window",
    "--window",
    "--scenarios",
    "latest",
    "html",
    "md",
    "csv,html",
    "annual",
    "-1",
    "nan",
    "2026-13-45",
    "results",
    "missing-dir",
    "drillbook.toml",
    "",
]
argv_lists = st.lists(st.sampled_from(WORDS) | st.text(max_size=12), max_size=7)


@FAST
@given(argv=argv_lists)
def test_any_argv_parses_or_exits_with_usage(argv: list[str]) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(argv)
        except SystemExit as exc:
            assert exc.code in (0, 2)
    assert "Traceback" not in err.getvalue()


READERS = [
    ["verify"],
    ["report", "--results"],
    ["history", "--results"],
    ["postmortem", "latest", "--results"],
    ["unannounced", "verify", "--drill-results"],
    ["unannounced", "due", "--drill-results"],
    ["revert", "--state-dir"],
    ["env", "status", "--state-dir"],
]
damage = st.sampled_from(["none", "truncate", "garbage", "array", "remove"])


@SLOW
@given(
    reader=st.sampled_from(READERS),
    where=st.sampled_from(["results", "missing", "drillbook.toml", "."]),
    extra=st.lists(st.sampled_from(WORDS[19:]) | st.text(max_size=8), max_size=4),
    harm=damage,
)
def test_reading_commands_answer_with_an_exit_code(
    reader: list[str], where: str, extra: list[str], harm: str
) -> None:
    with scratch() as root:
        shutil.copytree(SUITE, root / "results")
        (root / "drillbook.toml").write_text("")
        latest = journal.record_files(root / "results")[-1]
        {
            "truncate": lambda: latest.write_bytes(latest.read_bytes()[:200]),
            "garbage": lambda: latest.write_bytes(os.urandom(100)),
            "array": lambda: latest.write_text("[]"),
            "remove": lambda: latest.unlink(),
            "none": lambda: None,
        }[harm]()
        argv = [
            *reader,
            where,
            *extra,
            *(["-o", str(root / "out")] if reader[0] in ("report", "history", "postmortem") else []),
        ]
        err, out = io.StringIO(), io.StringIO()
        cwd = Path.cwd()
        os.environ["DRILLBOOK_CACHE_DIR"] = str(root / "cache")
        try:
            os.chdir(root)
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                try:
                    code = main(argv)
                except SystemExit as exc:
                    code = int(exc.code or 0)
        finally:
            os.chdir(cwd)
        assert isinstance(code, int)
        assert "Traceback" not in err.getvalue() + out.getvalue()
        for written in (root / "out").rglob("*") if (root / "out").exists() else []:
            assert not written.name.endswith(".tmp"), "a partial write was left behind"


@pytest.fixture(autouse=True)
def _cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DRILLBOOK_CACHE_DIR", str(tmp_path / "cache"))
