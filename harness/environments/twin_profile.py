"""A staging profile that points at the running twin (``drillbook env profile``).

The twin answers the APIs staging uses (moto's RDS, Route 53, Secrets Manager and S3, a
Kubernetes API server, a toxiproxy, Redis, PostgreSQL), so a profile naming its endpoints
is a staging profile like any other: the same drivers, the same drills (the DR region's pool,
``app_dr`` and ``workers_dr``, is the kubeconfig's DR context, as a second cluster). The text is
written as a team writes one for AWS and a cluster (docs/staging.md); only the endpoints
differ. It holds no secret: the twin's superuser and Redis take no password from
localhost, and moto accepts any AWS credentials (the comment at the top says which).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from drillbook.harness.environments import capabilities as caps

#: The twin answers in milliseconds; a profile for AWS keeps the default (5 s).
TWIN_POLL_INTERVAL = "200ms"


def render_profile(name: str, endpoints: dict[str, Any], *, grant: Iterable[str] = ()) -> str:
    """The profile ``[environments.<name>]`` for the twin's ``endpoints`` (``LocalEnvironment.access()``)."""
    granted = check_grants(grant)
    aws, db, kube = endpoints["aws"], endpoints["database"], endpoints["kube"]
    front_door = endpoints.get("front_door_url")
    t = f"environments.{name}"
    lines = [
        "# A staging profile for the local twin, from `drillbook env profile`: the drivers of a real",
        "# staging run (RDS, Kubernetes, Route 53, Secrets Manager, S3, toxiproxy, Redis, PostgreSQL).",
        "# The AWS calls read the twin's config file (`env up` writes it: region, endpoint, placeholder",
        "# credentials the twin accepts), so nothing need be exported first.",
        f"[{t}]",
        'driver = "staging"',
        f"description = {_q('the local twin, driven through the staging drivers')}",
        f"capabilities = {_list(granted)}",
        f"poll_interval = {_q(TWIN_POLL_INTERVAL)}",
    ]
    if front_door:
        lines += [f"health_url = {_q(front_door + '/api/health')}", f"app_url = {_q(front_door)}"]
    lines += ["", f"[{t}.aws]", f"region = {_q(aws['region'])}", f"endpoint_url = {_q(aws['endpoint_url'])}"]
    if aws.get("config_file"):  # its placeholder credentials: no AWS_* variables to export first
        lines.append(f"config_file = {_q(aws['config_file'])}")
    if kube.get("kubeconfig") or kube.get("api_url"):
        lines += ["", f"[{t}.kubernetes]"]
        lines += [f"kubeconfig = {_q(kube['kubeconfig'])}"] if kube.get("kubeconfig") else [
            f"api_url = {_q(kube['api_url'])}"]
        if kube.get("namespace"):
            lines.append(f"namespace = {_q(kube['namespace'])}")
    lines += ["", f"[{t}.database]", 'driver = "rds"', f"instance_id = {_q(db['instance_id'])}"]
    if db.get("url"):
        lines.append(f"url = {_q(db['url'])}")
    if db.get("replica_instance_id"):
        lines += ["", f"[{t}.replica]", 'driver = "rds"', f"instance_id = {_q(db['replica_instance_id'])}",
                  f"region = {_q(aws['dr_region'])}"]
        if db.get("replica_url"):
            lines.append(f"url = {_q(db['replica_url'])}")
    if endpoints.get("redis_url"):
        lines += ["", f"[{t}.cache]", f"url = {_q(endpoints['redis_url'])}"]
    for role, deployment in sorted((endpoints.get("deployments") or {}).items()):
        lines += ["", f"[{t}.{role}]", f"deployment = {_q(deployment)}",
                  f"selector = {_q('app=' + deployment)}"]
    # The DR pool (Scenario 1B) is another cluster: a context of the same kubeconfig.
    if kube.get("kubeconfig") and kube.get("dr_context"):
        for role, deployment in sorted((endpoints.get("dr_deployments") or {}).items()):
            lines += ["", f"[{t}.{role}]", f"deployment = {_q(deployment)}",
                      f"selector = {_q('app=' + deployment)}", f"context = {_q(kube['dr_context'])}"]
    toxiproxy = endpoints.get("toxiproxy") or {}
    if toxiproxy.get("url"):
        lines += ["", f"[{t}.network]", f"url = {_q(toxiproxy['url'])}",
                  f"proxies = {_list(toxiproxy['proxies'])}"]
    if endpoints.get("evidence_bucket"):
        lines += ["", f"[{t}.object_store]", f"bucket = {_q(endpoints['evidence_bucket'])}"]
    if endpoints.get("hosted_zone_id"):
        lines += ["", f"[{t}.dns]", f"hosted_zone_id = {_q(endpoints['hosted_zone_id'])}"]
        if endpoints.get("api_record"):
            lines.append(f"record = {_q(endpoints['api_record'])}")
        if endpoints.get("dr_target"):
            lines.append(f"dr_target = {_q(endpoints['dr_target'])}")
    if endpoints.get("secret_ids"):
        lines += ["", f"[{t}.secrets]", f"rotate = {_list(endpoints['secret_ids'])}"]
    return "\n".join(lines) + "\n"


def check_grants(grant: Iterable[str]) -> list[str]:
    """The capabilities to grant, sorted; an unknown one raises InvalidDrillConfig."""
    return sorted(caps.check_names(grant, where="--grant"))


def _q(value: str) -> str:
    """A TOML basic string (JSON's escaping is a subset of TOML's)."""
    return json.dumps(str(value))


def _list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"
