"""A signal stops ``drillbook explore``'s search: the example under way reverts its faults
before the process exits (130 for SIGINT, 143 for SIGTERM), nothing is left in the undo log,
and the platform is back to its steady state. A real process, a real signal, a real fault
in effect on the toy platform's toxiproxy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drillbook.harness import journal, undolog
from drillbook.harness.probes import http_probe
from drillbook.harness.steady import check_all
from drillbook.harness.toxiproxy import ToxiproxyClient
from tests.explore.toy import LINKS, ToyPlatform

ROOT = Path(__file__).resolve().parents[2]


def _in_effect(client: ToxiproxyClient) -> list[str]:
    return [name for name, proxy in client.proxies().items()
            if name in LINKS and (proxy.toxics or not proxy.enabled)]


def _sigint_as_at_a_terminal() -> None:
    # A child of a background job starts with SIGINT ignored, which the command respects.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_reverts_the_running_example_then_exits(
    healthy_toy: ToyPlatform, tmp_path: Path, signum: int, code: int
) -> None:
    assert healthy_toy.toxiproxy is not None
    client = ToxiproxyClient(healthy_toy.toxiproxy.url)
    health = healthy_toy.url + "/health"
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.explore.interrupted", healthy_toy.toxiproxy.url, health, str(state)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, preexec_fn=_sigint_as_at_a_terminal,
    )
    try:
        deadline = time.monotonic() + 60
        while not _in_effect(client):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "no fault in effect after 60 s"
            time.sleep(0.05)
        logs = undolog.scan(state)[0]
        assert [e.name for log in logs for e in log.outstanding], "the fault in effect is in the undo log"
        proc.send_signal(signum)
        out = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, out
    assert "the running example's faults were reverted; nothing is left in the undo log" in out, out
    assert not _in_effect(client), client.proxies()
    assert undolog.scan(state) == ([], {}), "an undo log is left"
    assert check_all([http_probe(health, name="toy health", timeout=2.0)]).passed
    # the interrupted example is a drill with its journal record, which says so
    records = [journal.read_record(path) for path in journal.record_files(state / "results")]
    assert records and "interrupted" in str(records[-1]), records[-1] if records else "no record"
