"""Which drill suite a command runs: the user's own by default, drillbook's reference suite
only when asked for or when there is nothing else.

In order: ``--suite PATH`` (``--suite reference`` is the reference suite); ``suite`` in
``drillbook.toml`` / ``[tool.drillbook]`` (a path relative to that file, or ``"reference"``);
``./drills`` when it exists; else the reference suite, with a note saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from drillbook.harness.config import Config, ConfigError, find_config
from drillbook.harness.errors import InvalidDrillConfig

REFERENCE = "reference"


@dataclass(frozen=True)
class Suite:
    path: Path
    #: Where the choice came from: "--suite", the config file's path, "./drills" or "reference".
    source: str
    #: One line for the user when the choice may surprise them (the reference suite by default).
    note: str | None = None

    @property
    def is_reference(self) -> bool:
        return self.path == reference_path()


def reference_path() -> Path:
    """drillbook's reference suite: the DR procedures' scenarios on the reference platform."""
    import drillbook.drills

    # Not resolved: the package's own path names its modules ``drillbook.drills.*``.
    return Path(drillbook.drills.__file__).parent


def resolve_suite(arg: str | Path | None, config: Config | None = None, cwd: Path | None = None) -> Suite:
    """The suite to run; a path that does not exist raises naming it and the fix."""
    here = cwd or Path.cwd()
    if arg is not None:
        if str(arg) == REFERENCE:
            return Suite(reference_path(), "--suite")
        path = Path(arg)
        path = path if path.is_absolute() else here / path
        if not path.exists():
            raise InvalidDrillConfig(
                f"--suite {arg}: no such file or directory; pass a drill file or directory, or reference"
            )
        return Suite(_canonical(path), "--suite")
    config = config if config is not None else find_config(here)
    configured = config.get("suite")
    if configured is not None:
        if not isinstance(configured, str) or not configured.strip():
            raise ConfigError(
                f'{config.where()}: suite must be a path (a string such as "drills") or "reference", '
                f"not {configured!r}"
            )
        if configured == REFERENCE:
            return Suite(reference_path(), config.where())
        path = Path(configured)
        path = path if path.is_absolute() else config.root / path
        if not path.exists():
            raise ConfigError(
                f"{config.where()}: suite = {configured!r}: {path} does not exist; "
                "create it (drillbook init) or fix the path"
            )
        return Suite(_canonical(path), config.where())
    local = here / "drills"
    if local.is_dir():
        return Suite(_canonical(local), "./drills")
    return Suite(
        reference_path(),
        REFERENCE,
        note=(
            "no suite configured and no ./drills here: running drillbook's reference suite "
            '(set suite = "PATH" in drillbook.toml, pass --suite PATH, or start one with drillbook init)'
        ),
    )


def _canonical(path: Path) -> Path:
    """The reference suite by its package path however it is named (this repository's
    ``drills/`` is the same directory): pytest then imports its modules as
    ``drillbook.drills.*``, the names its own imports use, never a second copy as ``drills.*``."""
    reference = reference_path()
    try:
        inside = path.resolve().relative_to(reference.resolve())
    except ValueError:
        return path
    return reference / inside
