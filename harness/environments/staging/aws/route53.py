"""Route 53 records in one hosted zone: UPSERT and wait for the change to be INSYNC
(every Route 53 name server answers with it), read a record, delete one.

The ``dns`` role of a staging environment (:class:`~drillbook.harness.environments.base.DnsRole`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drillbook.harness.calls.declared import AwsActions, declare
from drillbook.harness.environments.staging.aws.client import aws_call, client
from drillbook.harness.environments.staging.settings import AwsSettings
from drillbook.harness.environments.staging.waiting import Progress, wait_until

CALLS = declare(
    __name__,
    "read the hosted zone and its records, UPSERT a record, wait for the change to be INSYNC",
    aws=AwsActions("route53", ("GetHostedZone", "ListResourceRecordSets", "ChangeResourceRecordSets",
                               "GetChange")),
)


@dataclass(frozen=True)
class Record:
    name: str
    type: str
    values: tuple[str, ...]
    ttl: int | None


@dataclass(frozen=True)
class Change:
    id: str
    status: str
    submitted_at: datetime
    #: How long INSYNC took to come (None when not waited for).
    insync_after_s: float | None = None


class Route53Records:
    def __init__(
        self,
        aws: AwsSettings,
        hosted_zone_id: str,
        *,
        ttl: int = 60,
        where: str = "[dns]",
        poll_interval: float = 5.0,
        progress: Progress | None = None,
        record: str | None = None,
        dr_target: str | None = None,
    ) -> None:
        self.aws = aws
        self.zone_id = hosted_zone_id.rsplit("/", 1)[-1]
        self.ttl = ttl
        #: The API's record and its DR region target (the profile's ``record``, ``dr_target``).
        self.record = record
        self.dr_target = dr_target
        self.where = where
        self.poll_interval = poll_interval
        self.progress = progress
        self.api = client(aws, "route53")

    def _hints(self) -> dict[str, str]:
        return {
            "NoSuchHostedZone": f"no Route 53 hosted zone {self.zone_id!r}: "
            f"check {self.where} hosted_zone_id",
            "AwsAccessDenied": f"the AWS credentials may not change hosted zone {self.zone_id!r}: grant "
            "route53:ChangeResourceRecordSets and route53:GetChange",
        }

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        return aws_call(what, fn, hints=self._hints(), **kwargs)

    def zone_name(self) -> str:
        out = self._call(f"get hosted zone {self.zone_id}", self.api.get_hosted_zone, Id=self.zone_id)
        return str(out["HostedZone"]["Name"])

    def upsert(self, name: str, value: str, *, wait: bool = True, timeout: float = 300.0) -> None:
        """The :class:`DnsRole` call: UPSERT, then (by default) wait until INSYNC."""
        self.change("UPSERT", name, value, wait=wait, timeout=timeout)

    def change(
        self,
        action: str,
        name: str,
        value: str,
        *,
        record_type: str | None = None,
        ttl: int | None = None,
        wait: bool = True,
        timeout: float = 300.0,
    ) -> Change:
        kind = record_type or record_type_for(value)
        batch = {
            "Comment": f"drillbook {action}",
            "Changes": [
                {
                    "Action": action,
                    "ResourceRecordSet": {
                        "Name": fqdn(name),
                        "Type": kind,
                        "TTL": self.ttl if ttl is None else ttl,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
            ],
        }
        out = self._call(
            f"{action} {kind} {name}",
            self.api.change_resource_record_sets,
            HostedZoneId=self.zone_id,
            ChangeBatch=batch,
        )
        info = out["ChangeInfo"]
        change = Change(
            str(info["Id"]).rsplit("/", 1)[-1],
            str(info["Status"]),
            info.get("SubmittedAt") or datetime.now(UTC),
        )
        if wait:
            return self.wait_insync(change, timeout=timeout)
        return change

    def wait_insync(self, change: Change, *, timeout: float = 300.0) -> Change:
        def poll() -> tuple[bool, str]:
            out = self._call(f"get change {change.id}", self.api.get_change, Id=change.id)
            status = str(out["ChangeInfo"]["Status"])
            return status == "INSYNC", status

        waited = wait_until(
            f"Route 53 change {change.id} to be INSYNC",
            poll,
            timeout=timeout,
            interval=self.poll_interval,
            progress=self.progress,
        )
        return Change(change.id, waited.state, change.submitted_at, waited.seconds)

    def get(self, name: str, record_type: str | None = None) -> Record | None:
        wanted = fqdn(name)
        kwargs: dict[str, Any] = {"HostedZoneId": self.zone_id, "StartRecordName": wanted, "MaxItems": "10"}
        if record_type:
            kwargs["StartRecordType"] = record_type
        out = self._call(f"read {name}", self.api.list_resource_record_sets, **kwargs)
        for rrset in out.get("ResourceRecordSets", []):
            if rrset["Name"] != wanted or (record_type and rrset["Type"] != record_type):
                continue
            if rrset["Type"] not in ("A", "AAAA", "CNAME", "TXT"):
                continue
            values = tuple(str(v["Value"]) for v in rrset.get("ResourceRecords") or ())
            if not values and rrset.get("AliasTarget"):
                values = (str(rrset["AliasTarget"]["DNSName"]).rstrip("."),)
            return Record(wanted, str(rrset["Type"]), values, rrset.get("TTL"))
        return None

    def resolve(self, name: str) -> str | None:
        record = self.get(name)
        return record.values[0] if record and record.values else None

    def delete(self, name: str, *, wait: bool = True, timeout: float = 300.0) -> bool:
        """Delete the record called ``name``; False if there was none."""
        record = self.get(name)
        if record is None:
            return False
        batch = {
            "Changes": [
                {
                    "Action": "DELETE",
                    "ResourceRecordSet": {
                        "Name": record.name,
                        "Type": record.type,
                        "TTL": record.ttl if record.ttl is not None else self.ttl,
                        "ResourceRecords": [{"Value": v} for v in record.values],
                    },
                }
            ]
        }
        out = self._call(
            f"DELETE {name}",
            self.api.change_resource_record_sets,
            HostedZoneId=self.zone_id,
            ChangeBatch=batch,
        )
        if wait:
            info = out["ChangeInfo"]
            self.wait_insync(
                Change(str(info["Id"]).rsplit("/", 1)[-1], str(info["Status"]), datetime.now(UTC)),
                timeout=timeout,
            )
        return True


def fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def record_type_for(value: str) -> str:
    try:
        return "AAAA" if ipaddress.ip_address(value).version == 6 else "A"
    except ValueError:
        return "CNAME"
