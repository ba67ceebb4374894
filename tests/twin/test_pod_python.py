"""Pods start ``python -S``: their packages come from ``DRILLBOOK_SITE_PACKAGES``, which the
supervisor fills from its own interpreter's path."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import drillbook
from drillbook.twin.service import SITE_PACKAGES
from drillbook.twin.supervisor.process import package_dirs

ROOT = str(Path(drillbook.__file__).parent.parent)
IMPORTS = "import drillbook.twin.service.api, psycopg; print('imported')"


def pod(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ROOT, **env_extra}
    return subprocess.run([sys.executable, "-S", "-c", IMPORTS], env=env, capture_output=True, text=True,
                          timeout=60)


def test_the_directories_after_the_standard_library_are_the_packages() -> None:
    stdlib = sysconfig.get_path("stdlib")
    path = ["", "/opt/py/lib/python311.zip", stdlib, str(Path(stdlib) / "lib-dynload"),
            "/venv/lib/python3.11/site-packages", "/src/from-a-pth-file", "x.finder.__path_hook__"]
    assert package_dirs(path) == ["/venv/lib/python3.11/site-packages", "/src/from-a-pth-file"]
    # An interpreter laid out otherwise: the site-packages and dist-packages entries.
    other = ["/a", "/b/site-packages", "/c/dist-packages"]
    assert package_dirs(other) == ["/b/site-packages", "/c/dist-packages"]


def test_a_pod_imports_its_packages_from_the_variable() -> None:
    done = pod({SITE_PACKAGES: os.pathsep.join(package_dirs())})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported"


def test_without_the_variable_a_pod_runs_site_itself_and_with_it_empty_it_finds_nothing() -> None:
    assert pod({}).returncode == 0
    empty = pod({SITE_PACKAGES: ""})
    assert empty.returncode != 0
    assert "ModuleNotFoundError" in empty.stderr
