"""Paging the on-call through the escalation path and measuring the time to engage."""

from harness.paging.ack import acknowledge
from harness.paging.engage import Engagement, LevelPage, engage
from harness.paging.policy import DEFAULT_LEVELS, Level, PagingPolicy, Webhook, policy_from_config

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
