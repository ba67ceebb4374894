"""Fixtures for the report tests: the stored journals, fixed clocks, golden files.

Golden files live in tests/reports/golden/. To regenerate them after an
intended change, run ``DRILLBOOK_UPDATE_GOLDENS=1 pytest tests/reports`` and
review the diff.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drillbook.reports.options import Person, ReportOptions

REPO = Path(__file__).resolve().parents[2]
SUITE = Path("tests/fixtures/journals/suite")  # relative: golden files must not hold this machine's paths
GOLDEN = Path(__file__).resolve().parent / "golden"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
UPDATE = os.environ.get("DRILLBOOK_UPDATE_GOLDENS") == "1"

RUN_OLD = "2025-10-06-quarterly"
RUN_MONTHLY = "20261127T030656Z-c0948b"
RUN_ANNUAL = "20261127T030706Z-8a12f8"
RUN_C = "20261202T083550Z-718483"  # written after issue #17: people, causes, changes, kind; signed


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """History's row cache goes to a temporary directory, never to ~/.cache."""
    path = tmp_path / "cache"
    monkeypatch.setenv("DRILLBOOK_CACHE_DIR", str(path))
    return path


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(REPO)
    return REPO


@pytest.fixture
def options() -> ReportOptions:
    return ReportOptions(
        led_by="Dana Reyes",
        participants=(Person("Dana Reyes", "Incident Commander"), Person("Sam Okafor", "Database Admin")),
        owners={"default": "SRE on call", "procedures": "DevOps lead"},
        due_days={"critical": 7, "high": 14, "medium": 30, "procedures": 30, "training": 60},
    )


@pytest.fixture
def suite_copy(tmp_path: Path) -> Path:
    """A writable copy of the stored journal."""
    target = tmp_path / "journal"
    shutil.copytree(REPO / SUITE, target)
    return target


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(
                f"golden file {path} is missing; "
                "create it with DRILLBOOK_UPDATE_GOLDENS=1 pytest tests/reports"
            )
        path.write_text(text, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"{name} differs from its golden file; if the change is intended, run "
        "DRILLBOOK_UPDATE_GOLDENS=1 pytest tests/reports and review the diff"
    )


Golden = Callable[[str, str], None]


@pytest.fixture
def golden() -> Golden:
    return check_golden
