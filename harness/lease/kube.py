"""The lease as a Kubernetes ``Lease`` (coordination.k8s.io/v1) in the drill namespace.

Every write is a compare-and-swap on the object's ``resourceVersion`` (create, or replace
the version read), so two runs can never both believe they took it. The holder renews
``renewTime`` every third of ``leaseDurationSeconds``; a lease not renewed for its
duration belongs to a dead run (as client-go's leader election judges it), and so does
one whose holder ran on this host and is gone. Releasing empties ``holderIdentity``.

Who holds it is in the annotation ``drillbook.io/holder``. The holder's outstanding
faults are mirrored into ``drillbook.io/undo`` before each is injected, so a run on
another machine (a new CI runner: the old one's disk is gone) can revert them before
taking the lease over.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from drillbook.harness.calls.declared import KubeRule, declare
from drillbook.harness.environments.staging.k8s.client import Kube, KubeConflict, KubeError, KubeNotFound
from drillbook.harness.environments.staging.settings import LeaseSettings
from drillbook.harness.lease.backend import DEAD, HELD, TAKEN, Attempt, LeaseStatus
from drillbook.harness.lease.holder import LeaseHolder, LeaseLost
from drillbook.harness.signals import main_thread_only

CALLS = declare(
    __name__,
    "the environment's lease: one run at a time (a coordination.k8s.io Lease)",
    kube=KubeRule("coordination.k8s.io", "leases", ("get", "create", "update")),
    used_by="drillbook run (the lease)",
)

HOLDER = "drillbook.io/holder"
UNDO = "drillbook.io/undo"
ENVIRONMENT = "drillbook.io/environment"
#: Compare-and-swap retries of one write before giving up.
ATTEMPTS = 5


class KubeLease:
    def __init__(self, settings: LeaseSettings, env: str, *, kube: Kube | None = None) -> None:
        assert settings.kube is not None
        self.settings = settings
        self.env = env
        self.name = settings.name
        self.namespace = settings.kube.namespace
        self.duration = max(1, round(settings.duration))
        self.where = f"Lease {self.namespace}/{self.name}"
        self._kube = kube
        self._seen: Any = None  # the lease as last read, for a takeover's compare-and-swap
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._lost: str | None = None

    @property
    def kube(self) -> Kube:
        if self._kube is None:
            self._kube = Kube(self.settings.kube or _missing(), where=f"[environments.{self.env}.lease]")
        return self._kube

    @property
    def api(self) -> Any:
        from kubernetes import client

        return client.CoordinationV1Api(self.kube.api)

    # -- taking ------------------------------------------------------------------------

    def attempt(self, me: LeaseHolder) -> Attempt:
        for _ in range(ATTEMPTS):
            lease = self._read()
            if lease is None:
                try:
                    self._create(me)
                except KubeConflict:
                    continue  # another run created it first: look again
                return Attempt(TAKEN)
            spec = lease.spec
            holder = _holder(lease)
            if not spec.holder_identity or spec.holder_identity == me.identity:
                if self._replace(lease, me, transition=spec.holder_identity != me.identity):
                    return Attempt(TAKEN)
                continue
            if holder is None:
                holder = LeaseHolder(
                    run_id=spec.holder_identity,
                    host="?",
                    pid=0,
                    pid_ticks=None,
                    since=str(spec.acquire_time or "?"),
                    command="(not drillbook)",
                )
            if _dead(holder, self._expired(lease)):
                self._seen = lease
                return Attempt(DEAD, holder, tuple(_undo(lease)))
            return Attempt(HELD, holder)
        return Attempt(HELD, _holder(self._read()) if self._read() else None)

    def take_over(self, me: LeaseHolder, dead: LeaseHolder) -> bool:
        return self._seen is not None and self._replace(self._seen, me, transition=True)

    def abandon(self) -> None:
        self._seen = None

    def keep(self, me: LeaseHolder) -> None:
        """Renew every third of the duration in a background thread until released."""
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew_loop, args=(me,), name="lease-renewer", daemon=True
        )
        self._renewer.start()

    def lost(self) -> str | None:
        return self._lost

    def release(self, me: LeaseHolder) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=self.kube.settings.request_timeout + 1)
        for _ in range(ATTEMPTS):
            try:
                lease = self._read()
            except KubeError:
                return  # the API is gone: the lease expires on its own
            if lease is None or lease.spec.holder_identity != me.identity:
                return
            if self._write(lease, identity="", annotations={ENVIRONMENT: self.env}, duration=1):
                return

    # -- a child under the parent's lease --------------------------------------------------

    def child_env(self, me: LeaseHolder) -> tuple[dict[str, str], tuple[int, ...]]:
        return {}, ()

    def inherited(self, identity: str, environ: dict[str, str]) -> LeaseHolder | None:
        lease = self._read()
        if lease is None or lease.spec.holder_identity != identity or self._expired(lease):
            return None
        return _holder(lease)

    def mirror(self, identity: str, entries: list[dict[str, Any]]) -> None:
        for _ in range(ATTEMPTS):
            lease = self._read()
            if lease is None or lease.spec.holder_identity != identity:
                now = "gone" if lease is None else f"held by {lease.spec.holder_identity}"
                raise LeaseLost(
                    f"the lease {self.where} is no longer held by this run ({now}): no further "
                    "fault may be injected"
                )
            if self._expired(lease):
                raise LeaseLost(
                    f"the lease {self.where} expired (not renewed for {self.duration}s): no "
                    "further fault may be injected"
                )
            annotations = dict(lease.metadata.annotations or {})
            annotations[UNDO] = json.dumps(entries, sort_keys=True, separators=(",", ":"))
            if self._write(lease, identity=identity, annotations=annotations, renew=False):
                return
        raise LeaseLost(f"the lease {self.where} kept changing under this run: cannot record its faults")

    # -- reading ---------------------------------------------------------------------------

    def status(self) -> LeaseStatus:
        lease = self._read()
        if lease is None or not lease.spec.holder_identity:
            return LeaseStatus(self.env, self.where, None)
        holder = _holder(lease) or LeaseHolder(
            run_id=lease.spec.holder_identity,
            host="?",
            pid=0,
            pid_ticks=None,
            since="?",
            command="(not drillbook)",
        )
        renewed = lease.spec.renew_time
        detail = (
            f"renewed {renewed.isoformat() if renewed else 'never'}, "
            f"duration {lease.spec.lease_duration_seconds}s"
        )
        if _dead(holder, self._expired(lease)):
            left = len(_undo(lease))
            detail += (
                f"; {left} fault(s) it recorded here not reverted yet: the next run reverts them "
                "before it takes the lease"
                if left
                else "; no fault of it recorded here"
            )
            return LeaseStatus(
                self.env, self.where, None, stale=holder, detail=detail, undo=tuple(_undo(lease))
            )
        return LeaseStatus(self.env, self.where, holder, detail=detail)

    def _read(self) -> Any:
        try:
            return self.kube.call(
                f"read {self.where}", self.api.read_namespaced_lease, self.name, self.namespace
            )
        except KubeNotFound:
            return None

    def _expired(self, lease: Any) -> bool:
        spec = lease.spec
        renewed = spec.renew_time or spec.acquire_time
        if renewed is None:
            return True
        if renewed.tzinfo is None:
            renewed = renewed.replace(tzinfo=UTC)
        duration = timedelta(seconds=spec.lease_duration_seconds or self.duration)
        return bool(datetime.now(UTC) > renewed + duration)

    # -- writing ---------------------------------------------------------------------------

    def _create(self, me: LeaseHolder) -> None:
        from kubernetes import client

        now = datetime.now(UTC)
        body = client.V1Lease(
            metadata=client.V1ObjectMeta(
                name=self.name,
                namespace=self.namespace,
                annotations=self._mine(me),
                labels={"app.kubernetes.io/managed-by": "drillbook"},
            ),
            spec=client.V1LeaseSpec(
                holder_identity=me.identity,
                lease_duration_seconds=self.duration,
                acquire_time=now,
                renew_time=now,
                lease_transitions=0,
            ),
        )
        self.kube.call(f"create {self.where}", self.api.create_namespaced_lease, self.namespace, body)

    def _replace(self, lease: Any, me: LeaseHolder, *, transition: bool) -> bool:
        return self._write(
            lease, identity=me.identity, annotations=self._mine(me), acquired=True, transition=transition
        )

    def _write(
        self,
        lease: Any,
        *,
        identity: str,
        annotations: dict[str, str],
        duration: int | None = None,
        acquired: bool = False,
        transition: bool = False,
        renew: bool = True,
    ) -> bool:
        """Replace ``lease`` as it was read (its resourceVersion): False if it changed meanwhile."""
        from kubernetes import client

        now = datetime.now(UTC)
        spec = lease.spec
        body = client.V1Lease(
            metadata=client.V1ObjectMeta(
                name=self.name,
                namespace=self.namespace,
                annotations=annotations,
                labels=lease.metadata.labels,
                resource_version=lease.metadata.resource_version,
            ),
            spec=client.V1LeaseSpec(
                holder_identity=identity,
                lease_duration_seconds=duration or self.duration,
                acquire_time=now if acquired else spec.acquire_time,
                renew_time=now if renew else spec.renew_time,
                lease_transitions=(spec.lease_transitions or 0) + (1 if transition else 0),
            ),
        )
        try:
            self.kube.call(
                f"replace {self.where}", self.api.replace_namespaced_lease, self.name, self.namespace, body
            )
        except KubeConflict:
            return False
        return True

    def _mine(self, me: LeaseHolder) -> dict[str, str]:
        return {HOLDER: json.dumps(me.to_json(), sort_keys=True), UNDO: "[]", ENVIRONMENT: self.env}

    def _renew_loop(self, me: LeaseHolder) -> None:
        main_thread_only()
        interval = self.duration / 3
        last = time.monotonic()
        while not self._stop.wait(interval):
            try:
                lease = self._read()
                if lease is None or lease.spec.holder_identity != me.identity:
                    self._lost = f"the lease {self.where} was taken from this run"
                    return
                annotations = dict(lease.metadata.annotations or {})
                if self._write(lease, identity=me.identity, annotations=annotations):
                    last = time.monotonic()
            except KubeError:
                pass  # retried at the next tick; lost only once the duration is over
            if time.monotonic() - last > self.duration:
                self._lost = f"the lease {self.where} could not be renewed for {self.duration}s"
                return


def _dead(holder: LeaseHolder, expired: bool) -> bool:
    """Gone from this host, or (on another host, where we cannot look) not renewed in time. A holder
    that still runs here is alive even if its renewals lapsed: its faults are its own to revert."""
    alive = holder.alive_here()
    return alive is False or (alive is None and expired)


def _holder(lease: Any) -> LeaseHolder | None:
    text = (lease.metadata.annotations or {}).get(HOLDER)
    try:
        return LeaseHolder.from_json(json.loads(text)) if text else None
    except ValueError:
        return None


def _undo(lease: Any) -> list[dict[str, Any]]:
    text = (lease.metadata.annotations or {}).get(UNDO) or "[]"
    try:
        entries = json.loads(text)
    except ValueError:
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _missing() -> Any:
    raise LeaseLost("no Kubernetes settings for the lease")
