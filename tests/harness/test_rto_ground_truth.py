"""RTO against ground truth: a real HTTP server frozen with SIGSTOP for a known D."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from drillbook.faults.process_pause import ProcessPause
from drillbook.harness.probes import http_probe
from drillbook.harness.settings import DrillSettings
from drillbook.harness.standalone import standalone_drill
from tests.servers import HttpServer

K = 3
INTERVAL = 0.1


@pytest.mark.parametrize("outage", [0.5, 1.0])
def test_rto_lies_within_the_outage_and_k_intervals(
    http_server: HttpServer, tmp_path: Path, outage: float
) -> None:
    settings = DrillSettings(
        state_dir=tmp_path / "state", probe_interval=INTERVAL, consecutive=K, progress=False
    )
    with standalone_drill(
        "frozen http", results_dir=tmp_path / "results", settings=settings, rto="30s"
    ) as drill:
        drill.steady_state(http_probe(http_server.url, timeout=0.2))
        fault = drill.inject(ProcessPause(http_server.pid))
        # The scripted recovery: the process is thawed exactly D after the fault.
        timer = threading.Timer(outage, fault.revert)
        timer.start()
        rto = drill.await_recovery(timeout="10s")
        timer.join()
    assert drill.finished is not None and drill.finished.status.value == "PASS"
    assert drill.finished.measured.rto_s == rto
    assert outage <= rto <= outage + K * INTERVAL + 0.25, rto
    assert drill.finished.measured.detect_s is not None and drill.finished.measured.detect_s < outage
