"""``drillbook env shell``: ``export`` lines that point the aws CLI, the AWS SDKs and kubectl at
the running environment, for ``eval "$(drillbook env shell)"``.

What it exports comes from the environment's ``access()`` (the same object ``env status
--json`` shows): the AWS endpoint, regions and config file, placeholder credentials (the
twin checks none; real ones must not leave this shell for it), and the kubeconfig.
"""

from __future__ import annotations

import argparse
import shlex
from typing import TYPE_CHECKING, Any, TypeAlias

from drillbook.harness.errors import DrillbookError

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

#: Variables that would send a call elsewhere than the exported endpoint, or to a profile the
#: exported config file lacks: unset first.
UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_RDS",
         "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_ROUTE_53", "AWS_ENDPOINT_URL_SECRETS_MANAGER")
#: The placeholder key pair: any value signs a request the twin accepts.
PLACEHOLDER_KEY = "drillbook-twin"


class EnvironmentNotReachable(DrillbookError):
    """The environment is not up, so there is nothing to point clients at."""

    exit_code = 1


def add_shell(actions: Subparsers) -> None:
    from drillbook.harness.cli.env import common

    p = actions.add_parser(
        "shell", help="print export lines for the aws CLI and kubectl: eval \"$(drillbook env shell)\"",
        description="Print shell `export` lines (AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, AWS_REGION, "
        "DRILLBOOK_DR_REGION, placeholder AWS credentials, AWS_CONFIG_FILE, KUBECONFIG) that point "
        "the aws CLI, the AWS SDKs and kubectl at the running local environment.")
    common(p)
    p.set_defaults(handler=run_shell)


def run_shell(args: argparse.Namespace) -> int:
    from drillbook.harness.cli.env import environment, lifecycle

    env = environment(args)
    access = env.access() if lifecycle(env, "shell").is_up() else {}
    if not access:
        raise EnvironmentNotReachable(f"{args.env} is not up, so there is nothing to point the aws CLI "
                                      "or kubectl at; run `drillbook env up` first")
    print(shell_lines(access))
    return 0


def exports(access: dict[str, Any]) -> list[tuple[str, str]]:
    """The variables to export, in order, from an environment's ``access()``."""
    found: list[tuple[str, str]] = []
    aws = access.get("aws")
    if aws:
        found += [("AWS_ENDPOINT_URL", str(aws["endpoint_url"])),
                  ("AWS_DEFAULT_REGION", str(aws["region"])),
                  ("AWS_REGION", str(aws["region"])),
                  ("DRILLBOOK_DR_REGION", str(aws["dr_region"])),
                  ("AWS_ACCESS_KEY_ID", PLACEHOLDER_KEY),
                  ("AWS_SECRET_ACCESS_KEY", PLACEHOLDER_KEY),
                  ("AWS_EC2_METADATA_DISABLED", "true")]
        if aws.get("config_file"):
            found.append(("AWS_CONFIG_FILE", str(aws["config_file"])))
    if access.get("kubeconfig"):
        found.append(("KUBECONFIG", str(access["kubeconfig"])))
    return found


def shell_lines(access: dict[str, Any]) -> str:
    lines = ["# drillbook env shell: eval \"$(drillbook env shell)\" points the aws CLI and kubectl here"]
    if access.get("aws"):
        lines.append("unset " + " ".join(UNSET))
    lines += [f"export {name}={shlex.quote(value)}" for name, value in exports(access)]
    return "\n".join(lines)
