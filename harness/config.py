"""drillbook's configuration: ``drillbook.toml`` or ``[tool.drillbook]`` in pyproject.toml."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import InvalidDrillConfig

CONFIG_FILE = "drillbook.toml"


@dataclass
class Config:
    data: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def root(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def section(self, key: str) -> dict[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise InvalidDrillConfig(f"{self.where()}: [{key}] must be a table, not {type(value).__name__}")
        return value

    def where(self) -> str:
        return str(self.path) if self.path else "(no config file)"

    @property
    def hash(self) -> str:
        body = json.dumps(self.data, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()


def find_config(start: Path | None = None) -> Config:
    """The nearest ``drillbook.toml``, or a pyproject.toml with ``[tool.drillbook]``."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return Config(_read(candidate), candidate)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            data = _read(pyproject).get("tool", {}).get("drillbook")
            if data is not None:
                if not isinstance(data, dict):
                    raise InvalidDrillConfig(f"{pyproject}: [tool.drillbook] must be a table")
                return Config(data, pyproject)
    return Config()


def load_config(path: Path) -> Config:
    if not path.is_file():
        raise InvalidDrillConfig(f"config file {path} does not exist; pass an existing file")
    data = _read(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("drillbook", {})
    return Config(data, path)


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidDrillConfig(f"{path}: not valid TOML ({exc}); fix the syntax") from exc
