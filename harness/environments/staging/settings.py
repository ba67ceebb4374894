"""The schema of a staging profile: ``[environments.<name>]`` and one table per role.

Each role table says which driver provides the role and where it is::

    [environments.staging.database]     driver = "rds" (instance_id) or "postgres" (a URL only)
    [environments.staging.app]          driver = "kubernetes" (deployment, selector)
    [environments.staging.network]      driver = "toxiproxy" (url, proxies)

Shared settings live in ``[environments.<name>.aws]`` and ``[environments.<name>.kubernetes]``
and may be overridden per role (``region``, ``namespace``, ``context``). Every value is
checked with its type and every error names the key and the fix (docs/configuration.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from drillbook.harness.config import Config, Table
from drillbook.harness.environments.base import ROLES
from drillbook.harness.environments.profile import Profile, load_profile
from drillbook.harness.environments.staging.secretref import SecretRef, read_ref

PROFILE_KEYS = (
    "driver",
    "production",
    "capabilities",
    "poll_interval",
    "description",
    "health_url",
    "health_timeout",
    "limits",
    "aws",
    "kubernetes",
    "lease",
)
DRIVERS: dict[str, tuple[str, ...]] = {
    "database": ("rds", "postgres"),
    "replica": ("rds", "postgres"),
    "cache": ("redis",),
    "app": ("kubernetes",),
    "workers": ("kubernetes",),
    "app_dr": ("kubernetes",),
    "workers_dr": ("kubernetes",),
    "network": ("toxiproxy",),
    "object_store": ("s3",),
    "dns": ("route53",),
    "secrets": ("secretsmanager",),
    "backups": ("rds",),
}
SSE = ("AES256", "aws:kms")
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")


@dataclass(frozen=True)
class AwsSettings:
    region: str
    endpoint_url: str | None = None
    profile: str | None = None
    #: A shared AWS config file to read instead of ~/.aws/config (the twin's, written by ``env up``).
    config_file: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 3
    #: Fixed dummy credentials for an emulator (moto) that accepts any; never read from config.
    emulator_credentials: bool = False

    @classmethod
    def read(cls, shared: Table | None, role: Table | None) -> AwsSettings:
        base = cls(region="")
        if shared is not None:
            base = base._read(shared)
            shared.finish()
        if role is not None:
            base = replace(
                base,
                region=role.text("region", base.region) or "",
                endpoint_url=role.text("endpoint_url", base.endpoint_url),
            )
        if not base.region:
            table = role if role is not None else shared
            where = table.where if table is not None else "[aws]"
            file = table.file if table is not None else ""
            raise Table({}, where, file).error(
                "region",
                "is missing; set it in the role table or in the profile's [aws] table, "
                'e.g. region = "eu-west-1"',
            )
        return base

    def _read(self, t: Table) -> AwsSettings:
        return AwsSettings(
            region=t.text("region", self.region) or "",
            endpoint_url=t.text("endpoint_url", self.endpoint_url),
            profile=t.text("profile", self.profile),
            config_file=t.text("config_file", self.config_file),
            connect_timeout=t.duration("connect_timeout", self.connect_timeout),
            read_timeout=t.duration("read_timeout", self.read_timeout),
            max_attempts=t.integer("max_attempts", self.max_attempts, minimum=1) or self.max_attempts,
        )


@dataclass(frozen=True)
class KubeSettings:
    context: str | None = None
    kubeconfig: str | None = None
    #: Talk to this API server URL directly (``kubectl proxy``, an emulator) instead of a kubeconfig.
    api_url: str | None = None
    in_cluster: bool = False
    namespace: str = "default"
    request_timeout: float = 15.0

    @classmethod
    def read(cls, shared: Table | None, role: Table) -> KubeSettings:
        base = cls()
        if shared is not None:
            base = cls(
                context=shared.text("context"),
                kubeconfig=shared.text("kubeconfig"),
                api_url=shared.text("api_url"),
                in_cluster=shared.flag("in_cluster"),
                namespace=shared.text("namespace", "default") or "default",
                request_timeout=shared.duration("request_timeout", 15.0),
            )
            shared.finish()
        return replace(
            base,
            context=role.text("context", base.context),
            namespace=role.text("namespace", base.namespace) or base.namespace,
        )


@dataclass(frozen=True)
class DatabaseSettings:
    driver: str
    url: SecretRef | None
    aws: AwsSettings | None = None
    instance_id: str | None = None
    wait_timeout: float = 1800.0
    snapshot_prefix: str = "drillbook"
    connect_timeout: float = 5.0


@dataclass(frozen=True)
class CacheSettings:
    url: SecretRef
    timeout: float = 2.0


@dataclass(frozen=True)
class DeploymentSettings:
    kube: KubeSettings
    deployment: str
    selector: str
    container: str | None = None
    wait_timeout: float = 300.0


@dataclass(frozen=True)
class NetworkSettings:
    url: str
    proxies: tuple[str, ...]
    timeout: float = 5.0


@dataclass(frozen=True)
class ObjectStoreSettings:
    aws: AwsSettings
    bucket: str
    prefix: str = "drillbook/"
    sse: str = "AES256"
    kms_key_id: str | None = None
    object_lock_mode: str | None = None
    object_lock_days: int | None = None


@dataclass(frozen=True)
class DnsSettings:
    aws: AwsSettings
    hosted_zone_id: str
    record: str | None = None
    #: What ``record`` points at after a failover to the DR region (Scenario 1B).
    dr_target: str | None = None
    ttl: int = 60
    wait_timeout: float = 300.0


@dataclass(frozen=True)
class SecretsSettings:
    aws: AwsSettings
    #: The secrets a drill rotates (Scenario 3): ids or ARNs.
    rotate: tuple[str, ...] = ()
    wait_timeout: float = 300.0


@dataclass(frozen=True)
class BackupsSettings:
    aws: AwsSettings
    instance_id: str
    bucket: str | None = None
    prefix: str = ""


@dataclass(frozen=True)
class LeaseSettings:
    """Where one drill run at a time is enforced (``[environments.<name>.lease]``): a Kubernetes
    ``Lease`` in the drill namespace (``kind = "kubernetes"``, the default when the profile talks to
    Kubernetes), or a lock in the state directory (``kind = "local"``: runs from other machines are
    not excluded)."""

    kind: str
    kube: KubeSettings | None = None
    name: str = "drillbook"
    duration: float = 60.0


@dataclass(frozen=True)
class StagingSettings:
    name: str
    profile: Profile
    file: str
    health_url: str | None = None
    #: The API as its clients reach it (a load balancer, an ingress): what drills call.
    app_url: str | None = None
    health_timeout: float = 5.0
    description: str = ""
    roles: dict[str, Any] = field(default_factory=dict)
    lease: LeaseSettings = field(default_factory=lambda: LeaseSettings(kind="local"))

    @property
    def production(self) -> bool:
        return self.profile.production

    def where(self, role: str) -> str:
        return f"[environments.{self.name}.{role}]"


def load_staging(config: Config, name: str) -> StagingSettings:
    """Read and check the whole profile; the first problem raises a ConfigError naming it."""
    profile = load_profile(config, name)
    table = profile.table
    if table is None:
        raise Table({}, f"[environments.{name}]", config.where()).error(None, "is not defined")
    table.text("driver")
    table.flag("production")
    table.strings("capabilities")
    table.duration("poll_interval", 1.0)
    table.table("limits")
    aws_shared = table.table("aws")
    kube_shared = table.table("kubernetes")
    roles: dict[str, Any] = {}
    for role in ROLES:
        role_table = table.table(role)
        if role_table is None:
            continue
        roles[role] = _read_role(role, role_table, aws_shared, kube_shared, roles)
        role_table.finish()
    _check_shared(aws_shared, kube_shared)
    if "backups" not in roles and isinstance(roles.get("database"), DatabaseSettings):
        db = roles["database"]
        if db.driver == "rds" and db.aws is not None and db.instance_id:
            roles["backups"] = BackupsSettings(aws=db.aws, instance_id=db.instance_id)
    settings = StagingSettings(
        name=name,
        profile=profile,
        file=config.where(),
        health_url=table.text("health_url"),
        app_url=table.text("app_url"),
        health_timeout=table.duration("health_timeout", 5.0),
        description=table.text("description", "") or "",
        roles=roles,
        lease=_read_lease(name, table.table("lease"), kube_shared, roles),
    )
    table.finish()
    if not roles:
        raise table.error(
            None,
            "maps no role to a driver; add at least one role table, e.g. "
            f"[environments.{name}.database] (see docs/configuration.md)",
        )
    return settings


def _read_role(
    role: str, t: Table, aws_shared: Table | None, kube_shared: Table | None, done: dict[str, Any]
) -> Any:
    drivers = DRIVERS[role]
    default = drivers[0]
    if role in ("database", "replica") and "instance_id" not in t:
        default = "postgres"
    driver = t.text("driver", default, choices=drivers, example=f'"{drivers[0]}"') or default

    def aws() -> AwsSettings:
        return AwsSettings.read(_fresh(aws_shared), t)

    if role in ("database", "replica"):
        if driver == "rds":
            return DatabaseSettings(
                driver="rds",
                aws=aws(),
                instance_id=t.required_str("instance_id", example='"compliant-db"'),
                url=read_ref(t, "url", required=False, example_env="DATABASE_URL"),
                wait_timeout=t.duration("wait_timeout", 1800.0),
                snapshot_prefix=t.text("snapshot_prefix", "drillbook") or "drillbook",
                connect_timeout=t.duration("connect_timeout", 5.0),
            )
        return DatabaseSettings(
            driver="postgres",
            url=read_ref(t, "url", required=True, example_env="DATABASE_URL"),
            connect_timeout=t.duration("connect_timeout", 5.0),
        )
    if role == "cache":
        ref = read_ref(t, "url", required=True, example_env="REDIS_URL")
        assert ref is not None
        return CacheSettings(url=ref, timeout=t.duration("timeout", 2.0))
    if role in ("app", "workers", "app_dr", "workers_dr"):
        return DeploymentSettings(
            kube=KubeSettings.read(_fresh(kube_shared), t),
            deployment=t.required_str("deployment", example='"compliant-api"'),
            selector=t.required_str("selector", example='"app=compliant-api"'),
            container=t.text("container"),
            wait_timeout=t.duration("wait_timeout", 300.0),
        )
    if role == "network":
        url = t.required_str("url", example='"http://toxiproxy.staging:8474"')
        if not url.startswith(("http://", "https://")):
            raise t.error("url", f"must be an http:// URL of toxiproxy's API, got {url!r}")
        return NetworkSettings(
            url=url,
            proxies=t.strings("proxies", required=True, example='["app-db", "app-cache"]'),
            timeout=t.duration("timeout", 5.0),
        )
    if role == "object_store":
        mode = t.text("object_lock_mode", choices=LOCK_MODES, example='"GOVERNANCE"')
        days = t.integer("object_lock_days", minimum=1)
        if (mode is None) != (days is None):
            raise t.error(
                "object_lock_days" if days is None else "object_lock_mode",
                "object lock needs both object_lock_mode and object_lock_days",
            )
        sse = t.text("sse", "AES256", choices=SSE, example='"aws:kms"') or "AES256"
        kms = t.text("kms_key_id")
        if kms is not None and sse != "aws:kms":
            raise t.error("kms_key_id", 'only applies with sse = "aws:kms"')
        return ObjectStoreSettings(
            aws=aws(),
            bucket=t.required_str("bucket", example='"compliant-evidence"'),
            prefix=t.text("prefix", "drillbook/") or "",
            sse=sse,
            kms_key_id=kms,
            object_lock_mode=mode,
            object_lock_days=days,
        )
    if role == "dns":
        zone = t.required_str("hosted_zone_id", example='"Z0123456789ABCDEFGHIJ"')
        return DnsSettings(
            aws=aws(),
            hosted_zone_id=zone.rsplit("/", 1)[-1],
            record=t.text("record"),
            dr_target=t.text("dr_target"),
            ttl=t.integer("ttl", 60, minimum=0) or 60,
            wait_timeout=t.duration("wait_timeout", 300.0),
        )
    if role == "secrets":
        return SecretsSettings(
            aws=aws(), rotate=t.strings("rotate"), wait_timeout=t.duration("wait_timeout", 300.0)
        )
    # backups: RDS snapshots of an instance (default: the database's), optionally a bucket.
    db = done.get("database")
    instance = t.text("instance_id", db.instance_id if isinstance(db, DatabaseSettings) else None)
    if instance is None:
        raise t.error(
            "instance_id",
            "is missing: name the RDS instance whose snapshots are the backups, "
            'or configure [database] with driver = "rds" first',
        )
    return BackupsSettings(
        aws=aws(), instance_id=instance, bucket=t.text("bucket"), prefix=t.text("prefix", "") or ""
    )


def _read_lease(env: str, t: Table | None, kube_shared: Table | None, roles: dict[str, Any]) -> LeaseSettings:
    """The lease goes where the drills' deployments are: the shared [kubernetes] settings, else
    those of the app (or workers) role; a profile without Kubernetes locks the state directory."""
    kube = KubeSettings.read(_fresh(kube_shared), Table({}, "", "")) if kube_shared is not None else None
    if kube is None:
        deployment = roles.get("app") or roles.get("workers")
        kube = deployment.kube if isinstance(deployment, DeploymentSettings) else None
    if t is None:
        return LeaseSettings(kind="kubernetes" if kube else "local", kube=kube, name=f"drillbook-{env}")
    kind = t.text("kind", "kubernetes" if kube else "local", choices=("kubernetes", "local"),
                  example='"kubernetes"') or "local"
    if kind == "kubernetes" and kube is None:
        raise t.error("kind", 'a Kubernetes lease needs [kubernetes] settings in the profile (or an app '
                      'role); add them, or set kind = "local"')
    namespace = t.text("namespace")
    if kube is not None and namespace:
        kube = replace(kube, namespace=namespace)
    settings = LeaseSettings(kind=kind, kube=kube, name=t.text("name", f"drillbook-{env}") or env,
                             duration=t.duration("duration", 60.0))
    t.finish()
    return settings


def _check_shared(aws: Table | None, kube: Table | None) -> None:
    """The shared tables are checked even when no role uses them (a typo there is still a typo)."""
    if aws is not None:
        checked = _fresh(aws)
        assert checked is not None
        AwsSettings(region="")._read(checked)
        checked.finish()
    if kube is not None:
        checked = _fresh(kube)
        assert checked is not None
        KubeSettings.read(checked, Table({}, kube.where, kube.file))


def _fresh(table: Table | None) -> Table | None:
    """A new reader over a shared table, so each role checks it afresh."""
    return None if table is None else Table(table.data, table.where, table.file)
