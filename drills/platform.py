"""The reference platform as the drills see it: probes, the service's API, the database
the application uses now, the ledger through the service. Built on roles.

On the local environment the whole platform is there (the Compliant API behind the front
door). A staging profile may offer less: without ``app_url`` there is no API to call,
so the steady state is the profile's own probes (its health URL, the database, the
cache), the smoke checks are those, and the ledger writes the database directly.
"""

from __future__ import annotations

import functools
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from drillbook.drills.service_ledger import ServiceLedgerStore
from drillbook.harness import pg
from drillbook.harness.environments.base import DeploymentRole, Environment, RoleUnavailable
from drillbook.harness.environments.staging.database import with_endpoint
from drillbook.harness.ledger.postgres import PostgresLedgerStore
from drillbook.harness.ledger.store import LedgerStore
from drillbook.harness.probes import Probe, http_probe, sql_probe
from drillbook.harness.reference_app import APP_DATABASE, TEST_USER_EMAIL, TEST_USER_PASSWORD

TIMEOUT = 3.0


@dataclass
class Reply:
    status: int
    body: dict[str, Any]


class Platform:
    """The Compliant platform of one environment."""

    def __init__(self, env: Environment) -> None:
        self.env = env

    @property
    def url(self) -> str:
        return self.env.front_door_url

    # -- the service's API -----------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        timeout: float = TIMEOUT,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Reply(response.status, _json(response.read()))
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, _json(exc.read()))

    def login(self, email: str = TEST_USER_EMAIL, password: str = TEST_USER_PASSWORD, **kw: Any) -> str:
        reply = self.call("POST", "/api/auth/login", {"email": email, "password": password}, **kw)
        if reply.status != 200:
            raise AssertionError(f"login as {email} failed: HTTP {reply.status} {reply.body.get('error')}")
        return str(reply.body["token"])

    # -- probes ----------------------------------------------------------------

    @property
    def has_api(self) -> bool:
        """Whether the Compliant API can be called (the local front door, or a profile's app_url)."""
        try:
            return bool(self.url)
        except Exception:
            return False

    def health_probe(self, timeout: float = 1.0) -> Probe:
        if not self.has_api:
            probes = self.env.steady_probes()
            if not probes:
                raise RoleUnavailable(f"environment {self.env.name!r} has neither an API nor a health URL")
            return probes[0]
        return http_probe(self.url + "/api/health", name="api health (front door)", timeout=timeout)

    def login_probe(self) -> Probe:
        def check() -> tuple[bool, str]:
            reply = self.call(
                "POST",
                "/api/auth/login",
                {"email": TEST_USER_EMAIL, "password": TEST_USER_PASSWORD},
                timeout=2.0,
            )
            return reply.status == 200, f"HTTP {reply.status}"

        return Probe("login", check)

    def projects_probe(self) -> Probe:
        def check() -> tuple[bool, str]:
            reply = self.call("GET", "/api/projects?limit=1", timeout=2.0)
            return reply.status == 200, f"HTTP {reply.status}"

        return Probe("projects", check)

    def database_probe(self) -> Probe:
        return sql_probe(self.app_dsn, "SELECT count(*) FROM users", name="app database", timeout=2.0)

    def steady_state(self) -> list[Probe]:
        """The platform's steady state: the API healthy (it checks PostgreSQL and Redis), or
        without an API the environment's own probes."""
        if not self.has_api:
            return [*self.env.steady_probes(), *self.deployment_probes()]
        return [self.health_probe()]

    def deployment_probes(self) -> list[Probe]:
        """Each deployment the environment has: every desired replica ready."""
        probes = []
        for name in ("app", "workers"):
            if self.env.has(name):
                role = self.env.role(name)

                def check(role: Any = role) -> tuple[bool, str]:
                    status = role.status()
                    ready = sum(1 for p in status["pods"] if p["ready"] and not p.get("terminating"))
                    wanted = int(status["replicas"])
                    return wanted > 0 and ready >= wanted, f"{ready}/{wanted} ready"

                probes.append(Probe(f"{name} available", check))
        return probes

    def smoke_checks(self) -> list[tuple[str, Probe]]:
        """The DR procedures' "Verify Recovery": health, authentication, projects, the database
        (what of it the environment has)."""
        if not self.has_api:
            return [(probe.name, probe) for probe in self.steady_state()]
        return [
            ("health", self.health_probe(2.0)),
            ("login", self.login_probe()),
            ("projects", self.projects_probe()),
            ("database count", self.database_probe()),
        ]

    # -- the database the application uses --------------------------------------

    def serving_deployment(self) -> DeploymentRole:
        """The deployment the front door sends traffic to now: the DR region's (``app_dr``) after
        a DNS failover (the API record names the DR target), else the primary's."""
        env = self.env
        if env.has("dns") and env.has("app_dr"):
            dns = env.dns
            if dns.record and dns.dr_target and dns.resolve(dns.record) == dns.dr_target:
                return env.app_dr
        return env.app

    def app_database_url(self) -> str:
        return str(self.serving_deployment().env()["DATABASE_URL"])

    def app_dsn(self) -> str:
        """A superuser DSN to the server behind the application's DATABASE_URL *now*
        (through the network link to its upstream); elsewhere the database role's DSN."""
        if self.env.name != "local":
            return self._staging_app_dsn()
        url = urllib.parse.urlsplit(self.app_database_url())
        port = url.port
        if self.env.has("network"):
            for proxy in self.env.network.client.proxies().values():
                if proxy.listen_port == port:
                    port = int(proxy.upstream.rpartition(":")[2])
                    break
        dbname = url.path.lstrip("/") or APP_DATABASE
        return f"postgresql://postgres@127.0.0.1:{port}/{dbname}"

    def _staging_app_dsn(self) -> str:
        """The database role's DSN (its credentials) at the host and port of the application's
        DATABASE_URL now: after a switchover, the restored instance the service uses."""
        admin = str(self.env.database.dsn())
        if not self.env.has("app"):
            return admin
        current = self.app_database_url() if "DATABASE_URL" in self.serving_deployment().env() else ""
        url = urllib.parse.urlsplit(current)
        if url.scheme not in ("postgres", "postgresql") or not url.hostname or not _resolves(url.hostname):
            # An in-cluster name (db.compliant.svc) the runner cannot reach: the role's DSN.
            return admin
        return with_endpoint(admin, url.hostname, url.port, url.path.lstrip("/") or None)

    def count(self, table: str, where: str = "", dsn: str | None = None) -> int:
        query = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
        return int(pg.query(dsn or self.app_dsn(), query, timeout=10.0)[0][0])

    # -- the ledger --------------------------------------------------------------

    def ledger_store(self) -> LedgerStore:
        """Through the service when there is one; else straight into the database."""
        if not self.has_api or self.env.name != "local":
            return PostgresLedgerStore(self.app_dsn)
        return self.service_ledger_store()

    def service_ledger_store(self) -> LedgerStore:
        """Through the service's API on any environment that has one (a drill whose fault sits
        between the service and its data needs the writes to take that path)."""
        if not self.has_api:
            raise RoleUnavailable(f"environment {self.env.name!r} has no app_url: no API to write through")
        return ServiceLedgerStore(self.url, self.app_dsn, email=TEST_USER_EMAIL, password=TEST_USER_PASSWORD)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {"raw": raw[:200].decode(errors="replace")}
    return value if isinstance(value, dict) else {"value": value}


@functools.cache
def _resolves(host: str) -> bool:
    """Whether this machine can resolve ``host`` (a name only the cluster's DNS knows cannot)."""
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return True
