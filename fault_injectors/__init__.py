"""The fault library: ``from drillbook.faults import ProcessKill, NetworkPartition, ...``.

One fault per module, each registered through the entry point group
``drillbook.fault_injectors`` (a fault of your own registers the same way). Classes are
imported on first use. See ``fault_injectors/README.md`` to write one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drillbook._lazy import exporter

_EXPORTS = {
    "Fault": "drillbook.faults.base",
    "ToxicFault": "drillbook.faults.network_toxic",
    "NoopFault": "drillbook.faults.noop",
    "ProcessPause": "drillbook.faults.process_pause",
    "ProcessKill": "drillbook.faults.process_kill",
    "NetworkPartition": "drillbook.faults.network_partition",
    "NetworkLatency": "drillbook.faults.network_latency",
    "NetworkBandwidth": "drillbook.faults.network_bandwidth",
    "NetworkReset": "drillbook.faults.network_reset",
    "PostgresTableLoss": "drillbook.faults.postgres_table_loss",
    "PostgresBloat": "drillbook.faults.postgres_bloat",
    "PostgresIndexCorruption": "drillbook.faults.postgres_index_corruption",
    "PostgresHeapPage": "drillbook.faults.postgres_heap_page",
    "DeploymentEnv": "drillbook.faults.deployment_env",
    "DeploymentScale": "drillbook.faults.deployment_scale",
    "DeploymentRelease": "drillbook.faults.deployment_release",
    "DeploymentBadRelease": "drillbook.faults.deployment_bad_release",
    "SecurityCompromise": "drillbook.faults.security_compromise",
    "AccountSuspension": "drillbook.faults.account_suspension",
    "RestoredDatabase": "drillbook.faults.restored_database",
    "ReplicaPromotion": "drillbook.faults.replica_promotion",
    "DnsRecord": "drillbook.faults.dns_record",
    "DatabaseSwitchover": "drillbook.faults.database_switchover",
    "DatabaseFailover": "drillbook.faults.database_failover",
    "DatabaseReboot": "drillbook.faults.database_reboot",
    "DatabaseStop": "drillbook.faults.database_stop",
    "RdsStop": "drillbook.faults.rds_stop",
    "RdsRebootFailover": "drillbook.faults.rds_reboot_failover",
    "RdsDelete": "drillbook.faults.rds_delete",
    "K8sPodKill": "drillbook.faults.k8s_pod_kill",
    "K8sScaleToZero": "drillbook.faults.k8s_scale_to_zero",
    "K8sBadRollout": "drillbook.faults.k8s_bad_rollout",
    "K8sZoneDrain": "drillbook.faults.k8s_zone_drain",
}

__all__ = [
    "AccountSuspension",
    "DatabaseFailover",
    "DatabaseReboot",
    "DatabaseStop",
    "DatabaseSwitchover",
    "DeploymentBadRelease",
    "DeploymentEnv",
    "DeploymentRelease",
    "DeploymentScale",
    "DnsRecord",
    "Fault",
    "K8sBadRollout",
    "K8sPodKill",
    "K8sScaleToZero",
    "K8sZoneDrain",
    "NetworkBandwidth",
    "NetworkLatency",
    "NetworkPartition",
    "NetworkReset",
    "NoopFault",
    "PostgresBloat",
    "PostgresHeapPage",
    "PostgresIndexCorruption",
    "PostgresTableLoss",
    "ProcessKill",
    "ProcessPause",
    "RdsDelete",
    "RdsRebootFailover",
    "RdsStop",
    "ReplicaPromotion",
    "RestoredDatabase",
    "SecurityCompromise",
    "ToxicFault",
]

if TYPE_CHECKING:
    from drillbook.faults.account_suspension import AccountSuspension
    from drillbook.faults.base import Fault
    from drillbook.faults.database_failover import DatabaseFailover
    from drillbook.faults.database_reboot import DatabaseReboot
    from drillbook.faults.database_stop import DatabaseStop
    from drillbook.faults.database_switchover import DatabaseSwitchover
    from drillbook.faults.deployment_bad_release import DeploymentBadRelease
    from drillbook.faults.deployment_env import DeploymentEnv
    from drillbook.faults.deployment_release import DeploymentRelease
    from drillbook.faults.deployment_scale import DeploymentScale
    from drillbook.faults.dns_record import DnsRecord
    from drillbook.faults.k8s_bad_rollout import K8sBadRollout
    from drillbook.faults.k8s_pod_kill import K8sPodKill
    from drillbook.faults.k8s_scale_to_zero import K8sScaleToZero
    from drillbook.faults.k8s_zone_drain import K8sZoneDrain
    from drillbook.faults.network_bandwidth import NetworkBandwidth
    from drillbook.faults.network_latency import NetworkLatency
    from drillbook.faults.network_partition import NetworkPartition
    from drillbook.faults.network_reset import NetworkReset
    from drillbook.faults.network_toxic import ToxicFault
    from drillbook.faults.noop import NoopFault
    from drillbook.faults.postgres_bloat import PostgresBloat
    from drillbook.faults.postgres_heap_page import PostgresHeapPage
    from drillbook.faults.postgres_index_corruption import PostgresIndexCorruption
    from drillbook.faults.postgres_table_loss import PostgresTableLoss
    from drillbook.faults.process_kill import ProcessKill
    from drillbook.faults.process_pause import ProcessPause
    from drillbook.faults.rds_delete import RdsDelete
    from drillbook.faults.rds_reboot_failover import RdsRebootFailover
    from drillbook.faults.rds_stop import RdsStop
    from drillbook.faults.replica_promotion import ReplicaPromotion
    from drillbook.faults.restored_database import RestoredDatabase
    from drillbook.faults.security_compromise import SecurityCompromise

__getattr__ = exporter(__name__, globals(), _EXPORTS)
