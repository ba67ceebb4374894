"""drillbook's configuration: ``drillbook.toml`` or ``[tool.drillbook]`` in pyproject.toml.

Secrets are never written in it, only referenced (an environment variable name,
a Secrets Manager secret id): a file that holds one inline is refused when it is
read, with an error naming the key and the fix. :class:`Table` reads one table
with typed, named errors; the environment profiles' schema is built on it
(:mod:`drillbook.harness.environments.profile`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from drillbook.harness.durations import parse_duration
from drillbook.harness.errors import InvalidDrillConfig

CONFIG_FILE = "drillbook.toml"
#: Set by ``drillbook run`` for its pytest: the configuration the command read (empty: none), so
#: that the drills run with the user's profiles, wherever the suite lies (the reference suite's
#: own checkout has a drillbook.toml of its own).
CONFIG_VARIABLE = "DRILLBOOK_CONFIG"
T = TypeVar("T")


class ConfigError(InvalidDrillConfig):
    """A configuration value is missing, of the wrong type, or unacceptable."""


class InlineSecret(ConfigError):
    """A secret (password, token, a URL with a password) is written in the configuration."""


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

    def environment_names(self) -> list[str]:
        return sorted(self.section("environments"))

    def environment(self, name: str) -> Table | None:
        """The ``[environments.<name>]`` table, or None when it is not defined."""
        raw = self.section("environments").get(name)
        if raw is None:
            return None
        where = f"[environments.{name}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{self.where()}: {where} must be a table, not {_kind(raw)}")
        return Table(raw, where, self.where())


def find_config(start: Path | None = None) -> Config:
    """The nearest ``drillbook.toml``, or a pyproject.toml with ``[tool.drillbook]``."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return _checked(Config(_read(candidate), candidate))
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            data = _read(pyproject).get("tool", {}).get("drillbook")
            if data is not None:
                if not isinstance(data, dict):
                    raise InvalidDrillConfig(f"{pyproject}: [tool.drillbook] must be a table")
                return _checked(Config(data, pyproject))
    return Config()


def config_for_run(start: Path) -> Config:
    """The configuration a drill run uses: the one its ``drillbook`` command read
    (:data:`CONFIG_VARIABLE`), else the nearest to ``start``."""
    given = os.environ.get(CONFIG_VARIABLE)
    if given is None:
        return find_config(start)
    return load_config(Path(given)) if given else Config()


def config_env(config: Config) -> dict[str, str]:
    """The environment that makes a child drill run use ``config`` (see :func:`config_for_run`)."""
    return {CONFIG_VARIABLE: str(config.path.resolve()) if config.path else ""}


