"""Switch the application over to another database instance (DR procedures: "Switchover
to Restored Database"), undone by switching it back."""

from __future__ import annotations

import time
from typing import Any

from drillbook.faults._env import open_environment
from drillbook.faults._rollout import set_env
from drillbook.faults.base import Change
from drillbook.harness.environments.staging.database import with_endpoint

DEPLOYMENTS = ("app", "workers")


class DatabaseSwitchover(Change):
    """Repoints ``DATABASE_URL`` of the API and the workers at the server on ``host``:``port``
    (an RDS instance's endpoint; locally through a network link of its own when the
    environment has one, so network faults still apply), keeping the user, database and
    options of the URL the deployment has now, with ``also_set`` in the same release (e.g. leaving
    read-only mode), and waits until both are available. The DR procedures stop
    the application, repoint it and restart it: the ``Recreate`` strategy.

    Revert sets the previous values again and removes the link.
    """

    name = "database_switchover"
    blast_radius = "every replica of the API and the workers (restarted)"
    rollback = "set the previous DATABASE_URL again"

    def __init__(
        self,
        env_name: str,
        state_dir: str,
        instance: str,
        port: int,
        user: str = "compliant_app",
        dbname: str = "compliant",
        also_set: dict[str, str | None] | None = None,
        previous: dict[str, dict[str, str | None]] | None = None,
        timeout: float = 120.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.env_name, self.state_dir, self.instance, self.port = env_name, state_dir, instance, port
        self.host = host
        self.user, self.dbname, self.timeout = user, dbname, timeout
        self.also_set = dict(also_set or {})
        if previous is None:
            env = open_environment(env_name, state_dir)
            previous = {}
            for deployment in DEPLOYMENTS:
                if env.has(deployment):
                    current = env.role(deployment).env()
                    keys = ["DATABASE_URL", *(self.also_set if deployment == "app" else ())]
                    previous[deployment] = {key: current.get(key) for key in keys}
        self.previous = previous

    @property
    def link(self) -> str:
        return f"app-db-{self.instance}"

    def inject(self) -> None:
        env = open_environment(self.env_name, self.state_dir)
        host, port = self.host, self.port
        if env.has("network") and hasattr(env.network, "link_to"):
            host, port = "127.0.0.1", env.network.link_to(self.link, self.port)
        for deployment, before in self.previous.items():
            current = before.get("DATABASE_URL")
            url = (
                with_endpoint(current, host, port)
                if current and current.startswith(("postgres://", "postgresql://"))
                else f"postgresql://{self.user}@{host}:{port}/{self.dbname}"
            )
            values: dict[str, str | None] = {"DATABASE_URL": url}
            if deployment == "app":
                values.update(self.also_set)
            set_env(env.role(deployment), values, "Recreate")
        for deployment in self.previous:
            env.role(deployment).wait_available(self.timeout)

    def revert(self) -> None:
        env = open_environment(self.env_name, self.state_dir)
        # Not waited for: the previous database may only come back with a later revert;
        # the drill checks the steady state after every revert.
        for deployment, values in self.previous.items():
            role = env.role(deployment)
            current = role.env()
            if any(current.get(key) != value for key, value in values.items()):
                set_env(role, values, "Recreate")
        if env.has("network") and hasattr(env.network, "client"):
            env.network.client.delete_proxy(self.link, missing_ok=True)

    def settle(self, timeout: float) -> None:
        env = open_environment(self.env_name, self.state_dir)
        deadline = time.monotonic() + timeout
        for deployment in self.previous:
            env.role(deployment).wait_available(max(0.0, deadline - time.monotonic()))

    def describe(self) -> dict[str, Any]:
        return {
            "env_name": self.env_name,
            "state_dir": self.state_dir,
            "instance": self.instance,
            "port": self.port,
            "host": self.host,
            "user": self.user,
            "dbname": self.dbname,
            "also_set": self.also_set,
            "previous": self.previous,
            "timeout": self.timeout,
        }
