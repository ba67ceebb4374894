"""The directories that hold data directories, snapshots and spare copies carry ext4's TOPDIR
flag, so that each new one starts in a block group of its own (drillbook/twin/spread.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.twin import pg_template
from drillbook.twin.spread import is_spread, spread, supported


@pytest.fixture
def flagged(tmp_path: Path) -> Path:
    """``tmp_path``, where its file system has the flag (else the test is skipped)."""
    if not supported(tmp_path):
        pytest.skip(f"{tmp_path}'s file system has no TOPDIR flag")
    return tmp_path


def test_spread_sets_the_flag_once_and_makes_the_directory(flagged: Path) -> None:
    target = flagged / "a" / "b"
    assert spread(target) == target and target.is_dir()
    assert is_spread(target)
    spread(target)  # again: nothing changes, nothing fails
    assert is_spread(target)
    assert not is_spread(flagged / "a")  # only the directory asked for


def test_where_flags_do_not_exist_spread_only_makes_the_directory() -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir():
        pytest.skip("no /dev/shm (tmpfs) here")
    target = shm / f"drillbook-spread-test-{id(shm)}"
    try:
        spread(target)
        assert target.is_dir() and not is_spread(target) and not supported(shm)
    finally:
        target.rmdir()


def test_the_spares_of_a_template_are_spread(flagged: Path) -> None:
    source = flagged / "name" / "data"
    source.mkdir(parents=True)
    (source / "PG_VERSION").write_text("15\n")
    (flagged / "name" / pg_template.COMPLETE).write_text("")
    assert pg_template.refill(source, want=1) == 1
    assert is_spread(pg_template.spares_dir(source))
