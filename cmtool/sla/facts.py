"""What a case's clocks say whatever the moment they are read at.

A sweep at 100,000 cases cannot afford to time every clock on every run. Most
clocks are stopped (met or missed for good) or will not reach their warning
share for hours or days, and as long as a case's file and the rules do not
change, the moments that matter do not change either: each clock's due moment,
its warning moment and the moments its escalation rungs fall due. Only a pause
still going on (a case waiting on the customer) moves them with time.

``derive`` finds, once per file and rules version, the earliest of those
moments (the case's *wake*): before it, the case has no clock in warning or
breach and no rung due, so a sweep may pass it by. Past it, most clocks are
simply overdue, and an overdue clock's state at any later moment follows from
its facts (the due moment, the time paused, the rung moments, the rungs already
fired): ``timed`` answers for those without the case file, and leaves the case
to a full timing whenever a clock of it is in its warning window or a pause
could still be counting. Facts are an optimisation, never an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from cmtool.model.case import Case
from cmtool.model.timefmt import format_time, parse_time
from cmtool.rules.model import Rules
from cmtool.sla.clocks import Clock, ClockState, evaluate
from cmtool.sla.ladder import DueStep, fired_steps, pending_rungs, rung_due
from cmtool.sla.periods import Periods, case_periods

# Woken this much early, so that rounding in the working-time arithmetic can
# never make a sweep miss the first second of a warning.
EARLY = timedelta(seconds=1)


class ClockFacts(NamedTuple):
    """Stored as a JSON array in this order: a sweep decodes thousands of them, and
    arrays decode in half the time of objects that repeat every key."""

    clock: str
    due_at: str
    warn_at: str | None  # None once stopped
    stopped: str | None  # "met" | "missed" once stopped, for good
    advisory: bool
    # What the state of a running clock at a later moment needs beyond the above.
    source: str = ""
    started_at: str = ""
    target: str = ""
    calendar: str = ""
    paused_seconds: float = 0.0
    count_from: str | None = None
    ends_at: str | None = None
    extended_due_at: str | None = None
    extends: str | None = None
    due: float | None = None  # epoch seconds, exact (due_at is to the second)
    wake: float | None = None  # epoch seconds: first warning, breach or rung (None: stopped)
    rungs: tuple[float, ...] = ()  # epoch seconds each escalation rung falls due, ladder order


@dataclass(frozen=True)
class CaseFacts:
    clocks: tuple[ClockFacts, ...]
    wake: datetime | None  # None: no clock will ever need the sweep
    # A pause still going on moves due moments with time (and, for a --now before a
    # clock's stop, its state at the stop): such a case is timed on every sweep.
    moving: bool
    # What a finding names, and the rungs fired per clock (from the events).
    case: dict[str, Any] = field(default_factory=dict)

    def stored(self) -> list[Any]:
        """JSON-ready: ``[clock rows, case]``, as :meth:`Stored.read` reads it back."""
        return [[list(c) for c in self.clocks], self.case]


@dataclass(frozen=True)
class Stored:
    """A case's facts as the index keeps them, read back."""

    clocks: list[ClockFacts]
    case: dict[str, Any]  # settled (epoch seconds), fired, title, priority, team, assignee
    fired: dict[str, set[str]]  # clock -> the rungs already recorded for it

    @classmethod
    def read(cls, value: list[Any]) -> Stored:
        rows, case = value
        fired = {clock: set(steps) for clock, steps in case["fired"].items()}
        return cls([ClockFacts(*row) for row in rows], case, fired)


def derive(case: Case, rules: Rules) -> CaseFacts:
    """The facts of ``case`` under ``rules``. Anything that cannot be worked out
    (a calendar without working time, a malformed time) makes the case ``moving``,
    so the sweep times it in full and says what is wrong exactly as before."""
    try:
        if not case.get("filed_at"):
            return CaseFacts((), None, False)
        periods = case_periods(case)
        settled = _settled(case, periods)
        # Any moment gives the same due moments when no pause is still going on;
        # from the end of the last pause on, the time paused stays the same too.
        clocks = evaluate(case, rules, settled)
        moving = any(end is None for _start, end in (*periods.waiting, *periods.inactive))
    except Exception:  # the full sweep meets it again and reports it
        return CaseFacts((), None, True)
    facts = tuple(_clock_facts(clock, rules) for clock in clocks)
    earliest = min((c.wake for c in facts if c.wake is not None), default=None)
    wake = datetime.fromtimestamp(earliest, timezone.utc) - EARLY if earliest is not None else None
    about = {
        "settled": settled.timestamp(),
        "fired": {name: sorted(steps) for name, steps in fired_steps(case).items()},
        **about_case(case),
    }
    return CaseFacts(facts, wake, moving and bool(clocks), about)


