"""``drillbook init``: a project's first suite, which passes as written, and never an
overwritten file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from drillbook.harness import pg
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.scaffold import Options, database_variable, planned
from tests.servers import HttpServer

SCAFFOLD = {
    "drillbook.toml",
    "drills/test_example.py",
    ".github/workflows/drill-monthly.yml",
    ".github/workflows/drill-quarterly.yml",
    ".github/workflows/unannounced-due.yml",
}


def drillbook(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DRILLBOOK_"))}
    return subprocess.run(
        [sys.executable, "-m", "drillbook", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def written(root: Path) -> set[str]:
    return {
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "drill-results" not in p.parts
    }


def test_init_into_an_empty_directory_then_run_passes(tmp_path: Path) -> None:
    done = drillbook("init", "project", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    project = tmp_path / "project"
    assert written(project) == SCAFFOLD
    run = drillbook("run", cwd=project)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "drills/test_example.py::test_web_server_freeze PASSED" in out
    assert "reference suite" not in out
    assert list((project / "drill-results").glob("*.json")), "the run journals its drill"


def test_init_again_refuses_naming_every_file_and_changes_nothing(tmp_path: Path) -> None:
    assert drillbook("init", cwd=tmp_path).returncode == 0
    (tmp_path / "drills" / "test_example.py").write_text("# mine\n")
    done = drillbook("init", cwd=tmp_path)
    assert done.returncode != 0
    for name in SCAFFOLD:
        assert name in done.stderr
    assert "--force" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "drills" / "test_example.py").read_text() == "# mine\n"
    forced = drillbook("init", "--force", cwd=tmp_path)
    assert forced.returncode == 0
    assert "def test_web_server_freeze" in (tmp_path / "drills" / "test_example.py").read_text()


def test_a_project_configured_in_pyproject_is_not_given_a_second_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.drillbook]\nsuite = "dr"\n')
    done = drillbook("init", cwd=tmp_path)
    assert done.returncode != 0 and "[tool.drillbook]" in done.stderr
    assert not (tmp_path / "drillbook.toml").exists()


@pytest.mark.parametrize("value", ["$STAGING_DB", "${STAGING_DB}", "env:STAGING_DB", "STAGING_DB"])
def test_the_database_is_named_by_a_variable(value: str) -> None:
    assert database_variable(value) == "STAGING_DB"


@pytest.mark.parametrize("value", ["postgresql://app:secret@db/app", "postgres://db/app", "not a name", ""])
def test_a_database_url_itself_is_refused(value: str) -> None:
    with pytest.raises(InvalidDrillConfig, match="never the URL itself"):
        database_variable(value)


def test_a_database_url_on_the_command_line_is_refused_and_nothing_written(tmp_path: Path) -> None:
    done = drillbook(
        "init",
        "--service-url",
        "http://127.0.0.1:1/",
        "--database-url",
        "postgresql://app:hunter2@db/app",
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "never the URL itself" in done.stderr
    assert "hunter2" not in done.stdout + done.stderr
    assert written(tmp_path) == set()


def test_the_service_example_probes_the_service_and_its_ledger_writes_to_the_named_database(
    tmp_path: Path, http_server: HttpServer, pg_database: str
) -> None:
    done = drillbook(
        "init",
        "--service-url",
        http_server.url,
        "--database-url",
        "$EXAMPLE_DB",
        "--ci",
        "none",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "drills" / "test_example.py").read_text()
    assert http_server.url in text and "EXAMPLE_DB" in text and "postgresql://" not in text
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DRILLBOOK_"))}
    env["EXAMPLE_DB"] = pg_database
    run = subprocess.run(
        [sys.executable, "-m", "drillbook", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "test_service_link_cut PASSED" in out
    journal = next((tmp_path / "drill-results").glob("*.json")).read_text()
    assert json.loads(journal)["measured"]["acked_writes"] is not None
    assert int(pg.query(pg_database, "SELECT count(*) FROM drillbook_ledger")[0][0]) > 0
    assert pg_database not in journal


def test_without_the_variable_the_service_example_says_what_to_set(
    tmp_path: Path, http_server: HttpServer
) -> None:
    assert (
        drillbook(
            "init",
            "--service-url",
            http_server.url,
            "--database-url",
            "NOT_SET_ANYWHERE",
            "--ci",
            "none",
            cwd=tmp_path,
        ).returncode
        == 0
    )
    run = drillbook("run", cwd=tmp_path)
    assert "set NOT_SET_ANYWHERE" in run.stdout


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_the_ci_files_are_valid_and_install_drillbook_not_the_project(ci: str) -> None:
    files = {name: text for name, text in planned(Options(ci=ci)).items() if name.endswith(".yml")}
    assert files
    for name, text in files.items():
        yaml.safe_load(text)
        assert "pip install -e ." not in text, name
        assert "pip install drillbook" in text, name
        assert "drillbook run" in text or "drillbook unannounced" in text, name


def test_the_config_it_writes_loads_with_a_staging_profile_in_comments() -> None:
    import tomllib

    text = planned(Options())["drillbook.toml"]
    data = tomllib.loads(text)
    assert data["suite"] == "drills" and "local" in data["environments"]
    for key in ("instance_id", "deployment", "selector", "hosted_zone_id", "proxies", "bucket", "rotate"):
        assert f"# {key} = " in text, key
