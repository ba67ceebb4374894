from __future__ import annotations

import pytest

from drillbook.faults.dns_record import DnsRecord
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    platform, dns = shared.env.platform, shared.env.dns
    fault = DnsRecord(**shared.where(), record=platform.api_record, value=platform.dr_target)
    return ContractCase(fault, steady=lambda: dns.resolve(platform.api_record) == platform.primary_target,
                        broken=lambda: dns.resolve(platform.api_record) == platform.dr_target)