def load_config(path: Path) -> Config:
    if not path.is_file():
        raise InvalidDrillConfig(f"config file {path} does not exist; pass an existing file")
    data = _read(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("drillbook", {})
    return _checked(Config(data, path))


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidDrillConfig(f"{path}: not valid TOML ({exc}); fix the syntax") from exc
    except UnicodeDecodeError as exc:
        raise InvalidDrillConfig(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as "
                                 "UTF-8") from exc
    except OSError as exc:
        raise InvalidDrillConfig(f"{path}: cannot be read ({exc.strerror or exc})") from exc


# -- secrets only by reference ----------------------------------------------------------

# Keys whose value would be the secret itself. ``<key>_env`` / ``<key>_secret`` name it instead.
_SECRET_KEY = re.compile(
    r"^(?:.*_)?(pass|passwd|password|secret|token|api_?key|access_?key|secret_?key|secret_access_key|"
    r"private_?key|client_secret)$",
    re.IGNORECASE,
)
_REFERENCE_SUFFIXES = (
    "_env",
    "_secret",
    "_secret_id",
    "_secret_key",
    "_ref",
    "_arn",
    "_file",
    "_id",
    "_name",
)
_URL_WITH_PASSWORD = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:[^@\s/]+@")
_KV_PASSWORD = re.compile(r"\b(password|passwd|pwd)\s*=\s*\S+", re.IGNORECASE)


def _checked(config: Config) -> Config:
    check_no_inline_secrets(config.data, config.where())
    return config


def check_no_inline_secrets(data: Any, where: str, path: tuple[str, ...] = ()) -> None:
    """Refuse a secret written inline anywhere in ``data`` (keys and string values)."""
    if isinstance(data, dict):
        for key, value in data.items():
            here = (*path, str(key))
            if isinstance(value, str) and value and _is_secret_key(str(key)):
                raise InlineSecret(
                    f"{where}: {_dotted(here)} holds a secret inline; drillbook.toml only references "
                    f'secrets: remove it and set {key}_env = "VARIABLE" (an environment variable) or '
                    f'{key}_secret = "secret-id" (a Secrets Manager secret)'
                )
            check_no_inline_secrets(value, where, here)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            check_no_inline_secrets(value, where, (*path, f"[{index}]"))
    elif isinstance(data, str) and (_URL_WITH_PASSWORD.search(data) or _KV_PASSWORD.search(data)):
        key = path[-1] if path else "value"
        base = key[:-4] if key.endswith("_url") else key
        raise InlineSecret(
            f"{where}: {_dotted(path)} holds a password inline; put the whole URL in an environment "
            f'variable and set {base}_env = "VARIABLE" (e.g. url_env = "DATABASE_URL"), or store it in '
            f'Secrets Manager and set {base}_secret = "secret-id"'
        )


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    if lowered.endswith(_REFERENCE_SUFFIXES):
        return False
    return bool(_SECRET_KEY.match(lowered))


def _dotted(path: Iterable[str]) -> str:
    parts = list(path)
    if len(parts) <= 1:
        return "".join(parts) or "(top level)"
    return f"[{'.'.join(parts[:-1])}] {parts[-1]}"


# -- typed reading of one table ----------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{type(value).__name__} {value!r}"


class Table:
    """One TOML table read with types: every error names the file, the table, the key,
    the expected type and an example of the fix. ``finish()`` rejects unknown keys."""

    def __init__(self, data: dict[str, Any], where: str, file: str = "(no config file)") -> None:
        self.data = data
        self.where = where  # "[environments.staging.database]"
        self.file = file
        self._read: set[str] = set()

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def keys(self) -> list[str]:
        return list(self.data)

    def error(self, key: str | None, message: str) -> ConfigError:
        at = " ".join(part for part in (self.where, key) if part) or "(top level)"
        return ConfigError(f"{self.file}: {at}: {message}")

    def _value(self, key: str, required: bool, example: str) -> Any:
        self._read.add(key)
        if key in self.data:
            return self.data[key]
        if required:
            raise self.error(key, f"is missing; add it, e.g. {key} = {example}")
        return None

    def text(
        self,
        key: str,
        default: str | None = None,
        *,
        required: bool = False,
        example: str = '"..."',
        choices: Iterable[str] | None = None,
    ) -> str | None:
        value = self._value(key, required, example)
        if value is None:
            return default
        if not isinstance(value, str) or not value:
            raise self.error(key, f"expected a non-empty string, got {_kind(value)}; e.g. {key} = {example}")
        if choices is not None:
            allowed = tuple(choices)
            if value not in allowed:
                raise self.error(key, f"expected one of {', '.join(map(repr, allowed))}, got {value!r}")
        return value

    def required_str(self, key: str, *, example: str = '"..."', choices: Iterable[str] | None = None) -> str:
        value = self.text(key, required=True, example=example, choices=choices)
        assert value is not None
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self._value(key, False, "true")
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {_kind(value)}; e.g. {key} = true")
        return value

    def integer(
        self, key: str, default: int | None = None, *, minimum: int = 0, required: bool = False
    ) -> int | None:
        value = self._value(key, required, str(max(minimum, 1)))
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(
                key,
                f"expected a whole number >= {minimum}, got {_kind(value)}; e.g. {key} = {max(minimum, 1)}",
            )
        return value

    def number(
        self, key: str, default: float | None = None, *, minimum: float = 0.0, maximum: float | None = None
    ) -> float | None:
        value = self._value(key, False, "50")
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or value < minimum
            or (maximum is not None and value > maximum)
        ):
            bound = f"between {minimum:g} and {maximum:g}" if maximum is not None else f">= {minimum:g}"
            raise self.error(key, f"expected a number {bound}, got {_kind(value)}")
        return float(value)

    def duration(self, key: str, default: float) -> float:
        value = self._value(key, False, '"30s"')
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(
                key, f'expected a duration like "30s" or a number of seconds, got {_kind(value)}'
            )
        try:
            seconds = parse_duration(value, what=key)
        except (InvalidDrillConfig, ValueError) as exc:
            raise self.error(key, f'expected a duration like "30s", "5m" or seconds ({exc})') from None
        if seconds <= 0:
            raise self.error(key, f"must be longer than zero, got {value!r}")
        return seconds

    def strings(self, key: str, *, required: bool = False, example: str = '["a", "b"]') -> tuple[str, ...]:
        value = self._value(key, required, example)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, f"expected an array of strings, got {_kind(value)}; e.g. {key} = {example}")
        return tuple(value)

    def table(self, key: str) -> Table | None:
        value = self._value(key, False, "{ ... }")
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {_kind(value)}; write it as [{self._inner(key)}]")
        return Table(value, f"[{self._inner(key)}]", self.file)

    def tables(self, key: str) -> dict[str, Table]:
        """A table of tables (``[limits.<fault>]``), by key."""
        outer = self.table(key)
        if outer is None:
            return {}
        return {name: t for name in list(outer.data) if (t := outer.table(name)) is not None}

    def _inner(self, key: str) -> str:
        base = self.where.strip("[]")
        return f"{base}.{key}" if base else key

    def finish(self, *, ignore: Iterable[str] = ()) -> None:
        """Reject keys nothing read: most often a typo."""
        skip = set(ignore)
        for key in self.data:
            if key in self._read or key in skip:
                continue
            known = sorted(self._read | skip)
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known) or 'none'}"
            raise self.error(key, f"is not a known key here; {hint}")
