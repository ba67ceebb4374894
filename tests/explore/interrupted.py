"""``drillbook explore``'s search (``harness.cli.explore.search``) in a process of its own, on
a toy platform started by the test (its toxiproxy API and health URL as arguments), so that
the test can send it a real signal while a fault is in effect and look at the platform after.

    python -m tests.explore.interrupted TOXIPROXY_API HEALTH_URL STATE_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from drillbook.faults.network_latency import NetworkLatency
from drillbook.faults.network_partition import NetworkPartition
from drillbook.harness.cli.explore import search
from drillbook.harness.explore import FaultChoice, FaultSpace, Target
from drillbook.harness.ledger.memory import InMemoryLedgerStore
from drillbook.harness.probes import http_probe


def target(api: str, health: str) -> Target:
    # Long faults: the test has seconds to find one in effect.
    space = FaultSpace(
        (FaultChoice("network_partition toy-store", lambda p: NetworkPartition(api, "toy-store")),
         FaultChoice("network_latency toy-cache", lambda p: NetworkLatency(api, "toy-cache", 100))),
        max_faults=2, max_concurrent=2, horizon_s=0.5, min_duration_s=20.0, max_duration_s=30.0,
    )
    return Target("interrupted", space, lambda: [http_probe(health, name="toy health", timeout=2.0)],
                  ledger=InMemoryLedgerStore, rto_s=5.0)


def main(argv: list[str]) -> int:
    api, health, state = argv
    state_dir = Path(state)
    return search(target(api, health), state_dir=state_dir, results_dir=state_dir / "results", budget_s=300.0,
                  seed=1, env_name="local", found_dir=state_dir / "found")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
