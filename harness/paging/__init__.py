"""Paging the on-call through the escalation path and measuring the time to engage."""

from drillbook.harness.paging.ack import acknowledge
from drillbook.harness.paging.engage import Engagement, LevelPage, engage
from drillbook.harness.paging.policy import DEFAULT_LEVELS, Level, PagingPolicy, Webhook, policy_from_config

__all__ = [
    "DEFAULT_LEVELS",
    "Engagement",
    "Level",
    "LevelPage",
    "PagingPolicy",
    "Webhook",
    "acknowledge",
    "engage",
    "policy_from_config",
]
