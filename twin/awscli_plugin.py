"""An aws CLI v1 plugin that lets the configured endpoint (``AWS_ENDPOINT_URL``, the config
file's ``endpoint_url``) reach the services the CLI itself pins to AWS's hosts.

Why: aws-cli v1 (PyPI's ``awscli``) keeps, for the services that once used an SSL common
name (``rds``, ``docdb``, ``neptune`` in us-east-1, ``sqs``, ``emr``, ``health``), a handler
(``awscli/customizations/overridesslcommonname.py``, ``update_endpoint_url``) that sets
``--endpoint-url https://rds.amazonaws.com`` whenever the flag is absent. An explicit
``--endpoint-url`` outranks every configured endpoint in botocore's precedence, so
``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_RDS`` and a ``[services]`` section are all ignored
for ``aws rds`` in us-east-1 (aws/aws-cli PR #7203 kept the override for v1). This handler
runs before that one and fills ``--endpoint-url`` with the endpoint botocore would have
resolved from the environment or the config file, so the override leaves it alone.

The config file ``drillbook env up`` writes (``twin.aws_config``) loads it as
``[plugins] drillbook_twin = drillbook.twin.awscli_plugin``. Nothing is changed when no
endpoint is configured, when ``--endpoint-url`` was given, or when
``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` is set.
"""

from __future__ import annotations

from typing import Any

#: The services for which aws-cli v1 overrides the endpoint (kept here: the CLI's table is private).
OVERRIDDEN = frozenset({"rds", "docdb", "neptune", "sqs", "emr", "health"})


def awscli_initialize(cli: Any) -> None:
    # ``register`` (not ``register_last``): it must run before the CLI's own override.
    cli.register("before-building-argument-table-parser", use_configured_endpoint)


def use_configured_endpoint(session: Any, parsed_globals: Any, **_: Any) -> None:
    service = getattr(parsed_globals, "command", None)
    if service not in OVERRIDDEN or getattr(parsed_globals, "endpoint_url", None) is not None:
        return
    url = configured_endpoint(session, str(service))
    if url:
        parsed_globals.endpoint_url = url


def configured_endpoint(session: Any, service: str) -> str | None:
    """The endpoint botocore resolves for ``service`` from the environment and config file."""
    from botocore.configprovider import ConfiguredEndpointProvider

    if session.get_config_variable("ignore_configured_endpoint_urls"):
        return None
    provider = ConfiguredEndpointProvider(full_config=session.full_config,
                                          scoped_config=session.get_scoped_config(), client_name=service)
    found = provider.provide()
    return str(found) if found else None
