"""The production guard and the blast-radius limits, seen from pytest (pytester)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest

PROFILES = """
[environments.prod]
production = true
[environments.prod.network]
url = "http://127.0.0.1:9"
proxies = ["app-db"]

[environments.staging]
[environments.staging.network]
url = "http://127.0.0.1:9"
proxies = ["app-db"]
[environments.staging.limits.sized]
max_pods = 2
max_percent = 50
max_nodes = 1
[environments.staging.limits.forbidden]
allow = false

[limits.default]
max_pods = 10
"""

DRILL = """
import pytest
from drillbook.faults.noop import NoopFault
from drillbook.harness.environments.guard import Blast

injected = []

class Recorded(NoopFault):
    '''Records its injection.'''
    def inject(self):
        injected.append(self.label)

class Sized(Recorded):
    '''Says how much it would break.'''
    name = "sized"
    def __init__(self, label, pods=None, percent=None, nodes=None):
        super().__init__(label)
        self.size = Blast(pods=pods, percent=percent, nodes=nodes)
    def blast(self):
        return self.size

class Unlisted(Sized):
    '''No limits of its own: the default ones apply.'''
    name = "unlisted"

class Forbidden(Recorded):
    '''Not allowed by the limits.'''
    name = "forbidden"

@pytest.mark.drill(scenario="guarded", tier="monthly", rto="5s")
def test_guarded(drill, request):
    drill.steady_state(lambda: True)
    kind = request.config.getoption("--fault-kind", default="plain")
    fault = {"plain": lambda: Recorded("x"), "small": lambda: Sized("s", pods=2, percent=50, nodes=1),
             "many": lambda: Sized("m", pods=3), "share": lambda: Sized("p", percent=75),
             "nodes": lambda: Sized("n", nodes=2), "forbidden": lambda: Forbidden("f"),
             "default": lambda: Unlisted("d", pods=11)}[kind]()
    drill.inject(fault)
    assert injected
"""

CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--fault-kind", default="plain")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".toml", drillbook=PROFILES)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_guarded=DRILL)
    return pytester


def run(p: pytest.Pytester, *args: str, confirm: str | None = None) -> pytest.RunResult:
    env_before = os.environ.get("DRILLBOOK_CONFIRM_PRODUCTION")
    if confirm is None:
        os.environ.pop("DRILLBOOK_CONFIRM_PRODUCTION", None)
    else:
        os.environ["DRILLBOOK_CONFIRM_PRODUCTION"] = confirm
    try:
        return p.runpytest_subprocess("-p", "no:cacheprovider", "--drill-quiet", *args)
    finally:
        if env_before is None:
            os.environ.pop("DRILLBOOK_CONFIRM_PRODUCTION", None)
        else:
            os.environ["DRILLBOOK_CONFIRM_PRODUCTION"] = env_before


def test_production_refuses_every_fault_without_the_flag(project: pytest.Pytester) -> None:
    result = run(project, "--drill-env", "prod")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*environment 'prod' is marked production = true: fault noop refused*--allow-production*"]
    )
    result.stdout.fnmatch_lines(["*every fault will be refused*"])


def test_the_flag_alone_is_not_enough(project: pytest.Pytester) -> None:
    result = run(project, "--drill-env", "prod", "--allow-production")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*needs the environment's name as confirmation, but nothing was typed*"])


def test_a_wrong_confirmation_is_refused(project: pytest.Pytester) -> None:
    result = run(project, "--drill-env", "prod", "--allow-production", confirm="staging")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*but 'staging' was typed*"])


def test_the_flag_and_the_name_in_the_environment_allow_faults(project: pytest.Pytester) -> None:
    result = run(project, "--drill-env", "prod", "--allow-production", confirm="prod")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*PRODUCTION environment 'prod': faults ALLOWED (confirmed)*"])


def test_the_name_without_the_flag_is_not_enough(project: pytest.Pytester) -> None:
    run(project, "--drill-env", "prod", confirm="prod").assert_outcomes(failed=1)


@pytest.mark.parametrize(("typed", "passed"), [("prod", True), ("prd", False)])
def test_the_name_typed_at_the_prompt(project: pytest.Pytester, typed: str, passed: bool) -> None:
    """A real terminal (a pty): the guard asks, and what is typed decides."""
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "DRILLBOOK_CONFIRM_PRODUCTION"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--drill-quiet",
            "--drill-env",
            "prod",
            "--allow-production",
            "-q",
        ],
        cwd=project.path,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        start_new_session=True,
    )
    os.close(secondary)
    output = b""
    answered = False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(primary, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
                if not answered and b"Type its name to confirm" in output:
                    os.write(primary, typed.encode() + b"\n")
                    answered = True
            elif proc.poll() is not None:
                break
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(primary)
    text = output.decode(errors="replace")
    assert answered, text
    assert (proc.returncode == 0) is passed, text
    assert ("1 passed" in text) is passed, text


def test_faults_run_in_a_non_production_environment(project: pytest.Pytester) -> None:
    run(project, "--drill-env", "staging").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("many", "would break 3 pods, over the limit of 2 (max_pods in ?environments.staging.limits.sized?"),
        ("share", "would break 75% of the pods, over the limit of 50%"),
        ("nodes", "would drain 2 nodes, over the limit of 1"),
        (
            "forbidden",
            "fault forbidden is not allowed in environment 'staging' (allow = false in ?environments*",
        ),
        ("default", "would break 11 pods, over the limit of 10"),
    ],
)
def test_blast_radius_limits(project: pytest.Pytester, kind: str, message: str) -> None:
    result = run(project, "--drill-env", "staging", "--fault-kind", kind)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{message}*"])


def test_within_the_limits(project: pytest.Pytester) -> None:
    run(project, "--drill-env", "staging", "--fault-kind", "small").assert_outcomes(passed=1)
