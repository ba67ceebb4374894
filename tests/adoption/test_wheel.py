"""The wheel: one top-level import name, its package data, and the reference suite running
from it in a fresh virtual environment, from another directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.twin.dataplane_support import server_tmp

ROOT = Path(__file__).resolve().parents[2]
SKIP = {
    ".git",
    ".drillbook",
    "drill-results",
    "build",
    "dist",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "drillbook.egg-info",
}
DATA = (
    "drillbook/twin/schema.sql",
    "drillbook/reports/templates/report.html.j2",
    "drillbook/harness/plan/templates/plan.md.j2",
    "drillbook/harness/scaffold/templates/drillbook.toml.j2",
    "drillbook/ci_templates/github/drill-monthly.yml",
    "drillbook/drills/conftest.py",
    "drillbook/py.typed",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel --no-deps .`` of a copy of this checkout (the build leaves nothing in it)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=lambda _d, names: [n for n in names if n in SKIP])
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", ".", "-w", str(base / "dist")],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (found,) = (base / "dist").glob("drillbook-*.whl")
    return found


def test_the_wheel_has_one_top_level_name_and_its_package_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"drillbook"}, tops
    for data in DATA:
        assert data in names, data
    entry_points = (
        zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    )
    for line in entry_points.splitlines():
        if "=" in line:
            assert line.split("=", 1)[1].strip().startswith("drillbook."), line


@pytest.fixture
def elsewhere() -> Iterator[Path]:
    """The user's project directory: outside pytest's temporary tree, since the environment's
    PostgreSQL servers run as another user who must reach their data directories under it even
    when another pytest session (an xdist worker's inner run) resets /tmp/pytest-of-root to 0700."""
    with server_tmp("wheel-project") as path:
        yield path


def test_installed_from_the_wheel_the_reference_suite_runs_from_another_directory(
    wheel: Path, tmp_path: Path, elsewhere: Path
) -> None:
    # The dependencies come from this interpreter's site-packages; drillbook only from the wheel.
    home = tmp_path / "venv"
    venv.create(home, system_site_packages=True, with_pip=True)
    python = home / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DRILLBOOK_", "PYTHONPATH"))}
    env["PATH"] = f"{home / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    def drillbook(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(home / "bin" / "drillbook"), *args],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    where = subprocess.run(
        [str(python), "-c", "import drillbook; print(drillbook.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert where.stdout.startswith(str(home)), where.stdout + where.stderr
    try:
        run = drillbook("run", "--suite", "reference", "--", "-k", "deployment")
        out = run.stdout + run.stderr
        assert run.returncode == 0, out
        assert "test_deploy_from_scratch PASSED" in out
        report = drillbook("report", "--latest", "--format", "html,md", "-o", "reports", timeout=120)
        assert report.returncode == 0, report.stdout + report.stderr
        assert list((elsewhere / "reports").rglob("*.html"))
    finally:
        drillbook("env", "down", timeout=120)
