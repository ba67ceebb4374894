"""Where the local environment keeps things, under its state directory.

    environment.json   the state file (processes, servers, facts)
    archive/           the WAL archive
    snapshots/         base backups, one directory each
    pg/<name>/data     PostgreSQL servers (primary, dr-replica, restored instances)
    redis/             Redis's data and config
    run/               pid files ("<pid> <start ticks>") of the processes
    logs/              every process's output; kept after ``env down``
    kubeconfig         kubectl's way to the Kubernetes API (``env up`` writes it)
    aws-config         the aws CLI's and SDKs' way to the AWS APIs (``env up`` writes it)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: What ``env down`` deletes (the data); logs stay for the post-mortem.
DATA_DIRS = ("archive", "snapshots", "pg", "redis", "run", "app")


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    @property
    def clusters(self) -> Path:
        return self.root / "pg"

    def cluster(self, name: str) -> Path:
        return self.clusters / name / "data"

    @property
    def redis(self) -> Path:
        return self.root / "redis"

    @property
    def app(self) -> Path:
        return self.root / "app"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def kubeconfig(self) -> Path:
        """Where ``env up`` writes the kubeconfig of the twin's Kubernetes API (kept, as the logs)."""
        return self.root / "kubeconfig"

    @property
    def aws_config(self) -> Path:
        """Where ``env up`` writes the AWS config file naming the twin's endpoint (kept, as the logs)."""
        return self.root / "aws-config"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def pidfile(self, name: str) -> Path:
        return self.root / "run" / f"{name}.pid"
