"""Each scenario's expected timeline comes from its own section of the DR procedures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drillbook.harness.phases import PHASES, SCALED, TIMELINES, expected_phases, phase_of, timeline

PROCEDURES = (Path(__file__).resolve().parents[2] / "docs" / "dr-procedures.md").read_text()
MINUTES = {"hour": 60, "hours": 60, "minutes": 1}


def section(title: str) -> str:
    start = PROCEDURES.index(f"### {title}")
    end = PROCEDURES.find("\n### ", start + 4)
    return PROCEDURES[start:end]


def test_scenario_1_is_the_procedures_expected_timeline_table() -> None:
    rows = re.findall(
        r"^\| ([A-Z][\w &]+) \| (\d+) min \| (\d+) min \|$", section("Scenario 1"), re.MULTILINE
    )
    table = {phase_of(name): int(minutes) * 60.0 for name, minutes, _ in rows}
    s1 = TIMELINES["complete-infrastructure-failure"]
    assert table == {p.phase: p.seconds for p in s1.phases}
    assert s1.total_s == int(rows[-1][2]) * 60  # 110 minutes elapsed
    assert all(p.basis == "Scenario 1's Expected Timeline table" for p in s1.phases)


@pytest.mark.parametrize(
    ("scenario", "heading"),
    [
        ("database-corruption", "Scenario 2: Database Corruption/Loss"),
        ("security-breach", "Scenario 3: Security Breach"),
        ("data-center-failure", "Scenario 4: Data Center Failure"),
        ("application-crash", "Scenario 5: Application Crash"),
    ],
)
def test_every_scenario_fits_its_own_sections_rto(scenario: str, heading: str) -> None:
    found = timeline(scenario)
    assert found is not None and found.section == heading
    rto = re.search(
        r"\*\*RTO:\*\* (?:Immediate containment, (\d+)-\d+ (hours)|(\d+) (hour|hours|minutes))",
        section(heading),
    )
    assert rto is not None
    number, unit = (rto.group(1), rto.group(2)) if rto.group(1) else (rto.group(3), rto.group(4))
    limit_s = int(number) * MINUTES[unit] * 60.0
    assert found.total_s <= limit_s  # never Scenario 1's 110 minutes for a 30-minute scenario
    assert found.total_text.startswith("RTO: ")
    assert found.total_text[len("RTO: ") :].split(" (")[0] in section(heading)
    assert [p.phase for p in found.phases] == list(PHASES)


def test_scenario_3_states_its_containment_and_investigation() -> None:
    s3 = TIMELINES["security-breach"]
    sec = section("Scenario 3: Security Breach")
    assert "Immediate Containment (First 15 Minutes)" in sec and "Investigation (First Hour)" in sec
    first = s3.phases[0].seconds + s3.phases[1].seconds
    assert first == 15 * 60 and all("Immediate Containment" in p.basis for p in s3.phases[:2])
    assert first + s3.phases[2].seconds == 30 * 60 <= 60 * 60


@pytest.mark.parametrize(("scenario", "minutes"), [("backup-verification", 30), ("deployment-test", 15)])
def test_the_testing_schedules_tests_take_their_stated_time(scenario: str, minutes: int) -> None:
    found = TIMELINES[scenario]
    name = found.section.rsplit(": ", 1)[1]
    assert f"**{name}** ({minutes} minutes)" in PROCEDURES
    assert found.total_s == minutes * 60 and found.recovery_figure != "RTO" and not found.is_outage


def test_scaled_phases_say_so_and_unknown_scenarios_have_none() -> None:
    crash = TIMELINES["application-crash"]
    assert all(p.basis == SCALED for p in crash.phases) and "no phase times" in crash.note
    assert expected_phases("application-crash")["DR activation"] == 7 * 60
    assert crash.elapsed("service restoration") == (2 + 3 + 7 + 11) * 60
    assert timeline("web server freeze") is None
    with pytest.raises(KeyError, match="no expected timeline for scenario 'nope'"):
        expected_phases("nope")
