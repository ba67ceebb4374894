"""``drillbook env check``: is an environment ready for drills?

For every configured role: its endpoint answers within the timeout, the resource it
names exists and is in a usable state, and the credentials may do what drills do,
probed without changing anything: Kubernetes SelfSubjectAccessReview, AWS IAM policy
simulation for the RDS actions (RDS has no DryRun parameter), EC2's DryRun for the
credentials themselves. Secret references are checked for presence, never printed.

Each check is READY, NOT READY (with what to fix) or UNKNOWN (could not be told, e.g.
the credentials may not simulate policies). Roles are checked in parallel; every call
is bounded by the check timeout.
"""

from __future__ import annotations

import concurrent.futures
import functools
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from drillbook.harness import pg
from drillbook.harness.calls.declared import (
    AwsActions,
    KubeRule,
    declare,
    drill_kube_checks,
    drill_permissions,
)
from drillbook.harness.environments.staging.environment import StagingEnvironment
from drillbook.harness.environments.staging.secretref import SecretRef
from drillbook.harness.environments.staging.settings import (
    AwsSettings,
    BackupsSettings,
    CacheSettings,
    DatabaseSettings,
    DeploymentSettings,
    DnsSettings,
    KubeSettings,
    NetworkSettings,
    ObjectStoreSettings,
    SecretsSettings,
    StagingSettings,
)
from drillbook.harness.errors import DrillbookError
from drillbook.harness.redact import redact_text

CALLS = declare(
    __name__,
    "drillbook env check: who the credentials are, whether they may do what drills do",
    aws=(
        AwsActions("sts", ("GetCallerIdentity",)),
        AwsActions("iam", ("SimulatePrincipalPolicy",)),
        AwsActions("ec2", ("DescribeRegions",)),
    ),
    kube=KubeRule("authorization.k8s.io", "selfsubjectaccessreviews", ("create",), cluster=True),
    used_by="drillbook env check",
)

READY, NOT_READY, UNKNOWN = "READY", "NOT READY", "UNKNOWN"


@dataclass(frozen=True)
class CheckResult:
    role: str
    check: str
    status: str
    seconds: float
    detail: str = ""


