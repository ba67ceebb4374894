"""Options shared by ``drillbook report``, ``history`` and ``postmortem``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from drillbook.harness.config import Config, find_config, load_config
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.reports.options import ReportOptions, from_config


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--results",
        metavar="DIR",
        type=Path,
        default=None,
        help="journal directory (default: the config's results_dir, else drill-results/)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        default=None,
        help="drillbook.toml or pyproject.toml to read [report] from (default: the nearest)",
    )


def add_people(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--led-by", metavar="NAME", default=None, help="who led the drill (default: [report] led_by)"
    )
    p.add_argument(
        "--participant",
        metavar="'NAME (ROLE)'",
        action="append",
        default=None,
        help="a participant, repeatable (default: [report] participants)",
    )


def config(args: argparse.Namespace) -> Config:
    return load_config(args.config) if args.config is not None else find_config()


def results_dir(args: argparse.Namespace, cfg: Config) -> Path:
    if args.results is not None:
        return Path(args.results)
    value = cfg.get("results_dir") or "drill-results"
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def report_options(args: argparse.Namespace, cfg: Config) -> ReportOptions:
    return from_config(cfg).with_people(getattr(args, "led_by", None), getattr(args, "participant", None))


def formats(value: str, allowed: tuple[str, ...]) -> list[str]:
    chosen = [f.strip().lower() for f in value.split(",") if f.strip()]
    bad = [f for f in chosen if f not in allowed]
    if bad or not chosen:
        raise InvalidDrillConfig(f"--format {value!r}: use a comma-separated list of {', '.join(allowed)}")
    return list(dict.fromkeys(chosen))


def as_of(value: str | None) -> datetime:
    """``--as-of 2026-11-30`` (or an ISO time) in UTC; now when not given."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidDrillConfig(f"--as-of {value!r}: use a date like 2026-11-30 or an ISO time") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
