"""Readiness items: the DR procedures' "Pre-Disaster Preparation" checklist, each line
checked automatically where it can be and listed for a person to confirm where not."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    MANUAL = "MANUAL"  # a person confirms it (or it cannot be measured here)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Item:
    key: str
    title: str
    #: The Appendix A line it evidences.
    checklist: str
    state: State
    detail: str = ""
    automated: bool = True
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class Readiness:
    generated_at: str
    environment: str
    results: str
    items: list[Item] = field(default_factory=list)

    @property
    def failed(self) -> list[Item]:
        return [i for i in self.items if i.automated and i.state is State.FAIL]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["ok"] = self.ok
        for item in data["items"]:
            item["state"] = str(item["state"])
        return data


def passed(key: str, title: str, checklist: str, detail: str, **evidence: Any) -> Item:
    return Item(key, title, checklist, State.PASS, detail, True, evidence)


def failed(key: str, title: str, checklist: str, detail: str, **evidence: Any) -> Item:
    return Item(key, title, checklist, State.FAIL, detail, True, evidence)


def manual(key: str, title: str, checklist: str, detail: str, **evidence: Any) -> Item:
    return Item(key, title, checklist, State.MANUAL, detail, False, evidence)
