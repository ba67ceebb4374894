"""Time to engage: page the escalation path and measure until someone acknowledges.

Level by level: page (webhook, with retries), wait up to the level's response
time for an acknowledgement, escalate to the next level when none came. A level
whose page could not be delivered is escalated at once. ``time_to_engage_s`` is
the monotonic time from the first page to the acknowledgement.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillbook.harness.durations import format_duration
from drillbook.harness.paging.ackfile import AckFile, AckTarget
from drillbook.harness.paging.ackserver import Ack, AckServer
from drillbook.harness.paging.policy import Level, PagingPolicy
from drillbook.harness.paging.rotation import same_person
from drillbook.harness.paging.webhook import send
from drillbook.harness.redact import register_secret
from drillbook.harness.timing import Clock

Say = Callable[[str], None]


@dataclass
class LevelPage:
    level: int
    name: str
    contact: str
    respond_within_s: float
    outcome: str  # acknowledged, no response, undeliverable, skipped
    paged_at: str | None = None
    delivered: bool = False
    attempts: int = 0
    status: int | None = None
    error: str = ""
    waited_s: float = 0.0


@dataclass
class Engagement:
    run_id: str
    outcome: str  # acknowledged, unacknowledged, undeliverable
    paged_at: str | None = None
    acked_at: str | None = None
    time_to_engage_s: float | None = None
    acked_by: str | None = None
    acked_level: int | None = None
    ack_source: str | None = None
    escalations: int = 0
    levels: list[LevelPage] = field(default_factory=list)

    @property
    def levels_paged(self) -> list[int]:
        return [p.level for p in self.levels if p.delivered]

    def to_dict(self) -> dict[str, Any]:
        """``extra["engagement"]`` of the journal records."""
        data = dataclasses.asdict(self)
        data["levels_paged"] = self.levels_paged
        if data["time_to_engage_s"] is not None:
            data["time_to_engage_s"] = round(data["time_to_engage_s"], 3)
        return data


def engage(
    policy: PagingPolicy,
    run_id: str,
    *,
    state_dir: Path,
    summary: str,
    excluded: Sequence[str] = (),
    say: Say = print,
) -> Engagement:
    key = secrets.token_urlsafe(24)
    register_secret(key)
    clock = Clock()
    pages: list[LevelPage] = []
    first: float | None = None
    ack: Ack | None = None
    acked_level: int | None = None
    host, port = policy.ack_bind
    with (
        AckServer(run_id, key, host=host, port=port) as server,
        AckFile(state_dir, AckTarget(run_id, server.url, key)),
    ):
        for level in policy.levels:
            contact = _contact(policy, level, clock)
            if any(same_person(contact, person) for person in excluded):
                pages.append(
                    LevelPage(
                        level.number,
                        level.name,
                        contact,
                        level.respond_within_s,
                        "skipped",
                        error="excluded: knows the sealed plan",
                    )
                )
                say(f"level {level.number} ({contact}) skipped: excluded")
                continue
            page = _page(policy, level, contact, run_id, summary, server.ack_url(policy.ack_url))
            sent = time.monotonic()
            first = sent if first is None else first
            delivery = send(policy.webhook, page)
            record = LevelPage(
                level.number,
                level.name,
                contact,
                level.respond_within_s,
                "undeliverable",
                paged_at=clock.iso(sent),
                delivered=delivery.delivered,
                attempts=delivery.attempts,
                status=delivery.status,
                error=delivery.error,
            )
            pages.append(record)
            if not delivery.delivered:
                say(f"level {level.number} ({contact}) could not be paged: {delivery.error}")
                if server.ack is not None:
                    break
                continue
            say(
                f"paged level {level.number}: {level.name} ({contact}); waiting up to "
                f"{format_duration(level.respond_within_s)} for an acknowledgement"
            )
            ack = server.wait(level.respond_within_s - (time.monotonic() - sent))
            record.waited_s = round(time.monotonic() - sent, 3)
            if ack is not None:
                record.outcome = "acknowledged"
                acked_level = level.number
                break
            record.outcome = "no response"
            say(f"level {level.number} did not acknowledge within {format_duration(level.respond_within_s)}")
        ack = ack or server.ack
    return _result(run_id, clock, pages, first, ack, acked_level)


def _contact(policy: PagingPolicy, level: Level, clock: Clock) -> str:
    if level.number == 1 and policy.rotation is not None:
        return policy.rotation.on_call(clock.wall())
    return level.contact


def _page(
    policy: PagingPolicy, level: Level, contact: str, run_id: str, summary: str, ack_url: str
) -> dict[str, Any]:
    return {
        "event": "drillbook.page",
        "run_id": run_id,
        "level": level.number,
        "role": level.name,
        "contact": contact,
        "escalation": level.number > 1,
        "respond_within_s": level.respond_within_s,
        "summary": f"{summary} Acknowledge within {format_duration(level.respond_within_s)}.",
        "ack_url": ack_url,
        "ack_command": f"drillbook ack {run_id}",
    }


def _result(
    run_id: str,
    clock: Clock,
    pages: list[LevelPage],
    first: float | None,
    ack: Ack | None,
    acked_level: int | None,
) -> Engagement:
    delivered = [p for p in pages if p.delivered]
    if ack is not None:
        outcome = "acknowledged"
    elif delivered:
        outcome = "unacknowledged"
    else:
        outcome = "undeliverable"
    return Engagement(
        run_id=run_id,
        outcome=outcome,
        paged_at=clock.iso(first) if first is not None else None,
        acked_at=clock.iso(ack.mono) if ack is not None else None,
        time_to_engage_s=(ack.mono - first) if ack is not None and first is not None else None,
        acked_by=ack.by if ack is not None else None,
        acked_level=acked_level,
        ack_source=ack.source if ack is not None else None,
        escalations=max(0, len(delivered) - 1),
        levels=pages,
    )
