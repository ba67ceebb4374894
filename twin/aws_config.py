"""The AWS config file ``drillbook env up`` writes, so that the aws CLI and the SDKs reach the
twin's AWS APIs (moto's S3, Route 53, Secrets Manager, and the RDS API over the real
PostgreSQL servers) unchanged: ``AWS_CONFIG_FILE=<state dir>/aws-config``.

The ``default`` profile names the primary region, the twin's endpoint and placeholder
credentials. The DR region is a ``--region`` away (``aws --region "$DRILLBOOK_DR_REGION"
rds ...``): a second profile would not do, since the exported ``AWS_REGION`` outranks a
profile's region. The ``plugins`` section
loads :mod:`drillbook.twin.awscli_plugin`, without which aws-cli v1 sends ``aws rds`` in
us-east-1 to AWS whatever endpoint is configured (that module says why).
"""

from __future__ import annotations

from pathlib import Path

from drillbook.harness.atomic import write_atomic
from drillbook.twin.aws_platform import PlatformAws

PLUGIN = "drillbook.twin.awscli_plugin"
#: A placeholder key pair: the twin checks no signature.
PLACEHOLDER_KEY = "drillbook-twin"


def aws_config(endpoint_url: str, platform: PlatformAws) -> str:
    return (
        "# Written by `drillbook env up`: the twin's AWS APIs (see docs/local-environment.md).\n"
        f"[default]\nregion = {platform.region}\noutput = json\nendpoint_url = {endpoint_url}\n"
        f"aws_access_key_id = {PLACEHOLDER_KEY}\naws_secret_access_key = {PLACEHOLDER_KEY}\n\n"
        f"[plugins]\ndrillbook_twin = {PLUGIN}\n"
    )


def write_aws_config(path: Path, endpoint_url: str, platform: PlatformAws) -> Path:
    write_atomic(path, aws_config(endpoint_url, platform), mode=0o600)
    return path
