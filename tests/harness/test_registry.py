"""The fault registry reads the entry point group; a duplicate name is an error."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness import registry
from drillbook.harness.errors import DuplicateFault, UnknownFault

FAKE = '''
from drillbook.faults.noop import NoopFault


class Impostor(NoopFault):
    """Claims a name that is taken."""

    name = "noop"
'''


PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def declared_faults() -> set[str]:
    """The fault entry points this checkout's pyproject.toml declares."""
    return set(tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"][registry.GROUP])


def distribution(root: Path, monkeypatch: pytest.MonkeyPatch, name: str, entry_point: str) -> Iterator[None]:
    """Another installed distribution on sys.path (its dist-info in ``root``) registering
    ``entry_point`` in the fault group; the registry reads the entry points afresh."""
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{registry.GROUP}]\n{entry_point}\n")
    monkeypatch.syspath_prepend(str(root))
    registry.registered_faults.cache_clear()
    yield
    registry.registered_faults.cache_clear()


@pytest.fixture
def impostor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A second distribution on sys.path registering another fault called "noop"."""
    (tmp_path / "impostor_faults.py").write_text(FAKE)
    yield from distribution(tmp_path, monkeypatch, "impostor-faults", "impostor = impostor_faults:Impostor")
    sys.modules.pop("impostor_faults", None)


def test_every_registered_fault_loads() -> None:
    faults = registry.registered_faults()
    assert {"noop", "process_pause", "process_kill", "postgres_table_loss"} <= set(faults)


def test_a_duplicate_name_is_an_error_naming_both(impostor: None) -> None:
    with pytest.raises(DuplicateFault) as info:
        registry.registered_faults()
    message = str(info.value)
    assert "'noop' is registered twice" in message and "impostor_faults:Impostor" in message


def test_an_unknown_name_lists_the_registered_ones() -> None:
    with pytest.raises(UnknownFault, match=r"no registered fault named .nope. \(registered: .*noop"):
        registry.build("nope", {})


def test_rebuilt_from_params() -> None:
    fault = registry.build("noop", {"label": "x"})
    assert fault.describe() == {"label": "x"}


@pytest.fixture
def broken_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A distribution whose entry point names a module that is gone (a stale install)."""
    gone = "vanished = stale_faults_gone.module:Vanished"
    yield from distribution(tmp_path, monkeypatch, "stale-faults", gone)


def test_a_broken_entry_point_is_skipped_with_a_warning_naming_it_and_the_fix(broken_plugin: None) -> None:
    with pytest.warns(registry.BrokenEntryPoint) as caught:
        faults = registry.registered_faults()
    assert {"noop", "process_kill"} <= set(faults)  # the other faults still load
    (message,) = [str(w.message) for w in caught if "vanished" in str(w.message)]
    assert "vanished = stale_faults_gone.module:Vanished" in message and "stale-faults" in message
    assert "ModuleNotFoundError" in message and "reinstall" in message
    # Besides the plug-in's, only entry points this checkout no longer declares may be broken: an
    # editable install older than the checkout still names the faults retired since.
    assert "vanished" in registry.broken()
    assert not (set(registry.broken()) - {"vanished"}) & declared_faults()
    with pytest.raises(UnknownFault, match=r"skipped: fault entry point vanished"):
        registry.build("vanished", {})
