"""The ``Drill``: steady state, ledger, inject, detect, recover, verify, reconcile, revert.

One ``Drill`` per test. The pytest plugin creates it (the ``drill`` fixture),
and calls :meth:`Drill.finish` right after the test body, in the test's call
phase, so that a drill that is not PASS fails its test like an assertion would.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any, TypeVar

from drillbook.faults.base import Change, Fault, Reversible
from drillbook.harness import polling, registry, verdict
from drillbook.harness.calls.scope import CallLog, scope
from drillbook.harness.durations import format_duration, parse_duration
from drillbook.harness.environments.capabilities import why_missing
from drillbook.harness.errors import (
    DrillbookError,
    FaultError,
    InvalidDrillConfig,
    RecoveryTimeout,
    RevertFailed,
    SteadyStateNotMet,
)
from drillbook.harness.events import Event, engine_event
from drillbook.harness.ledger.reconcile import Reconciliation
from drillbook.harness.ledger.store import LedgerStore
from drillbook.harness.ledger.writer import Ledger
from drillbook.harness.marker import DrillSpec
from drillbook.harness.mutation import Mutation
from drillbook.harness.phases import (
    ACTIVATION,
    ASSESSMENT,
    DETECTION,
    PHASES,
    RESTORATION,
    VERIFICATION,
    recovery_figure,
)
from drillbook.harness.probes import Probe, as_probe
from drillbook.harness.records import (
    CallerKind,
    DrillInfo,
    DrillResult,
    EnvironmentInfo,
    FaultRecord,
    Measured,
    NotRun,
    PhaseRecord,
    Reason,
    Status,
    Targets,
    TimelineEvent,
    Verification,
)
from drillbook.harness.redact import redact, redact_text
from drillbook.harness.settings import DrillSettings
from drillbook.harness.steady import Check, Monitor, check_all
from drillbook.harness.timing import Clock
from drillbook.harness.undolog import UndoLog

T = TypeVar("T")

#: After the reverts, how long the environment has to settle and its steady state to hold.
AFTER_REVERT_S = 60.0
#: A wait longer than this prints progress lines (one per poll, at most one a second).
LONG_WAIT_S = 5.0
#: The poll interval of a drill whose environment did not say (records before the key).
DEFAULT_POLL_S = 0.1
Duration = str | float | int | timedelta
FaultGuard = Callable[[Fault], None]
Progress = Callable[[str], None]


class _Undo(Enum):
    """What an entry of the undo stack is, and so where the record lists it."""

    FAULT = "fault"  # injected: journal ``faults``
    CHANGE = "change"  # applied by the recovery: journal ``changes``


@dataclass
class _Injected:
    fault: Reversible
    seq: int
    record: FaultRecord
    kind: _Undo
    reverted: bool = False


class Drill:
    """Orchestrates one drill. The method names are drillbook's public contract."""

    def __init__(
        self,
        spec: DrillSpec,
        *,
        nodeid: str,
        run_id: str,
        record_id: str,
        settings: DrillSettings,
        undo_log: UndoLog,
        environment: EnvironmentInfo,
        guard: FaultGuard | None = None,
        progress: Progress | None = None,
        mutation: Mutation | None = None,
    ) -> None:
        self.spec = spec
        #: A recovery step swapped on purpose by a mutation test (``--drill-mutate``).
        self.mutation = mutation
        self._mutated: list[str] = []
        self.nodeid = nodeid
        self.run_id = run_id
        self.record_id = record_id
        self.settings = settings
        self.undo_log = undo_log
        self.environment = environment
        self.clock = Clock()
        self.extra: dict[str, Any] = {}
        #: The control-plane calls made by the steps, faults and body of this drill.
        self.calls = CallLog()
        #: How long, after the reverts, the steady state has to come back (a search shortens it).
        self.after_revert_s = AFTER_REVERT_S
        self._guard = guard
        self._progress = progress
        self._probes: list[Probe] = []
        self._monitor: Monitor | None = None
        self._recovery_monitors: list[Monitor] = []
        self._faults: list[_Injected] = []
        self._ledgers: list[Ledger] = []
        self._reconciliations: list[Reconciliation] = []
        self._timeline: list[TimelineEvent] = []
        self._phases: list[PhaseRecord] = []
        self._verification: list[Verification] = []
        self._not_run: list[NotRun] = []
        self._reasons: list[Reason] = []
        self._steady_failed: Reason | None = None
        self._aborted: Reason | None = None
        self._timed_out: Reason | None = None
        self.t_fault: float | None = None
        self._detected: float | None = None
        self._recovered: float | None = None
        self._finished: DrillResult | None = None
        self._event(Event.TEST_START, spec.scenario)

    # -- the public contract -------------------------------------------------

    def steady_state(self, *probes: Probe | Callable[[], Any]) -> Check:
        """Declare the steady state and check it now, before any fault.

        If it does not hold the drill is FAIL with that reason, nothing can be
        injected, and :class:`SteadyStateNotMet` ends the test body.
        """
        if self._faults:
            raise InvalidDrillConfig("declare the steady state before injecting any fault")
        if not probes:
            raise InvalidDrillConfig("steady_state() needs at least one probe")
        self._probes = [as_probe(p) for p in probes]
        check = check_all(self._probes)
        if not check.passed:
            self._steady_failed = verdict.steady_state_not_met(check.detail)
            self._event(Event.STEADY_STATE_NOT_MET, check.detail)
            raise SteadyStateNotMet(f"steady state does not hold before the fault: {check.detail}")
        self._event(Event.STEADY_STATE_HOLDS, ", ".join(p.name for p in self._probes))
        return check

    def inject(self, fault: Fault) -> Fault:
        """Record ``fault`` in the undo log, inject it, record ``t_fault``, push its revert."""
        if not isinstance(fault, Fault):
            raise InvalidDrillConfig(
                f"{type(fault).__name__} is not a Fault: a recovery change is made with drill.apply(...)"
            )
        if self._steady_failed is not None:
            raise SteadyStateNotMet(f"not injecting {fault.name}: steady state did not hold")
        if self._guard is not None:
            self._guard(fault)
        params = fault.describe()
        seq = self.undo_log.before_inject(fault.name, params, registry.is_registered(fault), self.nodeid)
        record = FaultRecord(name=fault.name, params=redact(params))
        entry = _Injected(fault, seq, record, _Undo.FAULT)
        self._faults.append(entry)  # pushed before inject: a half-done injection is reverted too
        self._say(f"injecting {fault.name}")
        try:
            with scope(self.calls, CallerKind.FAULT, fault.name):
                fault.inject()
        except Exception as exc:
            self._event(Event.FAULT_INJECTION_FAILED, f"{fault.name}: {exc}")
            raise FaultError(f"injecting {fault.name} failed: {redact_text(str(exc))}") from exc
        now = time.monotonic()
        self.undo_log.mark(seq, "injected")
        record.injected_at = self.clock.iso(now)
        if self.t_fault is None:
            self.t_fault = now
            # Every wait of the recovery (a driver's, a step's) ends with the hard timeout.
            hard = self.settings.hard_timeout_for(self.spec.rto_s)
            polling.cut_at(now + hard, f"the drill's hard timeout of {format_duration(hard)}")
            if self._probes:
                self._monitor = Monitor(self._probes, self.settings.probe_interval, self.settings.consecutive)
                self._monitor.start()
        self._event(Event.FAULT_INJECTED, fault.name, now)
        return fault

    def apply(self, change: Change) -> Change:
        """Make a recovery change the environment must lose again at the end (a switchover,
        a restored cluster, a DNS record): logged before it is made, undone newest first
        with the faults. Unlike ``inject`` it is not a fault and sets no ``t_fault``."""
        if not isinstance(change, Change):
            raise InvalidDrillConfig(
                f"{type(change).__name__} is not a Change: derive it from drillbook.faults.base.Change "
                "(a fault is injected with drill.inject(...))"
            )
        params = change.describe()
        seq = self.undo_log.before_inject(change.name, params, registry.is_registered(change), self.nodeid)
        entry = _Injected(change, seq, FaultRecord(name=change.name, params=redact(params)), _Undo.CHANGE)
        self._faults.append(entry)
        try:
            with scope(self.calls, CallerKind.CHANGE, change.name):
                change.inject()
        except Exception as exc:
            self._event(Event.CHANGE_FAILED, f"{change.name}: {exc}")
            raise
        now = time.monotonic()
        self.undo_log.mark(seq, "injected")
        entry.record.injected_at = self.clock.iso(now)
        self._event(Event.CHANGE_APPLIED, change.name, now)
        return change

    def heal(self, fault: Reversible) -> None:
        """Revert one fault now (e.g. the end of a timed partition); safe to repeat."""
        for entry in self._faults:
            if entry.fault is fault:
                self._revert(entry)
                return
        raise InvalidDrillConfig(f"{fault.name} was not injected by this drill")

    @contextmanager
    def phase(self, name: str, expected: Duration | None = None) -> Iterator[PhaseRecord]:
        """Time one phase of the recovery, against its expected duration."""
        expected_s = (
            None if expected is None else parse_duration(expected, what=f"expected duration of {name!r}")
        )
        start = time.monotonic()
        record = PhaseRecord(
            name=name, started_at=self.clock.iso(start), duration_s=0.0, expected_s=expected_s
        )
        self._say(f"phase: {name}")
        self._event(Event.PHASE_START, name, start)
        try:
            yield record
        except BaseException as exc:
            record.passed = False
            record.detail = redact_text(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            end = time.monotonic()
            record.duration_s = end - start
            self._phases.append(record)
            self._event(Event.PHASE_END, f"{name} ({format_duration(record.duration_s)})", end)

    def wait_until(
        self,
        check: Callable[[], T],
        *,
        timeout: Duration = 30.0,
        interval: Duration | None = None,
        what: str = "condition",
    ) -> T:
        """Poll ``check`` until it returns a truthy value (returned); exceptions count as not yet.

        Polls every ``interval`` (default: the environment's ``poll_interval``: tens of
        milliseconds locally, seconds on AWS and Kubernetes), never past the drill's hard
        timeout once a fault is in; a wait longer than a few seconds prints a progress line
        per poll. Raises :class:`RecoveryTimeout` ``(measured, objective)`` on expiry.
        """
        limit = self.bounded(parse_duration(timeout, what="timeout"))
        step = self.poll_interval if interval is None else parse_duration(interval, what="interval")
        started = time.monotonic()

        def say(line: str) -> None:
            if time.monotonic() - started >= LONG_WAIT_S:
                self._say(line)

        return polling.wait_until(
            check,
            what=what,
            timeout=limit,
            interval=step,
            ignore=(Exception,),
            progress=say,
            progress_every=max(step, 1.0),
        )

    @property
    def poll_interval(self) -> float:
        """How often waits poll: the environment's (its profile's ``poll_interval``)."""
        value = self.environment.poll_interval_s
        return value if value is not None and value > 0 else DEFAULT_POLL_S

    def bounded(self, timeout: float) -> float:
        """``timeout``, cut to what is left of the drill's hard timeout once a fault is in."""
        if self.t_fault is None:
            return timeout
        left = self.t_fault + self.settings.hard_timeout_for(self.spec.rto_s) - time.monotonic()
        return max(0.0, min(timeout, left))

    def await_detection(self, timeout: Duration = 30.0) -> float:
        """Wait until the steady state has been seen failing; returns ``detect_s``."""
        monitor = self._require_monitor()
        self.wait_until(
            lambda: monitor.snapshot()[0] is not None,
            timeout=timeout,
            interval=0.02,
            what="detection of the fault by the steady-state probes",
        )
        self._note_detection()
        assert self._detected is not None and self.t_fault is not None
        return self._detected - self.t_fault

    def await_recovery(
        self, timeout: Duration | None = None, *, probes: Sequence[Probe | Callable[[], Any]] | None = None
    ) -> float:
        """Wait until the steady state holds K consecutive times; returns and records ``rto_s``.

        ``rto_s`` is the time the first check of that run was answered, minus
        ``t_fault``. On expiry (default: the hard timeout) raises RecoveryTimeout.
        ``probes`` judges recovery by other probes than the steady state (e.g. a
        restored copy answering), polled from now on.
        """
        monitor = self._require_monitor()
        if probes is not None:
            monitor.stop()
            monitor = Monitor(
                [as_probe(p) for p in probes], self.settings.probe_interval, self.settings.consecutive
            )
            self._recovery_monitors.append(monitor)
            monitor.start()
        assert self.t_fault is not None
        limit = (
            self.settings.hard_timeout_for(self.spec.rto_s)
            if timeout is None
            else parse_duration(timeout, what="recovery timeout")
        )
        self._say("awaiting recovery")
        run_start = monitor.wait_recovered(self.t_fault + limit)
        self._note_detection()
        if run_start is None:
            waited = time.monotonic() - self.t_fault
            self._timed_out = verdict.not_recovered(limit)
            self._event(Event.RECOVERY_TIMEOUT, self._timed_out.text)
            raise RecoveryTimeout(
                waited, limit, f"recovery (steady state holding {self.settings.consecutive} times in a row)"
            )
        self._recovered = run_start.observed
        if self._detected is None:
            self._event(Event.STEADY_STATE_NEVER_FAILED, "the probes did not see the fault")
        held = f"steady state held {self.settings.consecutive} times"
        self._event(Event.RECOVERY_COMPLETE, held, run_start.observed)
        rto = self._recovered - self.t_fault
        self._say(f"recovered: rto {format_duration(rto)}")
        return rto

    def action_for(self, step: str, action: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """The action runbook step ``step`` runs: its own, or a mutation test's in its place."""
        mutation = self.mutation
        if mutation is None or step not in mutation.steps:
            return action
        self._mutated.append(step)
        self._event(Event.STEP_MUTATED, f"{step}: mutation {mutation.name!r} runs in its place")
        return lambda context: mutation.action(context, action)

    def can(self, capability: str, *, part: str) -> bool:
        """Whether the environment has ``capability`` for ``part`` of the drill. If not, the part
        is recorded as not run, with why (the record's ``not_run``, the report), and the caller
        leaves it out and runs the rest. An environment whose capabilities are unknown (a record
        built without them) runs every part."""
        have = self.environment.capabilities
        if have is None or capability in have:
            return True
        reason = why_missing(capability, self.environment.name)
        self._not_run.append(NotRun(part=part, capability=capability, reason=reason))
        self._event(Event.PART_NOT_RUN, f"{part}: {reason}")
        return False

    def verify(self, name: str, check: Callable[[], Any] | bool | tuple[bool, str]) -> bool:
        """Record a verification result. ``check`` is a bool, a ``(passed, detail)`` pair, or a
        callable run as a probe (True or None passes; False or an exception fails)."""
        if isinstance(check, bool):
            passed, detail = check, ""
        elif isinstance(check, tuple):
            passed, detail = bool(check[0]), redact_text(str(check[1]))
        else:
            result = as_probe(check).run()
            passed, detail = result.passed, result.detail
        self._verification.append(Verification(name=name, passed=passed, detail=detail))
        self._event(Event.VERIFICATION, f"{name}: {'pass' if passed else 'FAIL'} {detail}".strip())
        return passed

    def ledger(
        self, store: LedgerStore, *, interval: Duration | None = None, timeout: Duration | None = None
    ) -> Ledger:
        """Start the acknowledged-write ledger on ``store`` in the background.

        Use the returned ``Ledger`` as a context manager, or let the drill stop
        it: it is reconciled after recovery, before any fault is reverted.
        """
        ledger = Ledger(
            store,
            f"{self.record_id}#{len(self._ledgers) + 1}",
            interval=self.settings.ledger_interval if interval is None else parse_duration(interval),
            timeout=self.settings.ledger_timeout if timeout is None else parse_duration(timeout),
        )
        self._ledgers.append(ledger)
        ledger.start()
        self._event(Event.LEDGER_STARTED, type(store).__name__)
        return ledger

    def reconcile(self) -> Reconciliation:
        """Reconcile every ledger now (after recovery); fills the RPO figures."""
        if not self._ledgers:
            raise InvalidDrillConfig("no ledger to reconcile: start one with drill.ledger(store)")
        for ledger in self._ledgers:
            if ledger.result is None:
                rec = ledger.reconcile(self.t_fault)
                self._reconciliations.append(rec)
                self._event(Event.LEDGER_RECONCILED, _rec_text(rec))
        return _combine(self._reconciliations)

    def note(self, event: str, detail: str = "") -> None:
        """Add an event of the drill's own to its timeline (not one the engine writes, such
        as "recovery complete": those are measured, never declared)."""
        if engine_event(event) is not None:
            raise InvalidDrillConfig(
                f"drill.note({event!r}): that event is written by the engine; "
                "give the drill's own event another name"
            )
        self._event(event, detail)

    @property
    def result(self) -> DrillResult:
        """The drill's result: final after the test body, provisional before."""
        return self._finished if self._finished is not None else self._build(final=False)

    @property
    def finished(self) -> DrillResult | None:
        """The final result once :meth:`finish` ran, else None."""
        return self._finished

    @property
    def acted(self) -> bool:
        """Whether the drill injected a fault or made a change (each is in its undo log)."""
        return bool(self._faults)

    # -- the end of a drill ----------------------------------------------------

    def finish(self, exc: BaseException | None = None) -> DrillResult:
        """Reconcile, revert newest first, judge, and return the final result. Idempotent."""
        if self._finished is not None:
            return self._finished
        polling.cut_at(None)  # reconciling and reverting run to the end, whatever the time
        try:
            if exc is not None:
                self._record_exception(exc)
            elif (
                self.t_fault is not None and self._probes and self._recovered is None and not self._timed_out
            ):
                with contextlib.suppress(RecoveryTimeout):
                    self.await_recovery()
            if self._ledgers:
                try:
                    self.reconcile()
                except Exception as rexc:
                    self._reasons.append(verdict.reconciliation_failed(redact_text(str(rexc))))
        finally:
            revert_errors = self.revert_all()
            for monitor in [self._monitor, *self._recovery_monitors]:
                if monitor is not None:
                    monitor.stop()
            for ledger in self._ledgers:
                ledger.stop()
                ledger.store.close()
        if not revert_errors and self._faults:
            self._check_after_revert()
        self._event(Event.TEST_END, "")
        self._finished = self._build(final=True)
        return self._finished

    def revert_all(self) -> list[str]:
        """Revert every fault, newest first; failures stay in the undo log."""
        errors = []
        for entry in reversed(self._faults):
            error = self._revert(entry)
            if error:
                errors.append(error)
        if errors:
            self._reasons.append(verdict.revert_failed(errors))
        else:
            self.undo_log.close_if_clean()
        return errors

    def _revert(self, entry: _Injected) -> str:
        if entry.reverted:
            return ""
        try:
            with scope(self.calls, CallerKind.REVERT, entry.fault.name):
                entry.fault.revert()
        except Exception as exc:
            error = redact_text(f"{entry.fault.name}: {type(exc).__name__}: {exc}")
            entry.record.revert_error = error
            self._mark(entry.seq, "failed", error)
            self._event(Event.REVERT_FAILED, error)
            self._say(f"REVERT FAILED {error} (left in {self.undo_log.path})")
            return error
        now = time.monotonic()
        entry.reverted = True
        entry.record.reverted_at = self.clock.iso(now)
        self._mark(entry.seq, "reverted")
        undone = Event.FAULT_REVERTED if entry.kind is _Undo.FAULT else Event.CHANGE_REVERTED
        self._event(undone, entry.fault.name, now)
        return ""

    def _mark(self, seq: int, state: str, error: str = "") -> None:
        # A mark that cannot be written (a full disk) must not stop the other reverts: the
        # entry then stays outstanding and `drillbook revert` reverts it again (reverts are
        # idempotent).
        try:
            self.undo_log.mark(seq, state, error)
        except (DrillbookError, OSError) as exc:
            self._reasons.append(verdict.undo_log_not_updated(redact_text(str(exc))))

    def _check_after_revert(self) -> None:
        # Reverts roll deployments back without waiting: wait for what they started
        # (settle), then for the steady state, ``after_revert_s`` (60 s) in all.
        deadline = time.monotonic() + self.after_revert_s
        for entry in self._faults:
            settle = getattr(entry.fault, "settle", None)  # duck-typed faults may lack it
            if settle is None:
                continue
            try:
                settle(max(0.0, deadline - time.monotonic()))
            except Exception as exc:
                detail = redact_text(f"{entry.fault.name}: {type(exc).__name__}: {exc}")
                self._reasons.append(verdict.revert_not_settled(detail))
                self._event(Event.REVERT_NOT_SETTLED, detail)
        if not self._probes:
            return
        while True:
            check = check_all(self._probes)
            if check.passed:
                self._event(Event.STEADY_STATE_AFTER_REVERT, "")
                return
            if time.monotonic() > deadline:
                self._reasons.append(verdict.broken_after_revert(check.detail))
                self._event(Event.BROKEN_AFTER_REVERT, check.detail)
                return
            time.sleep(self.settings.probe_interval)

    def _record_exception(self, exc: BaseException) -> None:
        if isinstance(exc, SteadyStateNotMet):
            return  # already recorded
        if isinstance(exc, RecoveryTimeout):
            if self._timed_out is None:
                self._timed_out = verdict.timed_out(redact_text(str(exc)), exc.measured, exc.objective)
            return
        if isinstance(exc, KeyboardInterrupt):
            detail = f"interrupted ({type(exc).__name__})"
        else:
            detail = redact_text(f"{type(exc).__name__}: {exc}")
        self._aborted = verdict.aborted(detail)
        self._event(Event.DRILL_ABORTED, detail)

    def _note_detection(self) -> None:
        if self._detected is None and self._monitor is not None:
            first_failure, _, _ = self._monitor.snapshot()
            if first_failure is not None:
                self._detected = first_failure.observed
                self._event(Event.ISSUE_DETECTED, first_failure.detail, first_failure.observed)

    def _require_monitor(self) -> Monitor:
        if not self._probes:
            raise InvalidDrillConfig("declare the steady state with drill.steady_state(...) first")
        if self._monitor is None or self.t_fault is None:
            raise InvalidDrillConfig("inject a fault before awaiting detection or recovery")
        return self._monitor

    # -- building the record ---------------------------------------------------

    def _judge(self, measured: Measured) -> list[Reason]:
        reasons = [r for r in (self._steady_failed, self._aborted, self._timed_out) if r is not None]
        reasons += [verdict.verification_failed(v.name, v.detail) for v in self._verification if not v.passed]
        if measured.unexpected_writes:
            reasons.append(verdict.integrity(measured.unexpected_writes))
        reasons += self._reasons
        if any(r.kind.status is Status.FAIL for r in reasons):
            return reasons  # a failed drill is not judged against its targets
        return verdict.objectives(measured, Targets(rto_s=self.spec.rto_s, rpo_s=self.spec.rpo_s))

    def _build(self, *, final: bool) -> DrillResult:
        measured = Measured()
        if self.t_fault is not None:
            if self._detected is not None:
                measured.detect_s = self._detected - self.t_fault
            if self._recovered is not None:
                measured.rto_s = self._recovered - self.t_fault
        if self._reconciliations:
            rec = _combine(self._reconciliations)
            measured.rpo_s = rec.rpo_s
            measured.acked_writes = rec.acked_writes
            measured.lost_writes = rec.lost_writes
            measured.indeterminate_writes = rec.indeterminate_writes
            measured.unexpected_writes = rec.unexpected_writes
            measured.acked_after_fault = rec.acked_after_fault
            measured.lost_after_fault = rec.lost_after_fault
            measured.lost_seqs = [list(r) for r in rec.lost_seqs]
        if final:
            causes = self._judge(measured)
            status = verdict.judge(causes)
        else:
            causes, status = [verdict.unfinished()], Status.FAIL
        spec = self.spec
        return DrillResult(
            run_id=self.run_id,
            record_id=self.record_id,
            drill=DrillInfo(
                nodeid=self.nodeid,
                scenario=spec.scenario,
                tier=spec.tier,
                severity=spec.severity,
                component=spec.component,
                option=spec.option,
                description=spec.description,
                recovery_figure=recovery_figure(spec.scenario),
            ),
            environment=self.environment,
            targets=Targets(
                rto_s=spec.rto_s, rpo_s=spec.rpo_s, rto_source=spec.rto_source, rpo_source=spec.rpo_source
            ),
            measured=measured,
            status=status,
            reasons=[c.text for c in causes],
            causes=causes,
            # Events dated back (the first of the K passing checks, the first failing one) are
            # appended when they are known: the record lists every event in time order.
            timeline=sorted(self._timeline, key=lambda e: math.inf if e.t_s is None else e.t_s),
            phases=list(self._phases),
            faults=[e.record for e in self._faults if e.kind is _Undo.FAULT],
            changes=[e.record for e in self._faults if e.kind is _Undo.CHANGE],
            verification=list(self._verification),
            not_run=list(self._not_run),
            started_at=self.clock.iso(self.clock.mono0),
            finished_at=self.clock.iso() if final else None,
            people=self.settings.people,
            calls=self.calls.records(),
            extra=redact(
                dict(
                    self.settings.run_extra,
                    **self.extra,
                    schedule=self.settings.schedule,
                    probe_interval_s=self.settings.probe_interval,
                    consecutive=self.settings.consecutive,
                    **self._mutation_extra(),
                )
            ),
        )

    def _mutation_extra(self) -> dict[str, Any]:
        """What a mutated run's record says of it: which step was swapped, and whether it ran."""
        if self.mutation is None:
            return {}
        m = self.mutation
        return {"mutation": {"name": m.name, "steps": self._mutated, "applied": bool(self._mutated)}}

    def _event(self, event: Event | str, detail: str, mono: float | None = None) -> None:
        at = time.monotonic() if mono is None else mono
        self._timeline.append(
            TimelineEvent(
                at=self.clock.iso(at),
                event=event,
                detail=redact_text(detail),
                t_s=round(self.clock.since_start(at), 6),
            )
        )

    def _say(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)


def _combine(recs: list[Reconciliation]) -> Reconciliation:
    if len(recs) == 1:
        return recs[0]
    rpos = [r.rpo_s for r in recs if r.rpo_s is not None]
    return Reconciliation(
        rpo_s=max(rpos) if rpos else None,
        acked_writes=sum(r.acked_writes for r in recs),
        lost_writes=sum(r.lost_writes for r in recs),
        indeterminate_writes=sum(r.indeterminate_writes for r in recs),
        unexpected_writes=sum(r.unexpected_writes for r in recs),
        acked_after_fault=sum(r.acked_after_fault for r in recs),
        lost_after_fault=sum(r.lost_after_fault for r in recs),
        lost_seqs=[s for r in recs for s in r.lost_seqs],
    )


def _rec_text(rec: Reconciliation) -> str:
    rpo = "n/a" if rec.rpo_s is None else format_duration(rec.rpo_s)
    return (
        f"rpo {rpo}, acked {rec.acked_writes}, lost {rec.lost_writes}, "
        f"indeterminate {rec.indeterminate_writes}, unexpected {rec.unexpected_writes}"
    )


__all__ = [
    "ACTIVATION",
    "ASSESSMENT",
    "DETECTION",
    "PHASES",
    "RESTORATION",
    "VERIFICATION",
    "Drill",
    "RevertFailed",
]