class _Checks:
    """The results of one role, each timed."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.results: list[CheckResult] = []

    def run(self, check: str, fn: Callable[[], tuple[str, str]]) -> str:
        started = time.monotonic()
        try:
            status, detail = fn()
        except DrillbookError as exc:
            status, detail = NOT_READY, str(exc)
        except Exception as exc:  # a check that breaks reports it; the others still run
            status, detail = NOT_READY, f"{type(exc).__name__}: {exc}"
        self.results.append(
            CheckResult(
                self.role, check, status, time.monotonic() - started, redact_text(" ".join(detail.split()))
            )
        )
        return status


def capped(settings: StagingSettings, timeout: float) -> StagingSettings:
    """The same profile with every network timeout at most ``timeout`` and one attempt."""

    def cap(value: Any) -> Any:
        if isinstance(value, AwsSettings):
            return replace(
                value,
                connect_timeout=min(value.connect_timeout, timeout),
                read_timeout=min(value.read_timeout, timeout),
                max_attempts=1,
            )
        if isinstance(value, KubeSettings):
            return replace(value, request_timeout=min(value.request_timeout, timeout))
        if isinstance(value, DatabaseSettings):
            return replace(value, aws=cap(value.aws), connect_timeout=min(value.connect_timeout, timeout))
        if isinstance(value, CacheSettings | NetworkSettings):
            return replace(value, timeout=min(value.timeout, timeout))
        if isinstance(value, DeploymentSettings):
            return replace(value, kube=cap(value.kube))
        if isinstance(value, ObjectStoreSettings | DnsSettings | SecretsSettings | BackupsSettings):
            return replace(value, aws=cap(value.aws))
        return value

    return replace(
        settings,
        roles={role: cap(s) for role, s in settings.roles.items()},
        health_timeout=min(settings.health_timeout, timeout),
    )


def preflight(env: StagingEnvironment, *, timeout: float = 10.0) -> list[CheckResult]:
    env = StagingEnvironment(capped(env.settings, timeout), poll_interval=env.poll_interval)
    jobs: list[tuple[str, Callable[[_Checks], None]]] = []
    if env.settings.health_url:
        jobs.append(("health", lambda c: _health(c, env)))
    refs = list(_refs(env.settings))
    if refs:
        jobs.append(("references", lambda c: _secret_refs(c, env, refs)))
    for role, settings in env.settings.roles.items():
        jobs.append((role, functools.partial(_ROLE_CHECKS[type(settings)], env=env, role=role)))
    results: dict[str, list[CheckResult]] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="preflight") as pool:
        futures = {}
        for role, job in jobs:
            checks = _Checks(role)
            futures[pool.submit(job, checks)] = checks
        for future in concurrent.futures.as_completed(futures):
            future.result()
            checks = futures[future]
            results.setdefault(checks.role, []).extend(checks.results)
    order = [role for role, _ in jobs]
    return [r for role in dict.fromkeys(order) for r in results.get(role, [])]


def ready(results: Iterable[CheckResult]) -> bool:
    return all(r.status != NOT_READY for r in results)


def table(results: list[CheckResult]) -> str:
    headers = ("ROLE", "CHECK", "STATUS", "TIME", "DETAIL")
    rows = [(r.role, r.check, r.status, f"{r.seconds:.2f}s", r.detail) for r in results]
    widths = [
        max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers[:-1])
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers[:-1], widths, strict=True)) + "  " + headers[-1]]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1] for row in rows
    ]
    return "\n".join(lines)


# -- the checks, per role ---------------------------------------------------------------------


def _health(c: _Checks, env: StagingEnvironment) -> None:
    url = env.settings.health_url
    assert url is not None

    def get() -> tuple[str, str]:
        try:
            with urllib.request.urlopen(url, timeout=env.settings.health_timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (OSError, urllib.error.URLError) as exc:
            return (
                NOT_READY,
                f"{redact_text(url)} did not answer within {env.settings.health_timeout:g}s ({exc})",
            )
        return (READY if status == 200 else NOT_READY), f"HTTP {status} from {redact_text(url)}"

    c.run("health URL answers", get)


def _refs(settings: StagingSettings) -> Iterable[tuple[str, SecretRef]]:
    for role, s in settings.roles.items():
        for ref in (getattr(s, "url", None),):
            if isinstance(ref, SecretRef) and (ref.env or ref.secret_id):
                yield role, ref


def _secret_refs(c: _Checks, env: StagingEnvironment, refs: list[tuple[str, SecretRef]]) -> None:
    for role, ref in refs:

        def check(ref: SecretRef = ref) -> tuple[str, str]:
            ref.resolve(
                lambda sid: env.role("secrets").get(sid) if env.has("secrets") else _no_secrets_role(ref)
            )
            return READY, f"{ref.describe()} is set (value not shown)"

        c.run(f"{role} {ref.key} reference", check)


def _no_secrets_role(ref: SecretRef) -> str:
    raise DrillbookError(f"{ref.where} {ref.key}_secret needs a [secrets] table in this environment")


def _sql(c: _Checks, dsn: Callable[[], str], timeout: float, what: str) -> None:
    def check() -> tuple[str, str]:
        rows = pg.query(
            dsn(), "SELECT current_setting('server_version'), pg_is_in_recovery()", timeout=timeout
        )
        version, standby = rows[0]
        return READY, f"PostgreSQL {version}" + (" (a standby)" if standby else "")

    c.run(what, check)


def _database(c: _Checks, *, env: StagingEnvironment, role: str) -> None:
    s: DatabaseSettings = env.settings.roles[role]
    db = env.role(role)
    if s.driver == "rds":
        assert s.instance_id is not None

        def instance() -> tuple[str, str]:
            found = db.rds.describe(s.instance_id)
            extra = f"{found.engine} {found.instance_class}, Multi-AZ {found.multi_az}"
            if role == "replica" and found.replica_source is None:
                return NOT_READY, f"{s.instance_id} is not a read replica ({extra})"
            return (
                READY if found.status == "available" else NOT_READY
            ), f"{s.instance_id} is {found.status} ({extra})"

        if c.run(f"RDS instance {s.instance_id}", instance) == READY:
            c.run("RDS permissions (IAM simulation)", lambda: _simulate(db.rds, s.instance_id or ""))
    if s.url is not None:
        _sql(c, db.dsn, s.connect_timeout, "SQL connection")


def _simulate(rds: Any, instance_id: str) -> tuple[str, str]:
    from drillbook.harness.environments.staging.aws.client import aws_call, client

    # What the drivers declare they call, not a list of our own: the policy the team was given
    # (`drillbook env policy`) is what is checked.
    actions = [a for a in drill_permissions("rds") if not a.startswith("rds:Describe")]
    arn = rds.describe(instance_id).arn
    caller = aws_call("who am I", client(rds.aws, "sts").get_caller_identity)["Arn"]
    principal = _principal(caller)
    try:
        out = aws_call(
            "simulate the drill's RDS actions",
            client(rds.aws, "iam").simulate_principal_policy,
            PolicySourceArn=principal,
            ActionNames=list(actions),
            ResourceArns=[arn],
        )
    except DrillbookError as exc:
        return (
            UNKNOWN,
            f"as {caller}: cannot simulate policies ({exc}); grant iam:SimulatePrincipalPolicy to check",
        )
    denied = [
        r["EvalActionName"] for r in out.get("EvaluationResults", []) if r.get("EvalDecision") != "allowed"
    ]
    if denied:
        return NOT_READY, f"as {caller}: denied {', '.join(denied)}"
    return READY, f"as {caller}: {len(actions)} RDS actions allowed"


def _principal(caller_arn: str) -> str:
    """An assumed-role session ARN -> its role ARN (what policy simulation takes)."""
    if ":assumed-role/" in caller_arn:
        account = caller_arn.split(":")[4]
        role = caller_arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        return f"arn:aws:iam::{account}:role/{role}"
    return caller_arn


def _credentials(c: _Checks, aws: AwsSettings) -> None:
    """EC2's DryRun answers DryRunOperation when the credentials are valid and allowed."""
    from drillbook.harness.environments.staging.aws.client import aws_call, client
    from drillbook.harness.environments.staging.aws.errors import AwsError

    def check() -> tuple[str, str]:
        try:
            aws_call("EC2 DryRun", client(aws, "ec2").describe_regions, DryRun=True)
        except AwsError as exc:
            if exc.code == "DryRunOperation":
                return READY, f"credentials accepted in {aws.region} (EC2 DryRun)"
            raise
        return READY, f"credentials accepted in {aws.region}"

    c.run("AWS credentials", check)


