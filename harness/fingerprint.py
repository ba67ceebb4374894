"""The environment fingerprint recorded in every journal record."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

_extra: dict[str, str] = {}


def add_component_version(name: str, value: str) -> None:
    """Let an environment record the version of something it uses (e.g. PostgreSQL)."""
    _extra[name] = value


def drillbook_version() -> str:
    try:
        return version("drillbook")
    except PackageNotFoundError:
        return "unknown"


def git_sha(path: Path) -> str | None:
    """The commit of the drill suite at ``path`` (with ``-dirty`` if it has changes)."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha


def fingerprint(suite_path: Path, config_hash: str) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "drillbook": drillbook_version(),
        "pytest": _pkg("pytest"),
        "psycopg": _pkg("psycopg"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "executable": sys.executable,
        "git_sha": git_sha(suite_path),
        "config_hash": config_hash,
        **_extra,
    }


def _pkg(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None
