"""The built-in fault space of ``drillbook explore`` on the reference platform.

Every link (partition, latency, reset, bandwidth), API pod kills, API and worker restarts,
a database restart, a failover of the database to its Multi-AZ standby and a cache flush;
the steady state is the API's health through the front door; the ledger writes through the
service. The same space whatever the release: the search knows nothing of any weakness.
"""

from __future__ import annotations

from hypothesis import strategies as st

from drillbook.drills.control_planes import unstoppable_because
from drillbook.drills.platform import Platform
from drillbook.faults.base import Fault
from drillbook.faults.cache_flush import CacheFlush
from drillbook.faults.database_failover import DatabaseFailover
from drillbook.faults.database_reboot import DatabaseReboot
from drillbook.faults.database_stop import DatabaseStop
from drillbook.faults.deployment_kill import DeploymentKill
from drillbook.faults.deployment_restart import DeploymentRestart
from drillbook.faults.network_bandwidth import NetworkBandwidth
from drillbook.faults.network_latency import NetworkLatency
from drillbook.faults.network_partition import NetworkPartition
from drillbook.faults.network_reset import NetworkReset
from drillbook.harness.environments.base import Environment
from drillbook.harness.explore import FaultChoice, FaultSpace, Target
from drillbook.harness.probes import Probe

#: Recovery after the last fault lifts (the platform heals itself: no runbook runs).
RTO_S = 15.0
#: The database row of the DR procedures' RPO table.
RPO_S = 300.0
#: A pause before each example: calls still in flight when the last one's faults lifted end
#: within the service's timeouts (1-2 s), and what the service remembers of them with them.
QUIET_S = 2.0


def link_choices(api: str, link: str) -> list[FaultChoice]:
    return [
        FaultChoice(
            f"network_partition {link}",
            lambda p: NetworkPartition(api, link, p["mode"]),
            st.fixed_dictionaries({"mode": st.sampled_from(["down", "timeout"])}),
        ),
        FaultChoice(
            f"network_latency {link}",
            lambda p: NetworkLatency(api, link, p["latency_ms"]),
            st.fixed_dictionaries({"latency_ms": st.integers(100, 1500)}),
        ),
        FaultChoice(
            f"network_reset {link}",
            lambda p: NetworkReset(api, link, p["timeout_ms"]),
            st.fixed_dictionaries({"timeout_ms": st.integers(0, 500)}),
        ),
        FaultChoice(
            f"network_bandwidth {link}",
            lambda p: NetworkBandwidth(api, link, p["rate_kb_s"]),
            st.fixed_dictionaries({"rate_kb_s": st.integers(1, 64)}),
        ),
    ]


def restart_modes(env: Environment) -> list[str]:
    """A stop (``fast``, ``immediate``) where the platform may stop the primary, else a reboot
    (RDS stops no primary with a read replica attached, as the twin's has); and, where the
    environment publishes its RDS primary, a failover to the Multi-AZ standby. One choice, so a
    schedule never stops the primary and fails it over at once (the failover would wait for an
    instance that another fault keeps stopped)."""
    rds = (env.access().get("endpoints") or {}).get("database", {}).get("instance_id")
    stops = ["fast", "immediate"] if unstoppable_because(env) is None else ["reboot"]
    return [*stops, *(["failover"] if rds else [])]


def database_restart(env_name: str, state_dir: str, mode: str) -> Fault:
    if mode == "failover":
        # Through the RDS API: the standby takes over behind the same endpoint.
        return DatabaseFailover(env_name, state_dir)
    if mode == "reboot":
        return DatabaseReboot(env_name, state_dir)
    return DatabaseStop(env_name, state_dir, mode)


def reference_space(env: Environment, state_dir: str) -> FaultSpace:
    api = env.network.api_url()
    choices: list[FaultChoice] = []
    for link in sorted(env.network.proxies()):
        choices += link_choices(api, link)
    name = env.name
    choices += [
        FaultChoice(
            "deployment_kill app",
            lambda p: DeploymentKill(name, state_dir, "app", p["count"]),
            st.fixed_dictionaries({"count": st.integers(1, 2)}),
        ),
        FaultChoice("deployment_restart app", lambda p: DeploymentRestart(name, state_dir, "app")),
        FaultChoice("deployment_restart workers", lambda p: DeploymentRestart(name, state_dir, "workers")),
        FaultChoice("database_restart", lambda p: database_restart(name, state_dir, p["mode"]),
                    st.fixed_dictionaries({"mode": st.sampled_from(restart_modes(env))})),
        FaultChoice("cache_flush", lambda p: CacheFlush(name, state_dir)),
    ]
    # Combinations happen where faults overlap: starts within 1.5 s of each other, lasting up
    # to 3 s, so most faults of a schedule are in effect together.
    return FaultSpace(tuple(choices), max_faults=4, max_concurrent=3, horizon_s=1.5, min_duration_s=0.5,
                      max_duration_s=3.0)


def reference_target(env: Environment, state_dir: str = ".drillbook") -> Target:
    platform = Platform(env)

    def steady() -> list[Probe]:
        # Every API replica ready, not only one behind the front door: a replica left unready by
        # one example would otherwise carry over into the next (the check before each example
        # passing on the others) and make a schedule fail there that passes on a clean platform.
        available = [probe for probe in platform.deployment_probes() if probe.name == "app available"]
        return [platform.health_probe(timeout=2.0), *available]

    def reset() -> None:
        # A platform left broken by an example (replicas stuck unready) is restarted, as an
        # operator would; the failing example was recorded before.
        env.app.rollout_restart()
        env.app.wait_available(timeout=120.0)

    return Target("reference", reference_space(env, state_dir), steady, ledger=platform.ledger_store,
                  rto_s=RTO_S, rpo_s=RPO_S, reset=reset, quiet_s=QUIET_S,
                  factory="drillbook.drills.explore_reference:reference_target", factory_fixtures=("env",))