def _cache(c: _Checks, *, env: StagingEnvironment, role: str) -> None:
    s: CacheSettings = env.settings.roles[role]
    cache = env.role("cache")

    def ping() -> tuple[str, str]:
        ok = cache.ping(timeout=s.timeout)
        return (
            (READY, "PING answered")
            if ok
            else (NOT_READY, f"no PONG within {s.timeout:g}s from {s.url.describe()}")
        )

    c.run("Redis PING", ping)


def _deployment(c: _Checks, *, env: StagingEnvironment, role: str) -> None:
    s: DeploymentSettings = env.settings.roles[role]
    deployment = env.role(role)
    kube = deployment.kube

    def version() -> tuple[str, str]:
        info = kube.call("read the server version", kube.version_api.get_code)
        return READY, f"API server {info.git_version}"

    if c.run("API server reachable", version) != READY:
        return

    def available() -> tuple[str, str]:
        status = deployment.deployments.status(s.deployment)
        return (
            (READY if status.done else NOT_READY),
            f"{s.kube.namespace}/{s.deployment}: {status.explain()}, "
            f"{status.available}/{status.replicas} available",
        )

    c.run(f"deployment {s.deployment}", available)

    def access() -> tuple[str, str]:
        from kubernetes import client

        denied = []
        checks = drill_kube_checks()
        for check in checks:
            review = client.V1SelfSubjectAccessReview(
                spec=client.V1SelfSubjectAccessReviewSpec(
                    resource_attributes=client.V1ResourceAttributes(
                        namespace=None if check.cluster else s.kube.namespace,
                        verb=check.verb,
                        resource=check.resource,
                        subresource=check.subresource or None,
                        group=check.group,
                    )
                )
            )
            out = kube.call("SelfSubjectAccessReview", kube.authz.create_self_subject_access_review, review)
            if not (out.status and out.status.allowed):
                denied.append(str(check))
        if denied:
            return NOT_READY, "denied: " + ", ".join(denied) + " (nodes are needed by zone drain only)"
        return READY, f"{len(checks)} verbs allowed (SelfSubjectAccessReview)"

    c.run("RBAC permissions", access)


