"""A simulated account compromise, made for real through the platform (Scenario 3)."""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import redis

from drillbook.faults.base import Fault
from drillbook.harness.errors import FaultError, InvalidDrillConfig
from drillbook.harness.redact import register_secret
from drillbook.harness.reference_app import TEST_USER_PASSWORD

#: The credential the attacker holds for ``target``: the sample data's published password,
#: as a leaked password list would have it.
LEAKED_PASSWORD = TEST_USER_PASSWORD
SESSION_PREFIX = "session:"


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class SecurityCompromise(Fault):
    """Unauthorized access through the front door, from an attacker's own address.

    What the platform sees (audit_log, the replicas' logs, Redis):

    - ``victim`` logs in as usual, from the platform's usual client address; the
      attacker steals that session token (:attr:`stolen_token`);
    - from ``attacker_ip`` (a loopback address of its own, e.g. ``127.66.3.4``, so
      the front door reports it in ``X-Forwarded-For`` and the service audits it):
      ``failed_logins`` wrong passwords against ``target`` (``login_failed`` rows),
      then a successful login with its leaked password (a ``login`` row, a session);
    - with the stolen token, from ``attacker_ip``: ``bulk_reads`` full pages of
      ``GET /api/projects`` (``read`` rows of ``victim``): a bulk export.

    Revert deletes every session of ``victim`` and ``target`` in Redis (they are
    logged out); the audit rows are append-only and stay, as evidence. Local only:
    the attacker's address must be bindable on this host.
    """

    name = "security_compromise"
    blast_radius = "two user accounts (sessions, audit rows); read-only on the data"
    rollback = "delete the sessions of the two accounts in Redis; audit rows stay (append-only)"

    def __init__(
        self,
        front_door_url: str,
        redis_url: str,
        victim: str,
        target: str,
        attacker_ip: str | None = None,
        *,
        failed_logins: int = 12,
        bulk_reads: int = 120,
        page: int = 100,
        timeout: float = 5.0,
    ) -> None:
        for label, value in (("failed_logins", failed_logins), ("bulk_reads", bulk_reads), ("page", page)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidDrillConfig(f"{label} must be a whole number >= 1, not {value!r}")
        if victim == target:
            raise InvalidDrillConfig("victim (token stolen) and target (password guessed) must differ")
        url = urllib.parse.urlsplit(front_door_url)
        if url.scheme != "http" or not url.hostname or not url.port:
            raise InvalidDrillConfig(f"front_door_url must be http://host:port, not {front_door_url!r}")
        self.front_door_url, self.redis_url = front_door_url, redis_url
        self.victim, self.target = victim, target
        self.attacker_ip = attacker_ip or f"127.66.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
        self.failed_logins, self.bulk_reads, self.page, self.timeout = (
            failed_logins,
            bulk_reads,
            page,
            timeout,
        )
        self._host, self._port = url.hostname, url.port
        self.stolen_token: str | None = None
        self.attacker_token: str | None = None
        self.rows_read = 0

    # -- HTTP through the front door, from a chosen source address (None: the usual one) ----

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        source: str | None = None,
    ) -> Answer:
        conn = http.client.HTTPConnection(
            self._host, self._port, timeout=self.timeout, source_address=(source, 0) if source else None
        )
        headers = {"Content-Type": "application/json", "User-Agent": "python-requests/2.31.0"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except OSError as exc:
            raise FaultError(f"{method} {path} from {source or 'the usual address'} failed: {exc}") from exc
        finally:
            conn.close()
        try:
            parsed = json.loads(raw or b"{}")
        except ValueError:
            parsed = {}
        return Answer(response.status, parsed if isinstance(parsed, dict) else {})

    def login(self, email: str, password: str, source: str | None) -> Answer:
        return self.request("POST", "/api/auth/login", {"email": email, "password": password}, source=source)

    # -- the fault ------------------------------------------------------------------------

    def inject(self) -> None:
        victim = self.login(self.victim, LEAKED_PASSWORD, None)
        if victim.status != 200:
            raise FaultError(
                f"the victim {self.victim} cannot log in (HTTP {victim.status} "
                f"{victim.body.get('error')}): is the account active?"
            )
        self.stolen_token = str(victim.body["token"])
        register_secret(self.stolen_token)
        for attempt in range(self.failed_logins):
            guess = self.login(self.target, f"guess-{attempt}-{secrets.token_hex(3)}", self.attacker_ip)
            if guess.status == 403 and guess.body.get("error") == "forbidden":
                raise FaultError(f"{self.attacker_ip} is blocked already: revert the earlier containment")
        broken_in = self.login(self.target, LEAKED_PASSWORD, self.attacker_ip)
        if broken_in.status != 200:
            raise FaultError(f"the attacker's login as {self.target} failed: HTTP {broken_in.status}")
        self.attacker_token = str(broken_in.body["token"])
        register_secret(self.attacker_token)

        def read(number: int) -> int:
            answer = self.request(
                "GET", f"/api/projects?limit={self.page}", token=self.stolen_token, source=self.attacker_ip
            )
            if answer.status != 200:
                raise FaultError(
                    f"bulk read {number} answered HTTP {answer.status} {answer.body.get('error')}"
                )
            return int(answer.body.get("count", 0))

        with ThreadPoolExecutor(max_workers=4) as pool:  # a scraper does not read one page at a time
            self.rows_read = sum(pool.map(read, range(self.bulk_reads)))

    def revert(self) -> None:
        client = redis.Redis.from_url(
            self.redis_url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout
        )
        accounts = {self.victim.lower(), self.target.lower()}
        try:
            for key in client.scan_iter(match=f"{SESSION_PREFIX}*", count=500):
                raw = client.get(key)
                if raw is not None and str(_json(raw).get("email", "")).lower() in accounts:
                    client.delete(key)
        except redis.RedisError as exc:
            raise FaultError(f"cannot log the compromised accounts out at {self.redis_url}: {exc}") from exc
        finally:
            client.close()

    def describe(self) -> dict[str, Any]:
        return {
            "front_door_url": self.front_door_url,
            "redis_url": self.redis_url,
            "victim": self.victim,
            "target": self.target,
            "attacker_ip": self.attacker_ip,
            "failed_logins": self.failed_logins,
            "bulk_reads": self.bulk_reads,
            "page": self.page,
            "timeout": self.timeout,
        }


def _json(raw: Any) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def session_id(token: str) -> str | None:
    """The session a token names (its ``sid`` claim: public, like any JWT payload)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    sid = claims.get("sid") if isinstance(claims, dict) else None
    return str(sid) if sid else None
