"""The search: Hypothesis draws schedules, each example is a complete drill (its own journal
record), a failing schedule is shrunk to the smallest that still fails.

The example database lives in the state directory (``explore/examples``), keyed by the
target's name and fault space, so the failures of earlier runs are replayed first.
Hypothesis has no time budget: once ``budget_s`` is spent without a failure, or
``shrink_s`` after the first failure, the examples it still asks for are rejected at once
(``assume(False)``) without touching the platform, and Hypothesis soon ends with what it
has (a known failing schedule always runs: the final replay of the minimal one).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Flaky, Unsatisfiable

from drillbook.harness.errors import DrillbookError, InvalidDrillConfig
from drillbook.harness.explore.found import write_drill
from drillbook.harness.explore.invariants import InvariantBroken, broken
from drillbook.harness.explore.play import SCENARIO, play, rto_target_s
from drillbook.harness.explore.run import Example, ExploreRun, Finding
from drillbook.harness.explore.schedule import Schedule
from drillbook.harness.explore.strategy import schedules
from drillbook.harness.explore.target import Target
from drillbook.harness.records import DrillResult
from drillbook.harness.settings import DrillSettings
from drillbook.harness.standalone import standalone_drill
from drillbook.harness.steady import check_all

Say = Callable[[str], None]
#: How long a platform left broken by an example has to come back (after ``reset``).
STEADY_WAIT_S = 90.0
#: More than any budget can run: the budget, not the count, ends a search.
MAX_EXAMPLES = 100_000


class PlatformNotSteady(DrillbookError):
    """The platform's steady state does not hold before an example, even after ``reset``."""


