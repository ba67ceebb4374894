"""The staging environment: roles from ``[environments.<name>]``, each through its driver.

Nothing is connected when it is built: a role's driver is made the first time the role
is used (so a drill that needs only the database never loads a kubeconfig), and
``drillbook env check`` reports each role separately. Secrets are resolved at use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drillbook.harness.config import Config
from drillbook.harness.environments.base import ControlPlanes, Environment, RoleUnavailable
from drillbook.harness.environments.staging.settings import (
    BackupsSettings,
    CacheSettings,
    DatabaseSettings,
    DeploymentSettings,
    DnsSettings,
    NetworkSettings,
    ObjectStoreSettings,
    SecretsSettings,
    StagingSettings,
    load_staging,
)
from drillbook.harness.probes import Probe, http_probe, sql_probe


class StagingEnvironment(Environment):
    def __init__(
        self,
        settings: StagingSettings,
        *,
        poll_interval: float = 10.0,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.name = settings.name
        self.production = settings.production
        self.capabilities = settings.profile.capabilities
        self.poll_interval = poll_interval
        self.progress = progress

    @classmethod
    def from_config(cls, config: Config, name: str, **options: Any) -> StagingEnvironment:
        settings = load_staging(config, name)
        options.setdefault("poll_interval", settings.profile.poll_interval)
        return cls(settings, **options)

    # -- roles, built on first use -------------------------------------------------------

    def has(self, name: str) -> bool:
        return name in self.settings.roles

    def role(self, name: str) -> Any:
        if name in self._roles:
            return self._roles[name]
        if name in self.settings.roles:
            self._roles[name] = self._build(name, self.settings.roles[name])
            return self._roles[name]
        return super().role(name)  # names the role, or says this environment lacks it

    def configured(self) -> dict[str, Any]:
        """Each configured role's settings (no driver is built)."""
        return dict(self.settings.roles)

    def _read_secret(self) -> Callable[[str], str] | None:
        if not self.has("secrets"):
            return None
        return lambda secret_id: self.secrets.get(secret_id)

    def _build(self, role: str, s: Any) -> Any:
        where = self.settings.where(role)
        if isinstance(s, DatabaseSettings):
            from drillbook.harness.environments.staging.database import RdsDatabase, RdsReplica, UrlDatabase

            if s.driver == "postgres":
                assert s.url is not None
                return UrlDatabase(
                    role, s.url, read_secret=self._read_secret(), connect_timeout=s.connect_timeout
                )
            rds = self._rds(s, where)
            if role == "database":
                return RdsDatabase(rds, s, read_secret=self._read_secret())
            assert s.instance_id is not None
            primary = self.settings.roles.get("database")
            source = None
            if isinstance(primary, DatabaseSettings) and primary.driver == "rds":
                def source() -> RdsDatabase:
                    found = self.role("database")
                    assert isinstance(found, RdsDatabase)
                    return found
            return RdsReplica(
                rds,
                s.instance_id,
                s.url,
                source=source,
                read_secret=self._read_secret(),
                connect_timeout=s.connect_timeout,
                wait_timeout=s.wait_timeout,
            )
        if isinstance(s, CacheSettings):
            from drillbook.harness.environments.staging.cache import RedisCache

            return RedisCache(s.url, read_secret=self._read_secret(), timeout=s.timeout)
        if isinstance(s, DeploymentSettings):
            from drillbook.harness.environments.staging.k8s.client import Kube
            from drillbook.harness.environments.staging.k8s.role import KubeDeployment

            kube = Kube(
                s.kube, where=where, poll_interval=min(self.poll_interval, 2.0), progress=self.progress
            )
            return KubeDeployment(kube, s)
        if isinstance(s, NetworkSettings):
            from drillbook.harness.environments.staging.network import ToxiproxyNetwork

            return ToxiproxyNetwork(s)
        if isinstance(s, ObjectStoreSettings):
            from drillbook.harness.environments.staging.aws.s3 import S3Store

            return S3Store(s, where=where)
        if isinstance(s, DnsSettings):
            from drillbook.harness.environments.staging.aws.route53 import Route53Records

            return Route53Records(
                s.aws,
                s.hosted_zone_id,
                ttl=s.ttl,
                where=where,
                record=s.record,
                dr_target=s.dr_target,
                poll_interval=min(self.poll_interval, 5.0),
                progress=self.progress,
            )
        if isinstance(s, SecretsSettings):
            from drillbook.harness.environments.staging.aws.secrets import SecretsManager

            return SecretsManager(
                s.aws, where=where, poll_interval=min(self.poll_interval, 5.0), progress=self.progress
            )
        if isinstance(s, BackupsSettings):
            from drillbook.harness.environments.staging.aws.rds import Rds
            from drillbook.harness.environments.staging.backups import RdsBackups

            return RdsBackups(Rds(s.aws, where=where, poll_interval=self.poll_interval), s)
        raise RoleUnavailable(f"no driver for role {role!r}")  # pragma: no cover - settings cover every role

    def _rds(self, s: DatabaseSettings, where: str) -> Any:
        from drillbook.harness.environments.staging.aws.rds import Rds

        assert s.aws is not None
        return Rds(s.aws, where=where, poll_interval=self.poll_interval, progress=self.progress)

    @property
    def front_door_url(self) -> str:
        """The API as clients reach it (``app_url``), like the local environment's front door."""
        if not self.settings.app_url:
            raise RoleUnavailable(
                f'environment {self.name!r} has no app_url: set app_url = "https://..." in '
                f"[environments.{self.name}] for drills that call the API"
            )
        return self.settings.app_url.rstrip("/")

    def control_planes(self) -> ControlPlanes:
        """The database role's RDS instance (``driver = "rds"``) and the app role's cluster."""
        from drillbook.harness.environments.staging.k8s.cluster import Cluster

        db = self.settings.roles.get("database")
        rds, aws = None, {}
        if isinstance(db, DatabaseSettings) and db.driver == "rds" and db.aws is not None:
            rds = db.instance_id
            aws = {"region": db.aws.region, "endpoint_url": db.aws.endpoint_url, "profile": db.aws.profile}
            if db.aws.config_file:  # where the profile's credentials are (the twin's placeholder ones)
                aws["config_file"] = db.aws.config_file
        app = self.settings.roles.get("app")
        kube = Cluster.of(app.kube).params() if isinstance(app, DeploymentSettings) else {}
        return ControlPlanes(rds_instance=rds, aws=aws, kube=kube)

    # -- steady state, fingerprint ----------------------------------------------------------

    def steady_probes(self) -> list[Probe]:
        """The health URL, the database, the cache: whichever are configured."""
        probes: list[Probe] = []
        if self.settings.health_url:
            probes.append(
                http_probe(self.settings.health_url, name="health", timeout=self.settings.health_timeout)
            )
        if self.has("database"):
            database = self.database
            probes.append(sql_probe(lambda: database.dsn(), name="database", timeout=2.0))
        if self.has("cache"):
            cache = self.cache
            probes.append(Probe("cache", lambda: cache.ping(timeout=1.0)))
        return probes

    def fingerprint(self) -> dict[str, Any]:
        """What the profile points at (no network call, no secret)."""
        roles: dict[str, str] = {}
        for role, s in self.settings.roles.items():
            driver = getattr(s, "driver", None) or type(s).__name__.removesuffix("Settings").lower()
            target = (
                getattr(s, "instance_id", None)
                or getattr(s, "deployment", None)
                or getattr(s, "bucket", None)
                or getattr(s, "hosted_zone_id", None)
                or getattr(s, "url", None)
            )
            roles[role] = f"{driver}:{target}" if isinstance(target, str) else driver
        return {"environment": self.name, "kind": "staging", "production": self.production, "roles": roles}
