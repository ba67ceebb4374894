"""``drillbook env policy``: the IAM policy (JSON) and the Kubernetes Role and ClusterRole (YAML)
a staging run needs, generated from what the drivers declare they call (docs/staging.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from drillbook.harness.config import find_config, load_config
from drillbook.harness.errors import InvalidDrillConfig

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def add_policy(actions: Subparsers) -> None:
    p = actions.add_parser(
        "policy",
        help="the IAM policy and Kubernetes Role a staging run needs (exactly what drillbook calls)",
        description="Print the IAM policy (JSON) and the Kubernetes Role and ClusterRole (YAML) that "
        "allow exactly the AWS actions and Kubernetes verbs drillbook's drivers call, as they declare "
        "them: drills, the environment lease and `drillbook env check`.",
    )
    p.add_argument("--only", choices=("iam", "rbac"), default=None,
                   help="print only the IAM policy or only the Role/ClusterRole (ready for a file)")
    p.add_argument("--namespace", default=None, metavar="NS",
                   help="the Role's namespace (default: the --env profile's, else default)")
    p.add_argument("--env", default=None, metavar="NAME",
                   help="a staging profile to take the namespace from ([environments.NAME])")
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="drillbook.toml or pyproject.toml (default: the nearest one)")
    p.add_argument("--name", default="drillbook", metavar="NAME", help="the Role's name (default drillbook)")
    p.set_defaults(handler=run_policy)


def run_policy(args: argparse.Namespace) -> int:
    from drillbook.harness.calls.declared import declarations
    from drillbook.harness.calls.policy import iam_json, rbac_yaml

    if not args.name.strip():
        raise InvalidDrillConfig("--name must not be empty")
    declared = declarations()
    namespace = args.namespace or _profile_namespace(args) or "default"
    iam, rbac = iam_json(declared), rbac_yaml(declared, namespace=namespace, name=args.name)
    if args.only == "iam":
        print(iam, end="")
    elif args.only == "rbac":
        print(rbac, end="")
    else:
        print("# IAM policy (JSON): attach it to the role or user drillbook runs as")
        print(iam)
        print(f"# Kubernetes Role (namespace {namespace}) and ClusterRole (YAML): kubectl apply -f, "
              "then bind them to drillbook's service account or user")
        print(rbac, end="")
    return 0


def _profile_namespace(args: argparse.Namespace) -> str | None:
    """The namespace of the profile's first Kubernetes role (app, workers), if --env names one."""
    if args.env is None:
        return None
    from drillbook.harness.environments.staging.settings import DeploymentSettings, load_staging

    config = load_config(args.config) if args.config is not None else find_config()
    settings = load_staging(config, args.env)
    for role in settings.roles.values():
        if isinstance(role, DeploymentSettings):
            return str(role.kube.namespace)
    return None
