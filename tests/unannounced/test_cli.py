"""``drillbook unannounced seal|due|run|verify`` end to end: a real drill suite, a real
journal, paging through a real HTTP receiver."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drillbook.harness import journal
from drillbook.harness.config import load_config
from drillbook.harness.durations import format_duration
from drillbook.harness.records import DrillInfo, DrillResult, EnvironmentInfo, Status
from drillbook.reports import journals, model, render
from drillbook.reports.options import from_config
from tests.paging.receiver import Receiver, running

SUITE = '''
import pytest
from drillbook.faults.noop import NoopFault

state = {"up": True}


class Outage(NoopFault):
    """Flips a flag off; revert flips it on."""

    def inject(self):
        state["up"] = False

    def revert(self):
        state["up"] = True


def outage(drill):
    drill.steady_state(lambda: state["up"])
    fault = drill.inject(Outage())
    drill.await_detection(timeout=5)
    drill.heal(fault)
    drill.await_recovery()


@pytest.mark.drill(scenario="alpha", tier="monthly", rto="5s", rpo="0", component="api")
def test_alpha(drill):
    outage(drill)


@pytest.mark.drill(scenario="beta", tier="quarterly", rto="5s", rpo="0", component="database")
def test_beta(drill):
    outage(drill)


@pytest.mark.drill(scenario="gamma", tier="annual", rto="5s", rpo="0", component="cache")
def test_gamma(drill):
    outage(drill)
'''

TOKEN = "tok-e2e-51c0ffee9d"


def paging_config(url: str, *levels: str) -> str:
    text = f'[paging]\nurl = "{url}"\ntoken_env = "E2E_PAGING_TOKEN"\ntimeout = "2s"\nretries = 1\n'
    for number, within in enumerate(levels, start=1):
        text += f'\n[[paging.levels]]\nname = "level {number}"\ncontact = "person {number}"\n'
        text += f'respond_within = "{within}"\n'
    return text


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    root = tmp_path / "ops"
    root.mkdir()
    (root / "test_drills.py").write_text(SUITE)
    return root


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(Receiver()) as r:
        yield r


def cli(cwd: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "E2E_PAGING_TOKEN": TOKEN, "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "drillbook", "unannounced", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def seal(cwd: Path, window: str, *extra: str) -> str:
    done = cli(cwd, "seal", "--suite", ".", "--window", window, *extra)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"[0-9a-f]{64}\n", done.stdout), done.stdout  # only the commitment
    for name in ("alpha", "beta", "gamma"):
        assert name not in done.stdout + done.stderr
    return done.stdout.strip()


def wait_due(cwd: Path, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while True:
        done = cli(cwd, "due")
        if done.returncode == 0:
            return
        assert done.returncode == 4, done.stdout + done.stderr
        assert time.monotonic() < deadline, "the sealed drill never became due"
        time.sleep(0.5)


def test_seal_due_run_records_the_reveal_and_the_engagement(suite: Path, receiver: Receiver) -> None:
    receiver.ack_after = {2: 0.2}  # level 1 misses its response time; level 2 acknowledges
    (suite / "drillbook.toml").write_text(paging_config(receiver.url, "1s", "10s"))
    commitment = seal(suite, "now..+6s", "--scenarios", "2")
    sealed_file = next((suite / ".drillbook/unannounced/sealed").iterdir())
    assert sealed_file.stat().st_mode & 0o777 == 0o600
    assert (suite / ".drillbook/unannounced/sealed").stat().st_mode & 0o777 == 0o700
    wait_due(suite)

    done = cli(
        suite, "run", "--suite", ".", "--drill-results", "results", "--", "--junitxml", "results/junit.xml"
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "the revealed plan matches the commitment: verified" in done.stdout
    assert "engaged: acknowledged by pager at level 2" in done.stdout

    records = journal.load(suite / "results")
    assert len(records) == 2 and len({r.run_id for r in records}) == 1
    revealed = records[0].extra["unannounced"]
    assert revealed["commitment"] == commitment and revealed["verified"] is True
    assert {r.drill.scenario for r in records} == set(revealed["plan"]["scenarios"])
    assert all(r.extra["unannounced"] == revealed for r in records)
    assert revealed["plan"]["scheduled_at"] <= revealed["revealed_at"].replace("Z", "+00:00")
    engagement = records[0].extra["engagement"]
    assert engagement["outcome"] == "acknowledged"
    assert (engagement["acked_level"], engagement["escalations"], engagement["levels_paged"]) == (
        2,
        1,
        [1, 2],
    )
    assert 1.0 <= engagement["time_to_engage_s"] < 10.0
    assert engagement["paged_at"] < engagement["acked_at"]
    assert [p.body["run_id"] for p in receiver.pages] == [records[0].run_id] * 2
    for path in (suite / "results").glob("*.json"):
        assert TOKEN not in path.read_text()
    assert TOKEN not in done.stdout + done.stderr
    assert (suite / "results/junit.xml").read_text().count("<testcase") == 2

    ok = subprocess.run(
        [sys.executable, "-m", "drillbook", "verify", "results"],
        cwd=suite,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stdout
    checked = cli(suite, "verify", "--drill-results", "results")
    assert checked.returncode == 0 and f"OK       {commitment}" in checked.stdout
    assert cli(suite, "due").returncode == 3  # done: nothing pending any more

    # the DR Test Report shows the escalation path and the measured time to engage
    report = model.build_run(
        journals.run_records(suite / "results"),
        from_config(load_config(suite / "drillbook.toml")),
        generated_at=datetime.now(UTC),
        generator="test",
    )
    escalation = report.drills[0].escalation
    assert [(lv.level, lv.respond_within) for lv in escalation.path] == [(1, "1.00s"), (2, "10.00s")]
    assert escalation.path[0].paged.startswith("no response") and escalation.paged
    assert escalation.time_to_engage.startswith(format_duration(engagement["time_to_engage_s"]))
    assert "acknowledged by pager at level 2 after 1 escalation(s) (within the level's 10.00s)" in (
        escalation.time_to_engage
    )
    assert escalation.met is True and "Time to engage: " in render.run_markdown(report)


def test_nobody_acknowledging_fails_the_run_with_its_own_exit_code(suite: Path, receiver: Receiver) -> None:
    (suite / "drillbook.toml").write_text(paging_config(receiver.url, "0.3s", "0.3s"))
    seal(suite, "now..+5s", "--tier", "monthly")
    wait_due(suite)
    done = cli(suite, "run", "--suite", ".", "--drill-results", "results")
    assert done.returncode == 5, done.stdout[-2000:]
    (record,) = journal.load(suite / "results")
    assert record.status is Status.PASS and record.drill.scenario == "alpha"
    assert record.extra["engagement"]["outcome"] == "unacknowledged"
    assert record.extra["engagement"]["levels_paged"] == [1, 2]


def test_without_paging_config_the_drill_runs_and_says_it_paged_nobody(suite: Path) -> None:
    seal(suite, "now..+5s", "--tier", "quarterly")
    wait_due(suite)
    done = cli(suite, "run", "--suite", ".", "--drill-results", "results")
    assert done.returncode == 0, done.stdout[-2000:]
    (record,) = journal.load(suite / "results")
    assert record.drill.scenario == "beta"
    assert record.extra["engagement"]["outcome"] == "not paged"


def test_due_says_not_yet_without_saying_when(suite: Path) -> None:
    assert cli(suite, "due").returncode == 3
    assert cli(suite, "run", "--suite", ".").returncode == 3
    seal(suite, "2099-01-01..2099-12-31")
    done = cli(suite, "due")
    assert done.returncode == 4 and "not due yet" in done.stdout
    assert "2099" not in done.stdout + done.stderr
    assert cli(suite, "run", "--suite", ".").returncode == 4


def tamper(sealed_file: Path, **changes: object) -> None:
    data = json.loads(sealed_file.read_text())
    data["plan"].update(changes)
    data["plan_canonical"] = json.dumps(data["plan"], sort_keys=True, separators=(",", ":"))
    sealed_file.write_text(json.dumps(data))


def test_run_refuses_a_plan_changed_after_sealing(suite: Path) -> None:
    seal(suite, "2099-01-01..2099-12-31")
    sealed_file = next((suite / ".drillbook/unannounced/sealed").iterdir())
    tamper(sealed_file, scheduled_at="2000-01-01T00:00:00+00:00")  # "make it due now"
    assert cli(suite, "due").returncode == 0
    done = cli(suite, "run", "--suite", ".", "--drill-results", "results")
    assert done.returncode == 2
    assert "does not match its commitment" in done.stderr and "Traceback" not in done.stderr
    assert not (suite / "results").exists()


def test_a_plan_readable_by_others_is_no_longer_sealed(suite: Path) -> None:
    seal(suite, "2099-01-01..2099-12-31")
    sealed_file = next((suite / ".drillbook/unannounced/sealed").iterdir())
    sealed_file.chmod(0o644)
    done = cli(suite, "due")
    assert done.returncode == 2 and "readable by others (mode 0644)" in done.stderr


def test_seal_rejects_bad_input_without_a_traceback(suite: Path) -> None:
    for args, message in (
        (["--window", "tomorrow"], "invalid window"),
        (["--window", "now..+1d", "--scenarios", "4"], "only 3 scenario(s)"),
        (["--window", "2001-01-01..2001-02-01"], "is over"),
    ):
        done = cli(suite, "seal", "--suite", ".", *args)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_verify_detects_a_journal_whose_plan_was_changed(tmp_path: Path, suite: Path) -> None:
    seal(suite, "2099-01-01..2099-12-31", "--scenarios", "2")
    data = json.loads(next((suite / ".drillbook/unannounced/sealed").iterdir()).read_text())
    honest = {
        "commitment": data["commitment"],
        "nonce": data["nonce"],
        "plan": data["plan"],
        "verified": True,
    }
    changed_plan = dict(data["plan"], scenarios=list(reversed(data["plan"]["scenarios"])))
    results = tmp_path / "results"
    for run_id, extra in (("run-a", honest), ("run-b", dict(honest, plan=changed_plan))):
        journal.append(
            results,
            DrillResult(
                run_id=run_id,
                drill=DrillInfo("x::y", "alpha"),
                environment=EnvironmentInfo("local"),
                extra={"unannounced": extra},
            ),
        )
    done = cli(suite, "verify", "--drill-results", str(results))
    assert done.returncode == 1
    assert "MISMATCH" in done.stdout and "plan or nonce do not hash to the commitment" in done.stdout


def test_a_busy_environment_is_neither_revealed_nor_paged(suite: Path, receiver: Receiver) -> None:
    from drillbook.harness.lease import LeaseHolder, acquire
    from drillbook.harness.lease.local import LocalLease

    (suite / "drillbook.toml").write_text(paging_config(receiver.url, "10s"))
    seal(suite, "now..+3s")
    wait_due(suite)
    state = suite / ".drillbook"
    held = acquire(LocalLease(state, "local"), LeaseHolder.me("run-busy"), state_dir=state)
    try:
        busy = cli(suite, "run")
    finally:
        held.release()
    assert busy.returncode == 6, busy.stdout + busy.stderr
    assert "is leased to run run-busy" in busy.stderr and "Traceback" not in busy.stderr
    assert "revealed" not in busy.stdout and not receiver.pages
    assert cli(suite, "due").returncode == 0  # still pending: it runs once the environment is free
