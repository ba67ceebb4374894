"""Trees discarded in the background: gone from their path at once, deleted soon after,
even when the process that discarded them exits at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from drillbook.twin.trash import discard_tree, pending


def tree(root: Path, files: int = 200) -> Path:
    path = root / "data"
    (path / "base" / "1").mkdir(parents=True)
    for n in range(files):
        (path / "base" / "1" / str(n)).write_bytes(b"x" * 8192)
    return path


def wait_gone(directory: Path, timeout: float = 20.0) -> list[Path]:
    deadline = time.monotonic() + timeout
    while (left := pending(directory)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_the_path_is_free_at_once_and_the_files_are_deleted_soon(tmp_path: Path) -> None:
    path = tree(tmp_path)
    discard_tree(path)
    assert not path.exists()
    path.mkdir()  # a new tree can take the name straight away
    assert wait_gone(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_the_deleting_outlives_the_process_that_discarded(tmp_path: Path) -> None:
    path = tree(tmp_path, files=2000)
    code = (
        "import sys; from pathlib import Path;"
        "from drillbook.twin.trash import discard_tree;"
        "discard_tree(Path(sys.argv[1]))"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=30)
    assert not path.exists()
    assert wait_gone(tmp_path) == []


def test_leftovers_are_swept_by_the_next_discard(tmp_path: Path) -> None:
    leftover = tmp_path / ".old.discarded-0123456789ab"
    (leftover / "x").mkdir(parents=True)
    discard_tree(tree(tmp_path))
    assert wait_gone(tmp_path) == []


def test_a_missing_path_is_not_an_error(tmp_path: Path) -> None:
    discard_tree(tmp_path / "never-was")
    assert list(tmp_path.iterdir()) == []