def _network(c: _Checks, *, env: StagingEnvironment, role: str) -> None:
    s: NetworkSettings = env.settings.roles[role]
    network = env.role("network")

    def version() -> tuple[str, str]:
        return READY, f"toxiproxy {network.client.version()} at {s.url}"

    if c.run("toxiproxy API", version) != READY:
        return

    def proxies() -> tuple[str, str]:
        present = set(network.proxies())
        missing = [p for p in s.proxies if p not in present]
        if missing:
            return (
                NOT_READY,
                f"missing proxies {', '.join(missing)} "
                f"(toxiproxy has: {', '.join(sorted(present)) or 'none'})",
            )
        return READY, ", ".join(s.proxies)

    c.run("proxies exist", proxies)


def _object_store(c: _Checks, *, env: StagingEnvironment, role: str) -> None:
    s: ObjectStoreSettings = env.settings.roles[role]
    store = env.role("object_store")

    def bucket() -> tuple[str, str]:
        if not store.bucket_exists(s.bucket):
            return (
                NOT_READY,
                f"no bucket {s.bucket!r} in {s.aws.region}: check {env.settings.where(role)} bucket",
            )
        return READY, f"s3://{s.bucket} (uploads use SSE {s.sse})"

    if c.run(f"bucket {s.bucket}", bucket) == READY and s.object_lock_mode:

        def lock() -> tuple[str, str]:
            if store.object_lock_enabled(s.bucket):
                return READY, f"object lock on: {s.object_lock_mode} for {s.object_lock_days} days"
            return NOT_READY, (
                f"object_lock_mode is set but bucket {s.bucket!r} has no object lock; create the bucket "
                "with object lock, or remove object_lock_mode"
            )

        c.run("object lock", lock)


def _dns(c: _Checks, *, env: StagingEnvironment, role: str) -> None:
    s: DnsSettings = env.settings.roles[role]
    c.run(f"hosted zone {s.hosted_zone_id}", lambda: (READY, f"zone {env.role('dns').zone_name()}"))


def _secrets(c: _Checks, *, env: StagingEnvironment, role: str) -> None:
    s: SecretsSettings = env.settings.roles[role]
    _credentials(c, s.aws)
    for secret_id in s.rotate:

        def describe(secret_id: str = secret_id) -> tuple[str, str]:
            info = env.role("secrets").describe(secret_id)
            how = "rotation function" if info.rotation_lambda else "new value on rotation"
            return READY, f"{info.id} exists ({how})"

        c.run(f"secret {secret_id}", describe)


def _backups(c: _Checks, *, env: StagingEnvironment, role: str) -> None:
    s: BackupsSettings = env.settings.roles[role]
    backups = env.role(role)

    def latest() -> tuple[str, str]:
        age = backups.age_s()
        if age is None:
            return NOT_READY, f"no available snapshot of {s.instance_id}"
        return READY, f"newest snapshot of {s.instance_id} is {age / 3600:.1f}h old"

    c.run("snapshots", latest)


_ROLE_CHECKS: dict[type, Callable[..., None]] = {
    DatabaseSettings: _database,
    CacheSettings: _cache,
    DeploymentSettings: _deployment,
    NetworkSettings: _network,
    ObjectStoreSettings: _object_store,
    DnsSettings: _dns,
    SecretsSettings: _secrets,
    BackupsSettings: _backups,
}
