"""Who led a drill run and who took part: from ``drillbook run --led-by/--participant`` or the
config's ``[report]`` table, written into every journal record of the run (``people``)."""

from __future__ import annotations

from typing import Any

from drillbook.harness.config import Config
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.records import People, Person
from drillbook.harness.redact import redact_text

#: Longer than any name or role; a longer value is a mistake (a pasted file), not a person.
MAX_LENGTH = 200


def parse_person(value: Any, where: str) -> Person:
    """``"Name (Role)"``, ``"Name:Role"``, ``"Name"`` or a table ``{name=..., role=...}``."""
    if isinstance(value, dict):
        name, role = value.get("name", ""), value.get("role", "")
        if not isinstance(name, str) or not isinstance(role, str) or not (name or role):
            raise InvalidDrillConfig(
                f'{where}: a person needs name = "..." and/or role = "...", got {value!r}'
            )
        return _person(name, role, where)
    if not isinstance(value, str) or not value.strip():
        raise InvalidDrillConfig(f'{where}: a person is "Name (Role)", "Name:Role" or a table, not {value!r}')
    text = value.strip()
    if text.endswith(")") and "(" in text:
        name, _, role = text[:-1].partition("(")
    else:
        name, _, role = text.partition(":")
    return _person(name, role, where)


def _person(name: str, role: str, where: str) -> Person:
    name, role = name.strip(), role.strip()
    for what, text in (("name", name), ("role", role)):
        if len(text) > MAX_LENGTH or any(c in text for c in "\r\n\t"):
            raise InvalidDrillConfig(
                f"{where}: a person's {what} is one line of at most {MAX_LENGTH} characters"
            )
    return Person(redact_text(name), redact_text(role))


def parse_name(value: Any, where: str) -> str:
    """One line naming a person (``--led-by``, ``--name``)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidDrillConfig(f"{where}: give a name, e.g. {where} 'Dana Reyes'")
    return _person(value, "", where).name


def run_people(config: Config, led_by: str | None, participants: list[str] | None) -> People | None:
    """The run's people: the command line's where given, else ``[report] led_by / participants``.

    None when neither names anyone (the record then has no ``people`` key).
    """
    table = config.section("report")
    where = f"{config.where()} [report]"
    if led_by is not None:
        lead = parse_name(led_by, "--led-by")
    else:
        raw = table.get("led_by", "")
        if not isinstance(raw, str):
            raise InvalidDrillConfig(f"{where} led_by must be a string, not {raw!r}")
        lead = parse_name(raw, f"{where} led_by") if raw.strip() else ""
    if participants:
        people = [parse_person(p, "--participant") for p in participants]
    else:
        raw_list = table.get("participants", [])
        if not isinstance(raw_list, list):
            raise InvalidDrillConfig(
                f'{where} participants must be a list of "Name (Role)" strings or tables'
            )
        people = [parse_person(p, f"{where} participants") for p in raw_list]
    if not lead and not people:
        return None
    return People(led_by=lead, participants=people)
