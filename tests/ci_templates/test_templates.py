"""The CI templates are valid YAML, schedule the DR testing schedule's tiers, keep the
evidence whatever happens, fail on a FAIL, and call only drillbook commands that exist."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from drillbook.harness.cli import build_parser
from drillbook.harness.cli import unannounced as unannounced_cli

ROOT = Path(__file__).resolve().parents[2] / "ci-templates"
GITHUB = sorted((ROOT / "github").glob("*.yml"))
GITLAB = ROOT / "gitlab" / ".gitlab-ci.yml"
# A drillbook command at a command position of a shell line.
COMMAND = re.compile(r"(?:^|[;&|(]\s*|\bthen\s+|\bdo\s+)(drillbook\s[^;&|)#<>]*)")


@dataclass(frozen=True)
class Script:
    where: str  # file and job/step, for messages
    text: str
    variables: dict[str, str]


def github_scripts(path: Path) -> list[Script]:
    data = yaml.safe_load(path.read_text())
    found = []
    for job_name, job in data["jobs"].items():
        for number, step in enumerate(job.get("steps", [])):
            if "run" in step:
                found.append(Script(f"{path.name}:{job_name}:{step.get('name', number)}", step["run"], {}))
    return found


def gitlab_scripts(path: Path) -> list[Script]:
    data = yaml.safe_load(path.read_text())
    found = []
    for job_name, job in data.items():
        if not isinstance(job, dict) or job_name.startswith(".") or job_name == "default":
            continue  # templates are checked through the jobs extending them
        variables = dict(job.get("variables") or {})
        for template in _extends(data, job):
            variables = {**template.get("variables", {}), **variables}
        for key in ("before_script", "script", "after_script"):
            for line in _resolved(data, job, key):
                found.append(Script(f"{path.name}:{job_name}:{key}", line, variables))
    return found


def _extends(data: dict[str, Any], job: dict[str, Any]) -> list[dict[str, Any]]:
    chain = []
    parent = job.get("extends")
    while parent:
        chain.append(data[parent])
        parent = data[parent].get("extends")
    return chain


def _resolved(data: dict[str, Any], job: dict[str, Any], key: str) -> list[str]:
    for candidate in (job, *_extends(data, job), data.get("default", {})):
        if key in candidate:
            return list(candidate[key])
    return []


def commands(script: Script) -> list[list[str]]:
    text = script.text.replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        for match in COMMAND.finditer(line.strip()):
            command = match.group(1).strip()
            for name, value in script.variables.items():
                command = command.replace(f'"${name}"', value).replace(f"${name}", value)
            assert "$" not in command, f"{script.where}: unresolved variable in {command!r}"
            found.append(shlex.split(command))
    return found


ALL_SCRIPTS = [s for p in GITHUB for s in github_scripts(p)] + gitlab_scripts(GITLAB)
ALL_COMMANDS = [(s.where, argv) for s in ALL_SCRIPTS for argv in commands(s)]


def test_templates_exist_and_are_valid_yaml() -> None:
    assert {p.name for p in GITHUB} == {"drill-monthly.yml", "drill-quarterly.yml", "unannounced-due.yml"}
    for path in [*GITHUB, GITLAB]:
        assert isinstance(yaml.safe_load(path.read_text()), dict), path


def test_every_template_calls_drillbook() -> None:
    used = {argv[1] for _, argv in ALL_COMMANDS}
    assert {"plan", "env", "run", "report", "verify", "revert", "readiness", "unannounced"} <= used
    assert len(ALL_COMMANDS) >= 30


@pytest.mark.parametrize(
    ("where", "argv"), ALL_COMMANDS, ids=[f"{w}:{' '.join(a[:3])}" for w, a in ALL_COMMANDS]
)
def test_each_command_line_parses_with_the_real_cli(where: str, argv: list[str]) -> None:
    """The dry run: drillbook's own argument parser accepts the exact command line."""
    assert argv[0] == "drillbook"
    try:
        args = build_parser().parse_args(argv[1:])
    except SystemExit as exc:  # argparse's way of rejecting
        pytest.fail(f"{where}: `{shlex.join(argv)}` is rejected by drillbook's parser ({exc})")
    assert callable(args.handler)


def subcommands() -> list[list[str]]:
    seen: dict[str, list[str]] = {}
    for _, argv in ALL_COMMANDS:
        path = argv[1:3] if argv[1] in ("env", "unannounced") else argv[1:2]
        seen.setdefault(" ".join(path), path)
    return list(seen.values())


