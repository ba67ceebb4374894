"""Paging and acknowledgement end to end against a real local HTTP receiver."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.harness.config import Config
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.paging import DEFAULT_LEVELS, Level, PagingPolicy, Webhook, engage, policy_from_config
from drillbook.harness.paging.ackfile import path_for
from drillbook.harness.paging.webhook import send
from tests.paging.receiver import Receiver, running

TOKEN = "tok-3f9a1c77e2d54b0b8c1d"


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TEST_PAGING_TOKEN", TOKEN)
    return TOKEN


def policy(url: str, *levels: float, retries: int = 2, timeout: float = 2.0) -> PagingPolicy:
    return PagingPolicy(
        webhook=Webhook(
            url=url, token_env="TEST_PAGING_TOKEN", timeout_s=timeout, retries=retries, backoff_s=0.05
        ),
        levels=tuple(
            Level(i, name, f"person {i}", s)
            for i, (name, s) in enumerate(
                zip(("on-call engineer", "technical lead", "incident commander"), levels, strict=False),
                start=1,
            )
        ),
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(Receiver()) as r:
        yield r


def test_acknowledgement_by_http_callback_measures_time_to_engage(
    receiver: Receiver, token: str, tmp_path: Path
) -> None:
    receiver.ack_after = {1: 0.3}
    lines: list[str] = []
    result = engage(
        policy(receiver.url, 5.0, 5.0), "run-1", state_dir=tmp_path, summary="Drill.", say=lines.append
    )
    assert result.outcome == "acknowledged"
    assert (result.acked_level, result.escalations, result.levels_paged) == (1, 0, [1])
    assert result.acked_by == "pager" and result.ack_source == "http"
    assert result.time_to_engage_s is not None and 0.3 <= result.time_to_engage_s < 3.0
    assert result.paged_at is not None and result.acked_at is not None and result.acked_at > result.paged_at
    (page,) = receiver.pages
    assert page.headers["Authorization"] == f"Bearer {token}"
    assert page.body["level"] == 1 and page.body["contact"] == "person 1" and page.body["run_id"] == "run-1"
    assert page.body["ack_command"] == "drillbook ack run-1"
    # The token reaches the receiver only: not the journal figures, not the output.
    assert token not in json.dumps(result.to_dict()) and token not in "\n".join(lines)
    assert not path_for(tmp_path, "run-1").exists()  # the ack file is gone once engaged


def test_a_late_acknowledgement_escalates_to_the_next_level(
    receiver: Receiver, token: str, tmp_path: Path
) -> None:
    receiver.ack_after = {2: 0.2}  # the on-call never answers; the technical lead does
    started = time.monotonic()
    result = engage(
        policy(receiver.url, 0.8, 5.0), "run-2", state_dir=tmp_path, summary="Drill.", say=lambda _: None
    )
    assert result.outcome == "acknowledged"
    assert (result.acked_level, result.escalations, result.levels_paged) == (2, 1, [1, 2])
    assert [p.outcome for p in result.levels] == ["no response", "acknowledged"]
    assert result.levels[0].waited_s >= 0.8
    assert result.time_to_engage_s is not None and 1.0 <= result.time_to_engage_s < 4.0
    _, second = receiver.pages
    assert second.at - started >= 0.8  # escalated only once level 1's response time was over
    assert second.body["escalation"] is True and second.body["role"] == "technical lead"
    assert time.monotonic() - started < 5.0


def test_nobody_acknowledges_every_level_is_paged(receiver: Receiver, token: str, tmp_path: Path) -> None:
    result = engage(
        policy(receiver.url, 0.3, 0.3, 0.3), "run-3", state_dir=tmp_path, summary="Drill.", say=lambda _: None
    )
    assert result.outcome == "unacknowledged"
    assert result.levels_paged == [1, 2, 3] and result.escalations == 2
    assert result.acked_at is None and result.time_to_engage_s is None
    assert [p.body["level"] for p in receiver.pages] == [1, 2, 3]


def test_drillbook_ack_on_the_command_line(receiver: Receiver, token: str, tmp_path: Path) -> None:
    def ack_when_paged() -> None:
        deadline = time.monotonic() + 20
        while not receiver.pages and time.monotonic() < deadline:
            time.sleep(0.05)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "drillbook",
                "ack",
                "run-4",
                "--by",
                "alice",
                "--state-dir",
                str(tmp_path),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    thread = threading.Thread(target=ack_when_paged)
    thread.start()
    result = engage(
        policy(receiver.url, 30.0), "run-4", state_dir=tmp_path, summary="Drill.", say=lambda _: None
    )
    thread.join()
    assert result.outcome == "acknowledged" and result.acked_by == "alice" and result.ack_source == "cli"
    assert result.time_to_engage_s is not None and result.time_to_engage_s < 25


def test_drillbook_ack_without_an_engagement_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "drillbook", "ack", "run-none", "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no engagement is waiting for run run-none" in done.stderr and "Traceback" not in done.stderr


def test_a_wrong_acknowledgement_key_is_refused(receiver: Receiver, token: str, tmp_path: Path) -> None:
    statuses: list[int] = []

    def forge() -> None:
        while not receiver.pages:
            time.sleep(0.02)
        url = receiver.pages[0].body["ack_url"]
        forged = url[: url.index("key=") + 4] + "not-the-key"
        try:
            urllib.request.urlopen(forged, timeout=5)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)

    thread = threading.Thread(target=forge)
    thread.start()
    result = engage(
        policy(receiver.url, 0.6), "run-5", state_dir=tmp_path, summary="Drill.", say=lambda _: None
    )
    thread.join()
    assert statuses == [403]
    assert result.outcome == "unacknowledged"


def test_retries_until_delivered(receiver: Receiver, token: str) -> None:
    receiver.statuses = [503, 503]
    delivery = send(policy(receiver.url, 1.0, retries=3).webhook, {"level": 1, "ack_url": "x"})
    assert delivery.delivered and delivery.attempts == 3 and delivery.status == 200


def test_a_rejected_page_escalates_at_once(receiver: Receiver, token: str, tmp_path: Path) -> None:
    receiver.reject_levels = {1}
    receiver.ack_after = {2: 0.1}
    result = engage(
        policy(receiver.url, 30.0, 5.0), "run-6", state_dir=tmp_path, summary="Drill.", say=lambda _: None
    )
    assert [p.outcome for p in result.levels] == ["undeliverable", "acknowledged"]
    assert result.levels[0].attempts == 1 and "HTTP 400" in result.levels[0].error  # 4xx: not retried
    assert result.time_to_engage_s is not None and result.time_to_engage_s < 5.0


def test_a_slow_webhook_times_out_and_is_retried(receiver: Receiver, token: str) -> None:
    receiver.delay = 1.0
    started = time.monotonic()
    delivery = send(policy(receiver.url, 1.0, retries=1, timeout=0.3).webhook, {"level": 1})
    assert not delivery.delivered and delivery.attempts == 2
    assert "timed out" in delivery.error
    assert time.monotonic() - started < 5.0


def test_a_secret_webhook_url_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from drillbook.twin.postgres import free_port

    secret_url = f"http://127.0.0.1:{free_port()}/hooks/T000/B000/s3cr3tpath"
    monkeypatch.setenv("TEST_PAGING_URL", secret_url)
    webhook = Webhook(url_env="TEST_PAGING_URL", timeout_s=0.5, retries=0)
    delivery = send(webhook, {"level": 1})
    assert not delivery.delivered
    assert "$TEST_PAGING_URL" in delivery.error and "s3cr3tpath" not in delivery.error


def test_an_excluded_contact_is_skipped(receiver: Receiver, token: str, tmp_path: Path) -> None:
    receiver.ack_after = {2: 0.1}
    result = engage(
        policy(receiver.url, 30.0, 5.0),
        "run-7",
        state_dir=tmp_path,
        summary="Drill.",
        excluded=["Person 1"],
        say=lambda _: None,
    )
    assert [p.outcome for p in result.levels] == ["skipped", "acknowledged"]
    assert [p.body["level"] for p in receiver.pages] == [2]


def test_policy_defaults_follow_the_escalation_path() -> None:
    assert policy_from_config(Config({})) is None
    pol = policy_from_config(Config({"paging": {"url_env": "X"}}))
    assert pol is not None and pol.levels == DEFAULT_LEVELS
    assert [(lv.name, lv.respond_within_s) for lv in pol.levels] == [
        ("on-call engineer", 900.0),
        ("technical lead", 1800.0),
        ("incident commander", 3600.0),
    ]
    scaled = policy_from_config(
        Config(
            {
                "paging": {
                    "url": "http://127.0.0.1:1/p",
                    "levels": [
                        {"name": "on-call", "respond_within": "150ms"},
                        {"name": "lead", "respond_within": "0.3s"},
                    ],
                }
            }
        )
    )
    assert scaled is not None and [lv.respond_within_s for lv in scaled.levels] == [0.15, 0.3]


@pytest.mark.parametrize(
    ("paging", "message"),
    [
        ({"url": "http://a", "url_env": "B"}, "exactly one of url"),
        ({"url": "ftp://a"}, "http(s) URL"),
        ({"url_env": "X", "retries": -1}, "retries must be >= 0"),
        ({"url_env": "X", "levels": [{"name": "x"}]}, "level 1 needs respond_within"),
        ({"url_env": "X", "levels": [{"respond_within": "soon"}]}, "invalid"),
        ({"url_env": "X", "rotation": {"start": "2025-01-06T09:00Z", "every": "7d"}}, "missing 'people'"),
    ],
)
def test_bad_paging_config_names_the_problem(paging: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidDrillConfig, match="paging") as info:
        policy_from_config(Config({"paging": paging}))
    assert message in str(info.value)


def test_an_unset_token_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_PAGING_TOKEN", raising=False)
    with pytest.raises(InvalidDrillConfig, match="TEST_PAGING_TOKEN is not set"):
        send(Webhook(url="http://127.0.0.1:1/", token_env="TEST_PAGING_TOKEN"), {})
