"""What the supervisor makes of its probes' answers, as a kubelet would (the control loop acts
on these verdicts; tests/twin/test_supervisor.py shows it on real pods)."""

from __future__ import annotations

from drillbook.twin.supervisor.model import Pod, ProbePolicy
from drillbook.twin.supervisor.probes import ProbeOutcome
from drillbook.twin.supervisor.probing import Probing, judge

POLICY = ProbePolicy(failure_threshold=2, liveness_failure_threshold=3, startup_timeout_s=30.0)


def pod(ready: bool = False, reason: str = "") -> Pod:
    return Pod("api-1", "api", "h", 1, "az-a", "2026-12-02T00:00:00Z", ready=ready, reason=reason)


def answer(ready: bool, alive: bool = True, detail: str = "HTTP 503") -> ProbeOutcome:
    return ProbeOutcome(pid=42, ready=ready, alive=alive, detail="" if ready else detail)


def test_a_ready_answer_makes_a_pod_ready_and_clears_the_counts() -> None:
    record = Probing(42, started=0.0, next_at=0.0, failures=1, live_failures=2)
    verdict = judge(pod(), record, answer(True), POLICY, now=1.0)
    assert verdict.ready and verdict.reason == "" and not verdict.restart
    assert (record.failures, record.live_failures, record.ever_ready) == (0, 0, True)


def test_a_ready_pod_stays_ready_until_the_failure_threshold() -> None:
    record, ready_pod = Probing(42, 0.0, 0.0, ever_alive=True), pod(ready=True)
    first = judge(ready_pod, record, answer(False), POLICY, now=1.0)
    assert first.ready
    second = judge(ready_pod, record, answer(False), POLICY, now=1.5)
    assert not second.ready and second.reason == "readiness probe failed: HTTP 503"


def test_a_pod_not_ready_yet_says_why() -> None:
    refused = answer(False, detail="ConnectionRefusedError")
    verdict = judge(pod(), Probing(42, 0.0, 0.0), refused, POLICY, now=1.0)
    assert not verdict.ready and verdict.reason == "not ready: ConnectionRefusedError"
    assert not verdict.restart  # it has never answered: the startup timeout guards it, not liveness


def test_liveness_failures_after_an_answer_restart_the_process() -> None:
    record = Probing(42, 0.0, 0.0, ever_alive=True)
    verdicts = [judge(pod(), record, answer(False, alive=False), POLICY, now=t) for t in (1.0, 2.0, 3.0)]
    assert [bool(v.restart) for v in verdicts] == [False, False, True]
    assert verdicts[-1].restart == "liveness probe failed" and record.live_failures == 0


def test_a_process_that_never_answers_is_restarted_after_the_startup_timeout() -> None:
    record = Probing(42, started=0.0, next_at=0.0)
    assert not judge(pod(), record, answer(False, alive=False), POLICY, now=29.0).restart
    late = judge(pod(), record, answer(False, alive=False), POLICY, now=31.0)
    assert late.restart == "startup probe failed (no answer within 30s)"