@pytest.mark.parametrize("path", subcommands(), ids=" ".join)
def test_each_command_exists_in_the_installed_console_script(path: list[str]) -> None:
    executable = shutil.which("drillbook")
    prefix = [executable] if executable else [sys.executable, "-m", "drillbook"]
    done = subprocess.run([*prefix, *path, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage: drillbook" in done.stdout


def github_on(data: dict[Any, Any]) -> dict[str, Any]:
    return data.get("on") or data[True]  # YAML 1.1 reads the key `on` as true


def test_github_schedules_follow_the_dr_testing_schedule() -> None:
    crons = {
        p.name: [s["cron"] for s in github_on(yaml.safe_load(p.read_text()))["schedule"]] for p in GITHUB
    }
    assert crons == {
        "drill-monthly.yml": ["0 6 1-7 * *"],  # days 1-7 ...
        "drill-quarterly.yml": ["0 6 2 1,4,7,10 *"],
        "unannounced-due.yml": ["17 * * * *"],
    }
    monthly = yaml.safe_load((ROOT / "github" / "drill-monthly.yml").read_text())
    assert "date -u +%u" in monthly["jobs"]["gate"]["steps"][0]["run"]  # ... keeping the Monday
    assert monthly["jobs"]["drills"]["if"] == "needs.gate.outputs.run == 'true'"


@pytest.mark.parametrize("path", GITHUB, ids=lambda p: p.name)
def test_github_jobs_keep_the_evidence_and_fail_on_a_fail(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    job = next(j for j in data["jobs"].values() if any("drillbook" in s.get("run", "") for s in j["steps"]))
    steps = job["steps"]
    runners = [s for s in steps if re.search(r"drillbook (unannounced )?run\b", s.get("run", ""))]
    assert len(runners) == 1 and "continue-on-error" not in runners[0], "a FAIL must fail the job"
    assert "--junitxml=drill-results/junit-" in runners[0]["run"]
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert str(upload["if"]).startswith("always()")
    assert {"drill-results/", "drill-reports/"} <= set(upload["with"]["path"].split())
    report = next(s for s in steps if "drillbook report" in s.get("run", ""))
    assert str(report["if"]).startswith("always()")
    assert steps.index(report) < steps.index(upload)


def test_gitlab_jobs_keep_the_evidence_and_fail_on_a_fail() -> None:
    data = yaml.safe_load(GITLAB.read_text())
    jobs = {
        name: job
        for name, job in data.items()
        if not name.startswith(".") and isinstance(job, dict) and "rules" in job
    }
    assert set(jobs) == {"drill:monthly", "drill:quarterly", "unannounced:due"}
    evidence = data[".evidence"]["artifacts"]
    assert evidence["when"] == "always"
    assert evidence["reports"]["junit"] == "drill-results/junit-*.xml"
    assert {"drill-results/", "drill-reports/"} <= set(evidence["paths"])
    for name, job in jobs.items():
        assert ".evidence" in (job.get("extends"), *[t.get("extends") for t in _extends(data, job)]), name
        script = "\n".join(_resolved(data, job, "script"))
        assert re.search(r"drillbook (unannounced )?run\b", script), name
        assert "|| true" not in next(line for line in script.splitlines() if " run " in line), name
    schedules = {jobs[n]["variables"]["DRILL_TIER"] for n in ("drill:monthly", "drill:quarterly")}
    assert schedules == {"monthly", "quarterly"}


def due_steps() -> list[tuple[str, str]]:
    github = yaml.safe_load((ROOT / "github" / "unannounced-due.yml").read_text())
    step = next(s for s in github["jobs"]["unannounced"]["steps"] if s.get("id") == "due")
    gitlab = yaml.safe_load(GITLAB.read_text())["unannounced:due"]["script"][1]
    return [("github", step["run"]), ("gitlab", gitlab)]


def test_due_gates_use_the_documented_exit_codes() -> None:
    codes = f"{unannounced_cli.NO_SEALED}|{unannounced_cli.NOT_DUE})"
    for where, script in due_steps():
        assert codes in script, where


@pytest.mark.parametrize(("where", "script"), due_steps(), ids=["github", "gitlab"])
def test_the_due_gate_skips_quietly_when_nothing_is_sealed(where: str, script: str, tmp_path: Path) -> None:
    """Run the template's own shell with the real drillbook: no sealed plan is not an error."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "drillbook"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m drillbook "$@"\n')
    shim.chmod(0o755)
    output = tmp_path / "github-output"
    # The gitlab step runs the drill after the gate: without a sealed plan it must not get there.
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": f"{bindir}:/usr/bin:/bin", "GITHUB_OUTPUT": str(output), "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no sealed drill pending" in done.stdout
    if where == "github":
        assert output.read_text() == "due=false\n"
    assert not (tmp_path / "drill-results").exists()


def test_drillbook_run_exits_non_zero_on_a_fail(tmp_path: Path) -> None:
    """What makes every template's job fail on a FAIL: `drillbook run`'s exit code."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_fail.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.drill(scenario='broken', tier='monthly', rto='5s')\n"
        "def test_broken(drill):\n"
        "    drill.steady_state(lambda: True)\n"
        "    drill.verify('the data is there', False)\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "drillbook",
            "run",
            "--schedule",
            "monthly",
            "--suite",
            str(suite),
            "--drill-results",
            str(tmp_path / "results"),
            "--",
            f"--junitxml={tmp_path / 'junit.xml'}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout[-2000:]
    assert "FAIL" in done.stdout and 'failures="1"' in (tmp_path / "junit.xml").read_text()
