"""The supervisor's objects: deployments, releases (revisions), pods, zones, policies.

Kubernetes semantics, kept small. A *release* is one revision of a
deployment's template (version + environment); pods are named after the hash
of the template they run, as a ReplicaSet's pods are, so rolling back to a
template whose pods still run changes nothing but the revision number. All of
it is plain data, saved to and loaded from ``state.json``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

PYTHON = "{python}"  # in an image's argv: the interpreter running drillbook

ROLLING = "RollingUpdate"
RECREATE = "Recreate"
STRATEGIES = (ROLLING, RECREATE)

# Pod phases, as `kubectl get pods` shows them.
PENDING = "Pending"  # not scheduled yet (no schedulable zone) or not started
RUNNING = "Running"  # process alive; readiness is separate
ERROR = "Error"  # exited once, restarting after a short back-off
CRASH_LOOP = "CrashLoopBackOff"  # exited again and again: waiting out the back-off
IMAGE_PULL = "ImagePullBackOff"  # the release's version is not a known image
TERMINATING = "Terminating"


@dataclass(frozen=True)
class BackoffPolicy:
    """kubelet's restart back-off (10 s doubling to 5 min, reset after 10 min of
    running), scaled down for local drills by default."""

    base_s: float = 0.5
    cap_s: float = 15.0
    reset_after_s: float = 30.0

    def delay(self, failures: int) -> float:
        return float(min(self.cap_s, self.base_s * 2 ** max(0, failures - 1)))


@dataclass(frozen=True)
class ProbePolicy:
    """Readiness gates traffic; liveness restarts a process that stopped answering."""

    readiness_path: str = "/api/health"
    liveness_path: str = "/livez"
    period_s: float = 0.5
    #: Before a pod is first ready it is probed this often, so a rollout does not wait a period.
    startup_period_s: float = 0.1
    timeout_s: float = 2.0
    failure_threshold: int = 2
    liveness_failure_threshold: int = 3
    #: A process that never answers a probe within this is restarted (a startup probe).
    startup_timeout_s: float = 30.0
    termination_grace_s: float = 3.0


@dataclass
class Release:
    revision: int
    version: str
    env: dict[str, str]
    cause: str = ""
    created_at: str = ""
    restarted_at: str | None = None
    #: How the rollout *to* this release replaces pods.
    strategy: str = ROLLING
    #: The revision numbers this template had before it was rolled back to (oldest first).
    earlier: list[int] = field(default_factory=list)

    @property
    def template_hash(self) -> str:
        template = {"version": self.version, "env": self.env, "restarted_at": self.restarted_at}
        return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]

    def same_template(self, other: Release) -> bool:
        return self.template_hash == other.template_hash


@dataclass
class Deployment:
    name: str
    replicas: int
    zones: list[str]
    images: dict[str, list[str]]
    releases: list[Release]
    region: str = "primary"
    serves_traffic: bool = True
    max_surge: int = 1
    max_unavailable: int = 0
    progress_deadline_s: float = 60.0
    #: Old releases kept for rollout undo (Kubernetes' revisionHistoryLimit).
    revision_history_limit: int = 10
    #: Bumped on every change of the desired state (replicas, release): ``metadata.generation``.
    generation: int = 1
    #: The generation the control loop last acted on (``status.observedGeneration``): a change
    #: is observed once a pass has started or stopped the pods it asks for, so that a reader
    #: (``kubectl rollout status``) never takes the status from before it for the status after.
    observed_generation: int = 0

    @property
    def current(self) -> Release:
        return self.releases[-1]

    def release(self, revision: int) -> Release | None:
        return next((r for r in self.releases if r.revision == revision), None)

    def next_revision(self) -> int:
        return max(r.revision for r in self.releases) + 1


@dataclass
class Pod:
    """One replica. Its process restarts in place (same name, same zone); an
    evicted or scaled-down pod is gone and a new one is scheduled."""

    name: str
    deployment: str
    template_hash: str
    revision: int
    zone: str | None
    created_at: str
    port: int = 0
    pid: int | None = None
    ticks: int | None = None
    phase: str = PENDING
    ready: bool = False
    restarts: int = 0
    consecutive_failures: int = 0
    terminating: bool = False
    reason: str = ""
    last_exit: str = ""
    started_at: str | None = None
    #: Wall-clock (epoch) time of the next start attempt while backing off.
    next_start_epoch: float | None = None
    #: When it was asked to terminate (``metadata.deletionTimestamp``).
    deleted_at: str | None = None

    @staticmethod
    def new_name(deployment: str, template_hash: str) -> str:
        return f"{deployment}-{template_hash[:8]}-{secrets.token_hex(3)[:5]}"

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}"


@dataclass
class Zone:
    name: str
    cordoned: bool = False


@dataclass
class ClusterState:
    """Everything the supervisor persists: it can be stopped and started again."""

    deployments: dict[str, Deployment]
    zones: dict[str, Zone]
    pods: dict[str, Pod] = field(default_factory=dict)
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    probes: ProbePolicy = field(default_factory=ProbePolicy)
    #: Environment every process gets (credentials for moto, the plane's label): not in releases.
    base_env: dict[str, str] = field(default_factory=dict)
    label: str = ""
    #: Where pod logs go (kept after the plane stops); default: <state dir>/logs.
    logs_dir: str = ""
    #: The Kubernetes API's port (0: any free port) and the namespace its deployments live in.
    kube_port: int = 0
    namespace: str = "production"
    #: When the plane was created (its nodes', namespaces' and deployments' creationTimestamp).
    created_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "label": self.label,
            "logs_dir": self.logs_dir,
            "kube_port": self.kube_port,
            "namespace": self.namespace,
            "created_at": self.created_at,
            "backoff": asdict(self.backoff),
            "probes": asdict(self.probes),
            "base_env": self.base_env,
            "zones": [asdict(z) for z in self.zones.values()],
            "deployments": [asdict(d) for d in self.deployments.values()],
            "pods": [asdict(p) for p in self.pods.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClusterState:
        deployments = {}
        for raw in data["deployments"]:
            raw = dict(raw)
            raw["releases"] = [Release(**r) for r in raw["releases"]]
            deployments[raw["name"]] = Deployment(**raw)
        return cls(
            deployments=deployments,
            zones={z["name"]: Zone(**z) for z in data.get("zones", [])},
            pods={p["name"]: Pod(**p) for p in data.get("pods", [])},
            backoff=BackoffPolicy(**data.get("backoff", {})),
            probes=ProbePolicy(**data.get("probes", {})),
            base_env=dict(data.get("base_env", {})),
            label=str(data.get("label", "")),
            logs_dir=str(data.get("logs_dir", "")),
            kube_port=int(data.get("kube_port", 0)),
            namespace=str(data.get("namespace") or "production"),
            created_at=str(data.get("created_at", "")),
        )