def about_case(case: Case) -> dict[str, Any]:
    """What a finding names of its case (and the ladder needs: team, assignee)."""
    return {name: case.get(name) for name in ("title", "priority", "team", "assignee")}


def _settled(case: Case, periods: Periods) -> datetime:
    """The end of the last pause, or the filing moment if later (or none ended)."""
    ends = [end for _a, end in (*periods.waiting, *periods.inactive) if end is not None]
    ends += [end for _clock, _a, end in periods.excluded]
    return max([parse_time(case.get("filed_at")), *ends])


def _running(clock: Clock) -> bool:
    return clock.state.stopped_at is None and not clock.state.advisory


def _clock_facts(clock: Clock, rules: Rules) -> ClockFacts:
    state = clock.state
    running = state.stopped_at is None
    warn = clock.reached_at(rules.warn_share) if running else None
    rungs = (
        tuple(
            (clock.reached_at(s.share) + timedelta(seconds=s.after_seconds)).timestamp()
            for s in rules.escalation
        )
        if running
        else ()
    )
    # When this clock first enters warning or breach or has a rung due (None: never).
    wake = min(clock.due.timestamp(), warn.timestamp(), *rungs) if _running(clock) and warn else None
    return ClockFacts(
        state.clock,
        state.due_at or "",
        format_time(warn) if warn else None,
        None if running else state.state,
        state.advisory,
        state.source,
        state.started_at,
        state.target,
        state.calendar,
        state.paused_seconds,
        state.count_from,
        state.ends_at,
        state.extended_due_at,
        state.extends,
        clock.due.timestamp(),
        wake,
        rungs,
    )


def clocks_at(case: Case, rules: Rules, now: datetime) -> tuple[ClockFacts, ...]:
    """Each clock's facts as of ``now``: for a case whose pause is going on, the due
    and warning moments as far as the pause has moved them by then."""
    return tuple(_clock_facts(clock, rules) for clock in evaluate(case, rules, now))


def timed(
    case_id: str, facts: Stored, rules: Rules, now: datetime
) -> list[tuple[ClockState, DueStep | None]] | None:
    """Each overdue running clock of a case as of ``now``, with the rung due on it,
    from its stored facts alone. None when the case must be
    timed in full: ``now`` before its last pause ended, or a clock between its
    wake and its due moment (whether a warning share is reached is working-time
    arithmetic that only the full timing does exactly)."""
    about, at = facts.case, now.timestamp()
    if at < about["settled"]:
        return None
    found: list[tuple[ClockState, DueStep | None]] = []
    for clock in facts.clocks:
        if clock.wake is None or at < clock.wake - EARLY.total_seconds():
            continue  # stopped, advisory, or nothing to say yet
        if clock.due is None or at < clock.due:
            return None
        state = _breached(case_id, clock, rules, now)
        done = facts.fired.get(clock.clock, set())
        due_now = [step for i, step in pending_rungs(rules, done) if clock.rungs[i] <= at]
        found.append((state, rung_due(state, due_now, rules, about["team"], about["assignee"])))
    return found


def _breached(case_id: str, clock: ClockFacts, rules: Rules, now: datetime) -> ClockState:
    """An overdue running clock's state at ``now`` (``timed`` checked it is due)."""
    due = clock.due
    assert due is not None
    calendar = rules.calendars.get(clock.calendar)
    return ClockState(
        case_id=case_id,
        clock=clock.clock,
        source=clock.source,
        state="breached",
        started_at=clock.started_at,
        due_at=clock.due_at,
        stopped_at=None,
        business_seconds_left=round(
            calendar.seconds_between(now, datetime.fromtimestamp(due, timezone.utc)), 3
        ),
        wall_seconds_left=round(due - now.timestamp(), 3),
        paused_seconds=clock.paused_seconds,
        target=clock.target,
        calendar=clock.calendar,
        advisory=clock.advisory,
        count_from=clock.count_from,
        ends_at=clock.ends_at,
        extended_due_at=clock.extended_due_at,
        extends=clock.extends,
    )
