"""A Kubernetes API server emulator over HTTP: kmock's ``KubernetesEmulator`` plus what it lacks.

kmock stores objects and serves create/get/list/patch/delete over real HTTP, so the
official ``kubernetes`` client talks to it unchanged. It ignores label and field
selectors and runs no controllers; these reactions and a controller loop add them:

- LIST honours ``labelSelector`` and ``fieldSelector``;
- the deployment controller: one ReplicaSet per pod template (``pod-template-hash``),
  with ``deployment.kubernetes.io/revision`` annotations (a template seen before gets
  its ReplicaSet back under a new revision, as Kubernetes does), the old ReplicaSets
  kept at their size until the new one's pods are ready, ``metadata.generation``
  bumped on every spec change and the status (``observedGeneration``,
  ``updatedReplicas``, ``availableReplicas``...) kept up to date;
- the ReplicaSet controller: deleted pods are recreated, extra ones deleted;
- a scheduler: pods go to schedulable (uncordoned) nodes, fewest pods first;
- the kubelet: a pod becomes Ready ``ready_after`` seconds after it is scheduled, unless
  its image cannot be pulled (a host ending in ``.invalid``: ImagePullBackOff) or a
  variable of ``required_env`` is missing (CrashLoopBackOff);
- the eviction subresource (``pods/<name>/eviction``), optionally answering 429 (a
  PodDisruptionBudget) a number of times first;
- SelfSubjectAccessReview, allowing everything except what ``denied`` lists;
- Leases (coordination.k8s.io/v1) replaced with PUT as the API server does: the whole object,
  only when the ``resourceVersion`` sent is the current one (409 Conflict otherwise), which
  then moves on; kmock itself merges updates and ignores versions.

kmock runs on an asyncio loop; the official client is synchronous, so the emulator
runs in a thread with its own loop and the tests (and the contract cases) stay sync.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp.test_utils
import kmock
import pytest

from drillbook.twin.kube.selectors import field_matcher, label_matcher

PODS = kmock.resource("", "v1", "pods")
NODES = kmock.resource("", "v1", "nodes")
NAMESPACES = kmock.resource("", "v1", "namespaces")
DEPLOYMENTS = kmock.resource("apps", "v1", "deployments")
REPLICASETS = kmock.resource("apps", "v1", "replicasets")
ACCESS_REVIEWS = kmock.resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews")
LEASES = kmock.resource("coordination.k8s.io", "v1", "leases")
KINDS = {
    PODS: ("Pod", True),
    NODES: ("Node", False),
    NAMESPACES: ("Namespace", False),
    DEPLOYMENTS: ("Deployment", True),
    REPLICASETS: ("ReplicaSet", True),
    ACCESS_REVIEWS: ("SelfSubjectAccessReview", False),
    LEASES: ("Lease", True),
}
REVISION = "deployment.kubernetes.io/revision"
HISTORY = "deployment.kubernetes.io/revision-history"
HASH_LABEL = "pod-template-hash"
ZONE_LABEL = "topology.kubernetes.io/zone"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _template_hash(template: dict[str, Any]) -> str:
    clean = copy.deepcopy(template)
    (clean.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    return hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest()[:10]


def _owned_by(obj: dict[str, Any], uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in obj.get("metadata", {}).get("ownerReferences") or ())


def _revision(rs: dict[str, Any]) -> int:
    return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))


class KubeEmulator:
    def __init__(
        self, *, ready_after: float = 0.2, tick: float = 0.05, required_env: tuple[str, ...] = ()
    ) -> None:
        self.ready_after = ready_after
        self.tick = tick
        self.required_env = required_env
        #: (verb, resource) pairs SelfSubjectAccessReview denies.
        self.denied: set[tuple[str, str]] = set()
        #: Evictions answered with 429 (a PodDisruptionBudget) before they are allowed.
        self.evictions_blocked = 0
        #: Errors of the controller loop (a test may assert there are none).
        self.errors: list[str] = []
        self.url = ""
        self._scheduled: dict[str, float] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kube-emulator", daemon=True)
        self.kmock: Any = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> KubeEmulator:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the Kubernetes emulator did not start within 30s")
        if self._error is not None:
            raise RuntimeError(f"the Kubernetes emulator failed to start: {self._error}")
        return self

    def stop(self) -> None:
        if self._stopping is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(15)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _main(self) -> None:
        async with kmock.KubernetesEmulator() as emulator, kmock.Server(
            emulator, server_cls=_AuditedServer
        ) as server:
            self.kmock = emulator
            self.url = str(server.url).rstrip("/")
            self._install(emulator)
            self._stopping = asyncio.Event()
            controllers = asyncio.create_task(self._controllers())
            self._ready.set()
            await self._stopping.wait()
            controllers.cancel()

    # -- the client side -----------------------------------------------------------------

    def api_client(self) -> Any:
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = self.url
        return client.ApiClient(configuration)

    # -- reactions: what kmock lacks -----------------------------------------------------------

    def _install(self, emulator: Any) -> None:
        for res, (kind, namespaced) in KINDS.items():
            emulator.resources[res] = kmock.ResourceInfo(
                kind=kind, namespaced=namespaced, verbs={"list", "get", "create", "patch", "delete"}
            )
        # The official client asks GET /version/ (with the slash); kmock serves only /version.
        emulator[lambda r: r.method == kmock.method.GET and r.url.path == "/version/"] << self._version
        (
            emulator[
                lambda r: (
                    r.action == kmock.action.LIST
                    and ("labelSelector" in r.params or "fieldSelector" in r.params)
                )
            ]
            << self._list
        )
        (
            emulator[
                lambda r: r.resource == PODS and r.subresource == "eviction" and r.method == kmock.method.POST
            ]
            << self._evict
        )
        emulator[lambda r: r.resource == ACCESS_REVIEWS and r.action == kmock.action.CREATE] << self._review
        (
            emulator[lambda r: r.resource == LEASES and r.method == kmock.method.PUT and r.name is not None]
            << self._lease_replaced
        )
        emulator[lambda r: r.action == kmock.action.CREATE and r.resource in KINDS] << self._created
        (
            emulator[
                lambda r: r.action == kmock.action.UPDATE and r.resource == DEPLOYMENTS and not r.subresource
            ]
            << self._deployment_updated
        )

    @staticmethod
    def _version() -> dict[str, str]:
        return {
            "major": "1",
            "minor": "30",
            "gitVersion": "v1.30.0-drillbook-emulator",
            "gitCommit": "",
            "gitTreeState": "clean",
            "buildDate": "2024-01-01T00:00:00Z",
            "goVersion": "go1.22",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    def _live(
        self, res: Any, namespace: str | None = None
    ) -> Iterator[tuple[tuple[Any, str | None, str], Any]]:
        for key, obj in list(self.kmock.objects.items()):
            if key[0] == res and not obj.deleted and (namespace is None or key[1] == namespace):
                yield key, obj

    async def _list(self, request: Any) -> dict[str, Any]:
        labels = label_matcher(request.params.get("labelSelector"))
        fields = field_matcher(request.params.get("fieldSelector"))
        async with self.kmock._lock:
            items = [copy.deepcopy(obj.raw) for _, obj in self._live(request.resource, request.namespace)]
        items = [i for i in items if labels(i.get("metadata", {}).get("labels") or {}) and fields(i)]
        kind = KINDS.get(request.resource, ("Object", True))[0]
        return {
            "apiVersion": "v1",
            "kind": f"{kind}List",
            "metadata": {"resourceVersion": "1"},
            "items": items,
        }

    async def _evict(self, request: Any) -> Any:
        if self.evictions_blocked > 0:
            self.evictions_blocked -= 1
            return kmock.Response(  # type: ignore[attr-defined]
                status=429,
                payload={
                    "apiVersion": "v1",
                    "kind": "Status",
                    "status": "Failure",
                    "code": 429,
                    "reason": "TooManyRequests",
                    "message": "Cannot evict pod as it would violate the pod's disruption budget.",
                },
            )
        async with self.kmock._lock:
            key = (PODS, request.namespace, request.name)
            if key not in self.kmock.objects or self.kmock.objects[key].deleted:
                raise kmock.KubernetesObjectNotFoundError()
            self.kmock.objects[key].delete()
        return kmock.Response(  # type: ignore[attr-defined]
            status=201, payload={"apiVersion": "v1", "kind": "Status", "status": "Success", "code": 201}
        )

    async def _review(self, request: Any) -> dict[str, Any]:
        spec = (request.data or {}).get("spec") or {}
        attrs = spec.get("resourceAttributes") or {}
        resource = attrs.get("resource", "")
        if attrs.get("subresource"):
            resource += "/" + attrs["subresource"]
        allowed = (attrs.get("verb", ""), resource) not in self.denied
        async with self.kmock._lock:
            # kmock stored the review under no name; forget it, or the next one would conflict.
            if (ACCESS_REVIEWS, None, None) in self.kmock.objects:
                del self.kmock.objects[ACCESS_REVIEWS, None, None]
        return {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "metadata": {},
            "spec": spec,
            "status": {"allowed": allowed, "reason": "" if allowed else "denied by the emulator's test RBAC"},
        }

    async def _lease_replaced(self, request: Any) -> Any:
        body = copy.deepcopy(request.data or {})
        async with self.kmock._lock:
            key = (LEASES, request.namespace, request.name)
            if key not in self.kmock.objects or self.kmock.objects[key].deleted:
                return _status(404, "NotFound", f'leases.coordination.k8s.io "{request.name}" not found')
            current = copy.deepcopy(self.kmock.objects[key].raw)
            version = current.get("metadata", {}).get("resourceVersion")
            if body.get("metadata", {}).get("resourceVersion") != version:
                return _status(409, "Conflict", "Operation cannot be fulfilled on leases.coordination.k8s.io "
                               f'"{request.name}": the object has been modified; please apply your changes '
                               "to the latest version and try again")
            meta = body.setdefault("metadata", {})
            for kept in ("uid", "creationTimestamp", "namespace", "name"):
                meta[kept] = current["metadata"].get(kept)
            meta["resourceVersion"] = str(int(version or 0) + 1)
            body.update(apiVersion="coordination.k8s.io/v1", kind="Lease")
            self.kmock.objects[key] = body
            return body

    # A reaction that returns nothing is disabled by kmock for good (it counts as depleted), so
    # these two do the default handler's job too: they answer with the stored object.

    async def _created(self, request: Any) -> dict[str, Any]:
        name = (request.data or {}).get("metadata", {}).get("name")
        namespace = request.namespace or (request.data or {}).get("metadata", {}).get("namespace")
        async with self.kmock._lock:
            key = (request.resource, namespace if KINDS[request.resource][1] else None, name)
            obj = self.kmock.objects[key]
            meta: dict[str, Any] = {
                "uid": str(uuid.uuid4()),
                "creationTimestamp": _now(),
                "resourceVersion": "1",
            }
            if namespace and KINDS[request.resource][1]:
                meta["namespace"] = namespace
            if request.resource == DEPLOYMENTS:
                meta["generation"] = 1
            changes: dict[str, Any] = {"metadata": meta}
            if request.resource == PODS and not (obj.raw.get("status") or {}).get("phase"):
                changes["status"] = {"phase": "Pending"}
            obj.patch(changes)
            return dict(obj.raw)

    async def _deployment_updated(self, request: Any) -> dict[str, Any]:
        async with self.kmock._lock:
            obj = self.kmock.objects[(DEPLOYMENTS, request.namespace, request.name)]
            versions = [v for v in obj.history if v is not None]
            if len(versions) >= 2 and versions[-1].raw.get("spec") != versions[-2].raw.get("spec"):
                generation = int(versions[-2].raw.get("metadata", {}).get("generation") or 1) + 1
                obj.patch({"metadata": {"generation": generation}})
            return dict(obj.raw)

    # -- the controllers -------------------------------------------------------------------------

    async def _controllers(self) -> None:
        while True:
            async with self.kmock._lock:
                try:
                    self._deployments()
                    self._replicasets()
                    self._pods()
                    self._deployment_status()
                except Exception as exc:
                    # A controller bug must show up in the test, not stall it silently.
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                    if len(self.errors) == 1:
                        import traceback

                        traceback.print_exc()
            await asyncio.sleep(self.tick)

    def _deployments(self) -> None:
        for (_, ns, name), obj in self._live(DEPLOYMENTS):
            d = obj.raw
            uid = d["metadata"].get("uid")
            if not uid:
                continue
            template = copy.deepcopy(d["spec"]["template"])
            digest = _template_hash(template)
            owned = [(k, o) for k, o in self._live(REPLICASETS, ns) if _owned_by(o.raw, uid)]
            newest = max((_revision(o.raw) for _, o in owned), default=0)
            current = next(
                (
                    (k, o)
                    for k, o in owned
                    if (o.raw["metadata"].get("labels") or {}).get(HASH_LABEL) == digest
                ),
                None,
            )
            if current is None:
                rs_name = f"{name}-{digest}"
                labels = {**(template.get("metadata", {}).get("labels") or {}), HASH_LABEL: digest}
                template.setdefault("metadata", {})["labels"] = labels
                self.kmock.objects[REPLICASETS, ns, rs_name] = {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": rs_name,
                        "namespace": ns,
                        "uid": str(uuid.uuid4()),
                        "labels": labels,
                        "creationTimestamp": _now(),
                        "annotations": {REVISION: str(newest + 1)},
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": "Deployment",
                                "name": name,
                                "uid": uid,
                                "controller": True,
                                "blockOwnerDeletion": True,
                            }
                        ],
                    },
                    "spec": {"replicas": 0, "selector": {"matchLabels": labels}, "template": template},
                    "status": {"replicas": 0},
                }
                current = ((REPLICASETS, ns, rs_name), self.kmock.objects[REPLICASETS, ns, rs_name])
            elif _revision(current[1].raw) < newest:
                # A rollback to a template seen before: its ReplicaSet becomes the newest revision.
                old = str(_revision(current[1].raw))
                history = (current[1].raw["metadata"].get("annotations") or {}).get(HISTORY)
                current[1].patch(
                    {
                        "metadata": {
                            "annotations": {
                                REVISION: str(newest + 1),
                                HISTORY: f"{history},{old}" if history else old,
                            }
                        }
                    }
                )
            revision = str(_revision(current[1].raw))
            if (d["metadata"].get("annotations") or {}).get(REVISION) != revision:
                obj.patch({"metadata": {"annotations": {REVISION: revision}}})
            desired = int(d["spec"].get("replicas", 1))
            if current[1].raw["spec"].get("replicas") != desired:
                current[1].patch({"spec": {"replicas": desired}})
            ready_new = sum(1 for _, p in self._owned_pods(current[1]) if self._is_ready(p.raw))
            for key, rs in owned:
                if key == current[0]:
                    continue
                # Old ReplicaSets keep serving until the new one's pods are ready (no downtime).
                if (ready_new >= desired or desired == 0) and rs.raw["spec"].get("replicas") != 0:
                    rs.patch({"spec": {"replicas": 0}})

    def _owned_pods(self, rs: Any) -> list[tuple[Any, Any]]:
        uid = rs.raw["metadata"].get("uid")
        return [
            (k, p) for k, p in self._live(PODS, rs.raw["metadata"].get("namespace")) if _owned_by(p.raw, uid)
        ]

    def _replicasets(self) -> None:
        for (_, ns, name), rs in self._live(REPLICASETS):
            pods = self._owned_pods(rs)
            want = int(rs.raw["spec"].get("replicas") or 0)
            for _ in range(want - len(pods)):
                template = copy.deepcopy(rs.raw["spec"]["template"])
                pod_name = f"{name}-{secrets.token_hex(3)[:5]}"
                self.kmock.objects[PODS, ns, pod_name] = {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        **(template.get("metadata") or {}),
                        "name": pod_name,
                        "namespace": ns,
                        "uid": str(uuid.uuid4()),
                        "creationTimestamp": _now(),
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": "ReplicaSet",
                                "name": name,
                                "uid": rs.raw["metadata"]["uid"],
                                "controller": True,
                                "blockOwnerDeletion": True,
                            }
                        ],
                    },
                    "spec": template.get("spec") or {},
                    "status": {"phase": "Pending"},
                }
            if len(pods) > want:
                for key, _ in sorted(
                    pods, key=lambda kp: kp[1].raw["metadata"].get("creationTimestamp", ""), reverse=True
                )[: len(pods) - want]:
                    self.kmock.objects[key].delete()
            live = self._owned_pods(rs)
            ready = sum(1 for _, p in live if self._is_ready(p.raw))
            status = {"replicas": len(live), "readyReplicas": ready, "availableReplicas": ready}
            if {k: rs.raw.get("status", {}).get(k) for k in status} != status:
                rs.patch({"status": status})

    def _pods(self) -> None:
        nodes = [o.raw for _, o in self._live(NODES)]
        schedulable = [n for n in nodes if not n.get("spec", {}).get("unschedulable")]
        load: dict[str, int] = {n["metadata"]["name"]: 0 for n in nodes}
        pods = list(self._live(PODS))
        for _, p in pods:
            node = p.raw.get("spec", {}).get("nodeName")
            if node in load:
                load[node] += 1
        now = time.monotonic()
        for _, p in pods:
            pod = p.raw
            uid = pod["metadata"].get("uid", "")
            if not pod.get("spec", {}).get("nodeName"):
                if not schedulable:
                    continue  # Pending: no node will take it (every node cordoned)
                node = min(schedulable, key=lambda n: (load[n["metadata"]["name"]], n["metadata"]["name"]))
                load[node["metadata"]["name"]] += 1
                p.patch({"spec": {"nodeName": node["metadata"]["name"]}})
                self._scheduled[uid] = now
                continue
            self._scheduled.setdefault(uid, now)
            if (
                pod.get("status", {}).get("phase") != "Pending"
                or now - self._scheduled[uid] < self.ready_after
            ):
                continue
            p.patch({"status": self._kubelet(pod)})

    def _kubelet(self, pod: dict[str, Any]) -> dict[str, Any]:
        statuses = []
        reason = None
        managed = any(ref.get("kind") == "ReplicaSet" for ref in pod["metadata"].get("ownerReferences") or ())
        for container in pod.get("spec", {}).get("containers") or []:
            image = str(container.get("image", ""))
            env = {e.get("name") for e in container.get("env") or ()}
            if image.split("/", 1)[0].endswith(".invalid"):
                reason = "ImagePullBackOff"
            elif managed and any(name not in env for name in self.required_env):
                reason = "CrashLoopBackOff"
            state = {"waiting": {"reason": reason}} if reason else {"running": {"startedAt": _now()}}
            statuses.append(
                {
                    "name": container.get("name", "app"),
                    "image": image,
                    "imageID": "",
                    "ready": reason is None,
                    "restartCount": 3 if reason == "CrashLoopBackOff" else 0,
                    "state": state,
                }
            )
        ready = reason is None
        return {
            "phase": "Pending" if reason == "ImagePullBackOff" else "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": statuses,
        }

    @staticmethod
    def _is_ready(pod: dict[str, Any]) -> bool:
        return any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in pod.get("status", {}).get("conditions") or ()
        )

    def _deployment_status(self) -> None:
        for (_, ns, _), obj in self._live(DEPLOYMENTS):
            d = obj.raw
            uid = d["metadata"].get("uid")
            owned = [o for _, o in self._live(REPLICASETS, ns) if _owned_by(o.raw, uid)]
            revision = (d["metadata"].get("annotations") or {}).get(REVISION)
            total = updated = ready = 0
            for rs in owned:
                pods = [p.raw for _, p in self._owned_pods(rs)]
                total += len(pods)
                ready += sum(1 for p in pods if self._is_ready(p))
                if (rs.raw["metadata"].get("annotations") or {}).get(REVISION) == revision:
                    updated += len(pods)
            desired = int(d["spec"].get("replicas", 1))
            status = {
                "observedGeneration": int(d["metadata"].get("generation") or 1),
                "replicas": total,
                "updatedReplicas": updated,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "unavailableReplicas": max(desired - ready, 0),
                "conditions": [
                    {
                        "type": "Available",
                        "status": "True" if ready >= desired else "False",
                        "reason": "MinimumReplicasAvailable",
                    }
                ],
            }
            if d.get("status") != status:
                obj.patch({"status": status})


def _status(code: int, reason: str, message: str) -> Any:
    return kmock.Response(  # type: ignore[attr-defined]
        status=code,
        payload={"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": code, "reason": reason,
                 "message": message},
    )


# -- seeding, through the official client --------------------------------------------------------


def seed_nodes(api_client: Any, zones: dict[str, int]) -> list[str]:
    """Nodes labelled with their zone, and one DaemonSet pod on each (like a log agent)."""
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    names = []
    for zone, count in zones.items():
        for index in range(1, count + 1):
            name = f"node-{zone}-{index}"
            core.create_node(
                client.V1Node(
                    metadata=client.V1ObjectMeta(
                        name=name, labels={ZONE_LABEL: zone, "kubernetes.io/hostname": name}
                    )
                )
            )
            core.create_namespaced_pod(
                "kube-system",
                client.V1Pod(
                    metadata=client.V1ObjectMeta(
                        name=f"log-agent-{name}",
                        labels={"app": "log-agent"},
                        owner_references=[
                            client.V1OwnerReference(
                                api_version="apps/v1",
                                kind="DaemonSet",
                                name="log-agent",
                                uid="daemonset-log-agent",
                                controller=True,
                            )
                        ],
                    ),
                    spec=client.V1PodSpec(
                        node_name=name,
                        containers=[client.V1Container(name="agent", image="registry.example/log-agent:1")],
                    ),
                ),
            )
            names.append(name)
    return names


def seed_deployment(
    api_client: Any,
    namespace: str,
    name: str,
    *,
    replicas: int = 4,
    image: str = "registry.example/compliant-api:1.0",
    env: dict[str, str] | None = None,
) -> None:
    from kubernetes import client

    labels = {"app": name}
    container = client.V1Container(
        name="app", image=image, env=[client.V1EnvVar(name=k, value=v) for k, v in (env or {}).items()]
    )
    client.AppsV1Api(api_client).create_namespaced_deployment(
        namespace,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name=name, labels=labels),
            spec=client.V1DeploymentSpec(
                replicas=replicas,
                selector=client.V1LabelSelector(match_labels=labels),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels=labels), spec=client.V1PodSpec(containers=[container])
                ),
            ),
        ),
    )
    # Seeded means available, as a deployment applied before a test would be.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = client.AppsV1Api(api_client).read_namespaced_deployment_status(name, namespace).status
        if status is not None and (status.available_replicas or 0) >= replicas:
            return
        time.sleep(0.02)
    raise TimeoutError(f"seeded deployment {namespace}/{name} not available within 30s")


@contextmanager
def kube_emulator(**kwargs: Any) -> Iterator[KubeEmulator]:
    emulator = KubeEmulator(**kwargs).start()
    try:
        yield emulator
    finally:
        emulator.stop()


def started(request: pytest.FixtureRequest, **kwargs: Any) -> KubeEmulator:
    """An emulator for one test (contract cases), stopped at teardown."""
    emulator = KubeEmulator(**kwargs).start()
    request.addfinalizer(emulator.stop)
    return emulator


class _AuditedServer(aiohttp.test_utils.RawTestServer):
    """kmock's server, answering with an ``Audit-Id`` header as a real API server does (the
    request id drillbook journals for each call)."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        async def audited(request: Any) -> Any:
            response = await handler(request)
            if not response.prepared:  # a watch stream has sent its headers already
                response.headers["Audit-Id"] = str(uuid.uuid4())
            return response

        super().__init__(audited, **kwargs)