class Explorer:
    def __init__(
        self,
        target: Target,
        *,
        state_dir: Path,
        results_dir: Path | None,
        budget_s: float,
        shrink_s: float | None = None,
        seed: int | None = None,
        env_name: str = "local",
        found_dir: Path | None = None,
        confirm: int = 2,
        say: Say | None = None,
    ) -> None:
        if not budget_s > 0:
            raise InvalidDrillConfig(f"the budget must be more than 0 s, got {budget_s!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise InvalidDrillConfig(f"the seed must be a whole number >= 0, got {seed!r}")
        self.target = target
        self.state_dir = Path(state_dir)
        self.results_dir = results_dir
        self.budget_s = budget_s
        self.shrink_s = budget_s if shrink_s is None else shrink_s
        self.seed = seed
        self.env_name = env_name
        self.found_dir = found_dir
        self.confirm = confirm
        self.say = say or (lambda message: None)
        self._stopped: BaseException | None = None
        #: The keys (``Schedule.key``) of the schedules that passed in this search.
        self._passed: set[str] = set()

    @property
    def database_dir(self) -> Path:
        return self.state_dir / "explore" / "examples"

    def run(self) -> ExploreRun:
        run = ExploreRun(
            target=self.target.name,
            seed=self.seed,
            budget_s=self.budget_s,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        began = time.monotonic()
        first_failure: list[float] = []
        smallest: list[int] = []
        failing: dict[str, InvariantBroken] = {}
        self._passed = set()

        def example(schedule: Schedule) -> None:
            now = time.monotonic()
            if self._stopped is not None:
                reject()
            # Each distinct schedule is played once per search: Hypothesis draws the same one
            # again (before shrinking, while shrinking, and the final replay of the minimal
            # one), and each such draw gets the verdict of its first play. Hypothesis needs the
            # same answer for the same input, which a replay at the edge of failing may not give
            # (it would stop, calling the failure flaky), and a play costs a drill. Whether a
            # failure repeats is checked once shrinking is done (``_confirmed``).
            key = schedule.key()
            known = failing.get(key)
            if known is not None:
                run.reused += 1
                raise known
            if not first_failure and now - began > self.budget_s:
                reject()
            if first_failure and now - first_failure[0] > self.shrink_s:
                reject()
            if key in self._passed:
                run.reused += 1
                self.say(f"drawn again, passed before (not played again): {schedule.text()}")
                return
            stage = "shrink" if first_failure else "search"
            try:
                failure = self._try(run, schedule, stage)
            except DrillbookError as exc:
                # The platform cannot run examples: the search stops, not shrinks this.
                self._stopped = exc
                return
            # A signal (DrillInterrupted, Ctrl-C) goes on through Hypothesis, which stops at
            # once; the example's drill reverted its faults on its way out.
            if failure is None:
                self._passed.add(key)
                return
            failing[key] = failure
            if not first_failure:
                first_failure.append(time.monotonic())
                run.search_s = first_failure[0] - began
                self.say(f"failure found after {len(run.examples)} example(s), {run.search_s:.0f}s: shrink")
            if not smallest or len(schedule.faults) <= smallest[0]:
                smallest[:] = [len(schedule.faults)]
            self.say(f"shrink: smallest failing schedule so far has {smallest[0]} fault(s)")
            raise failure

        test = given(schedules(self.target.space))(example)
        test = settings(
            database=DirectoryBasedExampleDatabase(str(self.database_dir)),
            deadline=None,
            max_examples=MAX_EXAMPLES,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
            report_multiple_bugs=False,
            verbosity=Verbosity.quiet,
            print_blob=False,
        )(test)
        if self.seed is not None:
            test = seed(self.seed)(test)
        # The key of this target's saved examples: the same test function serves every target.
        test._hypothesis_internal_add_digest = self.target.name.encode() + self.target.space.digest()  # type: ignore[attr-defined]
        try:
            test()
        except InvariantBroken as exc:
            run.findings.append(Finding(exc.invariant, exc.detail, exc.schedule, exc.result))
        except Unsatisfiable:
            pass  # the budget ran out before a single example did (or the platform stopped the run)
        except Flaky:
            # The minimal schedule passed when replayed: a timing-dependent failure. Keep the
            # smallest that failed, saying so.
            last = min(failing.values(), key=lambda f: (len(f.schedule.faults), f.schedule.end_s))
            run.findings.append(
                Finding(last.invariant, last.detail + " (flaky: passed once when replayed)", last.schedule,
                        last.result)
            )
        finally:
            run.elapsed_s = time.monotonic() - began
            if first_failure:
                run.shrink_s = time.monotonic() - first_failure[0]
            else:
                run.search_s = run.elapsed_s
        if self._stopped is not None:
            raise self._stopped
        run.findings = [self._minimal(run, finding, failing) for finding in run.findings]
        if self.found_dir is not None and self.target.factory is not None:
            for finding in run.findings:
                path = write_drill(self.found_dir, self.target, finding, seed=self.seed, when=run.started_at)
                self.say(f"minimal schedule written as a drill: {path}")
        return run

    def _try(self, run: ExploreRun, schedule: Schedule, stage: str) -> InvariantBroken | None:
        number = len(run.examples) + 1
        result, duration = self._one(schedule, number)
        failure = broken(schedule, result)
        run.examples.append(
            Example(
                number,
                stage,
                schedule,
                result.status.value,
                failure.invariant if failure else None,
                failure.detail if failure else "",
                duration,
                result.record_id,
            )
        )
        verdict = "ok" if failure is None else f"FAILS ({failure.invariant})"
        self.say(
            f"example {number} [{stage}] {len(schedule.faults)} fault(s): {schedule.text()} -> {verdict} "
            f"in {duration:.1f}s"
        )
        return failure

    def _minimal(self, run: ExploreRun, finding: Finding, failing: dict[str, InvariantBroken]) -> Finding:
        """Confirm, reduce what is confirmed, confirm the reduced. The schedule Hypothesis ends
        with may have failed once at the edge of failing (a fault just long enough) and pass
        on replays: reducing it would find nothing smaller that fails, so reduction starts from
        a schedule that failed every time, and its result is confirmed in turn."""
        confirmed = self._confirmed(run, finding, list(failing.values()))
        if not confirmed.confirmed:
            return confirmed
        chain: list[InvariantBroken] = []
        reduced = self._reduced(run, confirmed, failing, chain)
        if reduced.schedule == confirmed.schedule:
            return confirmed
        # If the smallest does not fail every time, the steps before it, smallest first, and
        # last the confirmed schedule itself.
        larger = failing.get(confirmed.schedule.key())
        return self._confirmed(run, reduced, chain + ([larger] if larger is not None else []))

    def _reduced(self, run: ExploreRun, finding: Finding, failing: dict[str, InvariantBroken],
                 chain: list[InvariantBroken] | None = None) -> Finding:
        """Drop the faults that add nothing, one replay each. Hypothesis's shrinking has a time
        limit, and each failing replay costs the recovery time, so it may stop with faults left
        that the failure does not need; this pass tries the schedule without each fault in
        turn and keeps the first smaller one that still fails, until none does (or the shrink
        time is spent again). Each replay means what it says because the platform's failures
        depend on the faults, not on timing (docs/explore.md)."""
        began = time.monotonic()
        schedule, last = finding.schedule, finding
        try:
            smaller_found = True
            while smaller_found and len(schedule.faults) > 1 and time.monotonic() - began < self.shrink_s:
                smaller_found = False
                for index, dropped in enumerate(schedule.faults):
                    smaller = Schedule(schedule.faults[:index] + schedule.faults[index + 1:])
                    if smaller.key() in self._passed:
                        self.say(f"reduce: without {dropped.text()} it passed before (not played again)")
                        continue
                    self.say(f"reduce: {len(schedule.faults)} fault(s), trying without {dropped.text()}")
                    failure = failing.get(smaller.key()) or self._try(run, smaller, "reduce")
                    if failure is None:
                        self._passed.add(smaller.key())
                    else:
                        failing[smaller.key()] = failure
                        if chain is not None:
                            chain.append(failure)
                        schedule, smaller_found = smaller, True
                        last = Finding(failure.invariant, failure.detail, smaller, failure.result)
                        self.say(f"reduce: smallest failing schedule so far: {len(smaller.faults)} fault(s)")
                        break
        finally:
            spent = time.monotonic() - began
            run.shrink_s += spent
            run.elapsed_s += spent
        return last

    def _confirmed(self, run: ExploreRun, finding: Finding, failing: list[InvariantBroken]) -> Finding:
        """A drill worth keeping fails every time. Shrinking pushes parameters to the edge of
        failing (a latency just long enough), where a replay may pass: replay the minimal
        schedule ``confirm`` times, and if it does not fail each time, the other failing
        schedules with as few faults, the least shrunk first (most margin)."""
        if self.confirm < 1:
            return finding
        began = time.monotonic()
        size = len(finding.schedule.faults)
        candidates = [finding.schedule] + [
            f.schedule for f in failing if len(f.schedule.faults) == size and f.schedule != finding.schedule
        ]
        # then the larger ones, smallest first: a schedule that fails every time beats a smaller
        # one that does not
        candidates += sorted(
            (f.schedule for f in failing if len(f.schedule.faults) > size),
            key=lambda s: len(s.faults),
        )[:3]
        try:
            for schedule in candidates:
                self.say(f"confirming: {schedule.text()} ({self.confirm} replays)")
                last: InvariantBroken | None = None
                for _ in range(self.confirm):
                    last = self._try(run, schedule, "confirm")
                    if last is None:
                        break
                if last is not None:
                    return Finding(last.invariant, last.detail, schedule, last.result)
        finally:
            spent = time.monotonic() - began
            run.confirm_s += spent
            run.elapsed_s += spent
        return Finding(finding.invariant, finding.detail + " (not confirmed: passed on a replay)",
                       finding.schedule, finding.result, confirmed=False)

    def _one(self, schedule: Schedule, number: int) -> tuple[DrillResult, float]:
        self._steady()
        start = time.monotonic()
        nodeid = f"explore::{self.target.name}::example-{number}"
        settings_ = DrillSettings(state_dir=self.state_dir, env_name=self.env_name, progress=False)
        drills = []
        try:
            with standalone_drill(
                SCENARIO,
                results_dir=self.results_dir,
                state_dir=self.state_dir,
                settings=settings_,
                env_name=self.env_name,
                nodeid=nodeid,
                rto=rto_target_s(self.target, schedule),
                rpo=self.target.rpo_s,
                description=f"explore {self.target.name}: {schedule.text()}",
            ) as drill:
                drills.append(drill)
                play(drill, self.target, schedule)
        except Exception:
            if not drills or drills[0].finished is None:
                raise
            # else the drill recorded it (aborted) and its result says so
        finished = drills[0].finished
        assert finished is not None
        return finished, time.monotonic() - start

    def _steady(self) -> None:
        """Before each example the platform must be steady; one left broken is reset first."""
        probes = list(self.target.steady_state())
        if check_all(probes).passed:
            time.sleep(self.target.quiet_s)
            return
        if self.target.reset is not None:
            self.say("steady state does not hold: resetting the platform before the next example")
            self.target.reset()
        deadline = time.monotonic() + STEADY_WAIT_S
        while True:
            check = check_all(probes)
            if check.passed:
                time.sleep(self.target.quiet_s)
                return
            if time.monotonic() > deadline:
                raise PlatformNotSteady(
                    f"the steady state of {self.target.name} does not hold before an example, "
                    f"{STEADY_WAIT_S:.0f}s after {'a reset' if self.target.reset else 'the last example'}: "
                    f"{check.detail}"
                )
            time.sleep(0.5)
