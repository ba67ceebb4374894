"""Bad input never shows a traceback: every command that reads a journal names the damaged file and
what is wrong and exits 2; a bad drillbook.toml stops `drillbook run` once, before collecting."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from drillbook.harness import journal

SUITE = Path(__file__).parents[1] / "fixtures" / "journals" / "suite"


def drillbook(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drillbook", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def truncated(path: Path) -> str:
    path.write_bytes(path.read_bytes()[:300])
    return "not valid JSON"


def not_utf8(path: Path) -> str:
    path.write_bytes(b"\xff\xfe" + path.read_bytes()[2:])
    return "not UTF-8 text"


def an_array(path: Path) -> str:
    path.write_text("[1, 2, 3]\n")
    return "a JSON list, not a record"


def wrong_type(path: Path) -> str:
    text = path.read_text()
    path.write_text(text.replace('"rto_s":', '"rto_s":"fast","was_rto_s":', 1))
    return "measured.rto_s is a string"


DAMAGE: dict[str, Callable[[Path], str]] = {
    "truncated": truncated,
    "not utf-8": not_utf8,
    "an array": an_array,
    "a wrong type": wrong_type,
}

COMMANDS = {
    "verify": ("verify", "results"),
    "report": ("report", "--results", "results", "-o", "out"),
    "history": ("history", "--results", "results", "--no-cache", "--format", "table,html,csv", "-o", "out"),
    "postmortem": ("postmortem", "latest", "--results", "results", "-o", "out"),
    "unannounced verify": ("unannounced", "verify", "--drill-results", "results"),
    "unannounced due": ("unannounced", "due", "--drill-results", "results"),
    "readiness": ("readiness", "--results", "results", "--suite", "drills"),
    "run": ("run", "--drill-results", "results", "--suite", "drills"),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(SUITE, tmp_path / "results")
    (tmp_path / "drills").mkdir()
    (tmp_path / "drills" / "test_nothing.py").write_text(
        "import pytest\n\n@pytest.mark.drill(scenario='nothing', tier='monthly')\n"
        "def test_nothing(drill):\n    drill.steady_state(lambda: True)\n"
    )
    return tmp_path


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_damaged_latest_record_is_named_by_every_command(project: Path, command: str) -> None:
    latest = journal.record_files(project / "results")[-1]
    what = truncated(latest)
    done = drillbook(project, *COMMANDS[command])
    out = done.stdout + done.stderr
    assert "Traceback" not in out, out
    assert done.returncode == 2, out
    assert latest.name in out and what in out, out
    assert not (project / "out").exists() or not any((project / "out").rglob("*")), "a partial output"


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("command", ["report", "history", "postmortem", "unannounced verify"])
def test_each_kind_of_damage_is_named(project: Path, command: str, damage: str) -> None:
    if command == "unannounced verify" and damage == "a wrong type":
        pytest.skip("reads only the commitments: a wrong measurement is not its input")
    # The newest drill record (the stored journal ends with sign-offs, which carry no measurement).
    files = journal.record_files(project / "results")
    latest = [p for p in files if '"kind":"signoff"' not in p.read_text()][-1]
    what = DAMAGE[damage](latest)
    done = drillbook(project, *COMMANDS[command])
    out = done.stdout + done.stderr
    assert "Traceback" not in out and done.returncode == 2, out
    assert latest.name in out and what in out, out


def test_verify_tells_a_changed_record_from_a_damaged_one(project: Path) -> None:
    second = journal.record_files(project / "results")[1]
    second.write_text(second.read_text().replace('"PASS"', '"FAIL"', 1))
    changed = drillbook(project, "verify", "results")
    assert changed.returncode == 1 and "BROKEN at record 2" in changed.stdout
    assert "content does not match its hash" in changed.stdout


BAD_CONFIG = {
    "[environments.local]\nreplicas = 'x'\n": "environments.local.replicas must be a positive whole number",
    "[targets.database]\nrto = 'soon'\n": "drillbook.toml: [targets.database]) 'soon': use one of",
    "probe_interval = 'zz'\n": "drillbook.toml: probe_interval 'zz': use one of",
    "[environments.local\n": "not valid TOML",
    "[environments.staging]\nproduction = 'yes'\n": "[environments.staging] production: expected true or",
}
DRILLS = "".join(
    f"\n@pytest.mark.drill(scenario='drill {n}', tier='monthly', component='database')\n"
    f"def test_drill_{n}(drill, env):\n    pass\n"
    for n in range(3)
)


@pytest.mark.parametrize("config", sorted(BAD_CONFIG))
def test_a_bad_configuration_stops_the_run_once_before_collecting(tmp_path: Path, config: str) -> None:
    (tmp_path / "drillbook.toml").write_text(config)
    (tmp_path / "drills").mkdir()
    (tmp_path / "drills" / "test_three.py").write_text("import pytest\n" + DRILLS)
    env = ("--env", "staging") if "staging" in config else ()
    done = drillbook(tmp_path, "run", *env)
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert "Traceback" not in out and "test session starts" not in out, out
    assert out.count("error:") == 1 and BAD_CONFIG[config] in out, out
    assert "drillbook.toml" in out
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "drills"]
    argv += ["--drill-env", "staging"] if env else []
    plain = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = plain.stdout + plain.stderr
    assert plain.returncode == 4 and "Traceback" not in out, out
    assert out.count(BAD_CONFIG[config]) == 1 and "collected" not in out, out
