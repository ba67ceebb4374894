"""Run a drill outside pytest (scripts, benchmarks): a context manager around ``Drill``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drillbook.harness import journal, signals
from drillbook.harness.config import Config
from drillbook.harness.drill import Drill
from drillbook.harness.fingerprint import fingerprint
from drillbook.harness.marker import spec_from_marker
from drillbook.harness.records import EnvironmentInfo
from drillbook.harness.settings import DrillSettings
from drillbook.harness.undolog import UndoLog


@contextmanager
def standalone_drill(
    scenario: str,
    *,
    results_dir: Path | None = Path("drill-results"),
    state_dir: Path = Path(".drillbook"),
    settings: DrillSettings | None = None,
    env_name: str = "local",
    nodeid: str | None = None,
    **marker: Any,
) -> Iterator[Drill]:
    """Yield a :class:`Drill`; on exit it is finished (reverted, judged) and journaled.

    ``marker`` takes the ``drill`` marker's arguments (tier, rto, rpo, ...). The
    result is ``drill.finished``; unlike in pytest, a non-PASS status raises nothing.
    ``results_dir=None`` skips the journal.
    """
    spec = spec_from_marker((), {"scenario": scenario, **marker}, config=Config())
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    base = settings or DrillSettings(state_dir=state_dir, env_name=env_name, progress=False)
    if results_dir is not None:
        base = DrillSettings(**{**base.__dict__, "results_dir": results_dir})
    drill = Drill(
        spec,
        nodeid=nodeid or f"standalone::{scenario}",
        run_id=run_id,
        record_id=f"{run_id}-001",
        settings=base,
        undo_log=UndoLog(base.state_dir, run_id),
        environment=EnvironmentInfo(name=base.env_name, fingerprint=fingerprint(Path.cwd(), Config().hash)),
    )
    error: BaseException | None = None
    try:
        yield drill
    except BaseException as exc:
        error = exc
        raise
    finally:
        with signals.critical():
            result = drill.finish(error)
            if results_dir is not None:
                journal.append(results_dir, result)
