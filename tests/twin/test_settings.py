"""[environments.local] settings: defaults, overrides, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.harness.config import Config
from drillbook.harness.environments.factory import build_environment
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.twin.driven import DrivenLocalEnvironment
from drillbook.twin.environment import LocalEnvironment
from drillbook.twin.sample_data import parse_size
from drillbook.twin.settings import LocalSettings


def config(**local: object) -> Config:
    return Config({"environments": {"local": local}}, Path("/x/drillbook.toml"))


def test_defaults_and_values_from_config() -> None:
    assert LocalSettings.from_config(None) == LocalSettings()
    settings = LocalSettings.from_config(config(data_size="100MB", replicas=4, snapshot_interval="15min",
                                                archive_timeout="5s", zones=["az-a", "az-b", "az-c"]))
    assert (settings.data_size, settings.replicas, settings.snapshot_interval_s, settings.archive_timeout_s,
            settings.zones) == ("100MB", 4, 900.0, 5.0, ("az-a", "az-b", "az-c"))
    assert LocalSettings.from_config(config(replicas=2), replicas=5).replicas == 5
    assert LocalSettings().multi_az and not LocalSettings.from_config(config(multi_az=False)).multi_az


@pytest.mark.parametrize(("key", "value", "message"), [
    ("replica", 3, "has no setting 'replica'"),
    ("replicas", 0, "positive whole number"),
    ("replicas", True, "positive whole number"),
    ("snapshot_interval", "soon", "snapshot_interval_s"),
    ("data_size", "huge", "data size 'huge' is not understood"),
    ("zones", [], "list of zone names"),
    ("multi_az", "yes", "must be true or false"),
])
def test_bad_settings_name_the_key_and_the_fix(key: str, value: object, message: str) -> None:
    with pytest.raises(InvalidDrillConfig, match=message):
        LocalSettings.from_config(config(**{key: value}))


def test_sizes() -> None:
    assert parse_size("1GB") == 1024**3 and parse_size("100MB") == 100 * 1024**2
    assert parse_size("2.5MB") == int(2.5 * 1024**2) and parse_size("512KB") == 512 * 1024
    with pytest.raises(InvalidDrillConfig, match="too small"):
        parse_size("1KB")


def test_the_factory_builds_the_local_environment_under_the_state_dir(tmp_path: Path) -> None:
    env = build_environment("local", config(replicas=2), tmp_path)
    assert isinstance(env, DrivenLocalEnvironment) and isinstance(env.twin, LocalEnvironment)
    assert env.state_dir == tmp_path / "local" and env.twin.settings.replicas == 2
    assert not env.is_up() and env.status() == [] and env.phase() == "down"
    assert not env.has("database")
