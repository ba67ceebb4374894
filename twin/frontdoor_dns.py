"""Which pool the front door serves: the API record, read from Route 53 (moto) twice a second.

The record's value (a CNAME target, an alias target's DNS name, or an A
record's address) names a pool; the front door maps it to a deployment
(``api`` in the primary region, ``api-dr`` in the DR region). A Route 53
UPSERT of the record is therefore what moves traffic, as in the DR
procedures' Scenario 1B, not a flag. When Route 53 cannot be read the last
answer stays in force, as a resolver's cache would keep it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RECORD_TYPES = ("CNAME", "A", "AAAA")


def normalise(name: str) -> str:
    return name.strip().rstrip(".").lower()


@dataclass(frozen=True)
class DnsAnswer:
    value: str | None
    record_type: str | None
    read_at: float  # time.monotonic()
    error: str | None = None


class RecordWatcher:
    """Reads ``record_name`` in ``hosted_zone_id`` every ``interval_s``, each call bounded."""

    def __init__(self, *, endpoint: str | None, region: str, hosted_zone_id: str, record_name: str,
                 interval_s: float = 0.5, timeout_s: float = 1.0,
                 credentials: Mapping[str, str] | None = None) -> None:
        self.hosted_zone_id = hosted_zone_id
        self.record_name = normalise(record_name)
        self.interval_s = interval_s
        self._endpoint = endpoint
        self._region = region
        self._timeout_s = timeout_s
        #: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; None: boto3's usual chain (the environment).
        self._credentials = dict(credentials) if credentials else None
        self._client: Any = None
        self._answer = DnsAnswer(None, None, time.monotonic(), "not read yet")
        self._last_error: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    @property
    def answer(self) -> DnsAnswer:
        with self._lock:
            return self._answer

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def start(self) -> None:
        self.refresh()
        threading.Thread(target=self._run, name="route53-watch", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.refresh()

    def refresh(self) -> DnsAnswer:
        try:
            value, kind = self._read()
        except Exception as exc:  # any failure of the API keeps the cached answer
            self._last_error = f"{type(exc).__name__}: {exc}"[:300]
            with self._lock:
                if self._answer.value is None:
                    self._answer = DnsAnswer(None, None, time.monotonic(), self._last_error)
                return self._answer
        self._last_error = None
        with self._lock:
            self._answer = DnsAnswer(value, kind, time.monotonic(),
                                     None if value else f"no {'/'.join(RECORD_TYPES)} record "
                                                        f"{self.record_name} in zone {self.hosted_zone_id}")
            return self._answer

    def _read(self) -> tuple[str | None, str | None]:
        page = self._boto().list_resource_record_sets(
            HostedZoneId=self.hosted_zone_id, StartRecordName=self.record_name, MaxItems="10")
        for record in page.get("ResourceRecordSets", []):
            if normalise(record["Name"]) != self.record_name or record["Type"] not in RECORD_TYPES:
                continue
            alias = record.get("AliasTarget")
            if alias:
                return normalise(alias["DNSName"]), record["Type"]
            values = record.get("ResourceRecords") or []
            if values:
                return normalise(values[0]["Value"]), record["Type"]
        return None, None

    def _boto(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            keys = {}
            if self._credentials:
                keys = {"aws_access_key_id": self._credentials.get("AWS_ACCESS_KEY_ID"),
                        "aws_secret_access_key": self._credentials.get("AWS_SECRET_ACCESS_KEY")}
            self._client = boto3.client(
                "route53", region_name=self._region, endpoint_url=self._endpoint, **keys,
                config=Config(connect_timeout=self._timeout_s, read_timeout=self._timeout_s,
                              retries={"max_attempts": 1, "mode": "standard"}),
            )
        return self._client
