"""Where ``drillbook ack RUN_ID`` finds a running engagement: ``<state>/engagement/<run_id>.json``.

Mode 0600: it holds the acknowledgement key. Written when paging starts,
removed when the engagement ends (acknowledged or every level exhausted).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from drillbook.harness.errors import DrillbookError, InvalidDrillConfig

_RUN_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class NoEngagement(DrillbookError, LookupError):
    """No engagement is waiting for an acknowledgement under this run id."""


@dataclass(frozen=True)
class AckTarget:
    run_id: str
    url: str
    key: str


def path_for(state_dir: Path, run_id: str) -> Path:
    if not _RUN_ID.match(run_id):
        raise InvalidDrillConfig(f"invalid run id {run_id!r}: letters, digits, '-', '_' and '.' only")
    return state_dir / "engagement" / f"{run_id}.json"


class AckFile:
    def __init__(self, state_dir: Path, target: AckTarget) -> None:
        self.path = path_for(state_dir, target.run_id)
        self.target = target

    def __enter__(self) -> AckFile:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(
                {
                    "run_id": self.target.run_id,
                    "url": self.target.url,
                    "key": self.target.key,
                    "pid": os.getpid(),
                },
                out,
            )
        tmp.replace(self.path)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.path.unlink(missing_ok=True)


def read(state_dir: Path, run_id: str) -> AckTarget:
    path = path_for(state_dir, run_id)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise NoEngagement(
            f"no engagement is waiting for run {run_id} in {path.parent} (already acknowledged, ended, or "
            "another --state-dir)"
        ) from None
    except (OSError, ValueError) as exc:
        raise NoEngagement(f"{path} is unreadable ({exc})") from exc
    return AckTarget(run_id=str(data["run_id"]), url=str(data["url"]), key=str(data["key"]))
