"""What a case's clocks say whatever the moment they are read at.

A sweep at 100,000 cases cannot afford to time every clock on every run. Most
clocks are stopped (met or missed for good) or will not reach their warning
share for hours or days, and as long as a case's file and the rules do not
change, the moments that matter do not change either: each clock's due moment,
its warning moment and the moments its escalation rungs fall due. Only a pause
still going on (a case waiting on the customer) moves them with time.

``derive`` finds, once per file and rules version, the earliest of those
moments (the case's *wake*): before it, the case has no clock in warning or
breach and no rung due, so a sweep may pass it by; from it on, the sweep times
the case in full as before. Facts are an optimisation, never an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cmtool.model.case import Case
from cmtool.model.timefmt import format_time, parse_time
from cmtool.rules.model import Rules
from cmtool.sla.clocks import Clock, evaluate
from cmtool.sla.periods import case_periods

# Woken this much early, so that rounding in the working-time arithmetic can
# never make a sweep miss the first second of a warning.
EARLY = timedelta(seconds=1)


@dataclass(frozen=True)
class ClockFacts:
    clock: str
    due_at: str
    warn_at: str | None  # None once stopped
    stopped: str | None  # "met" | "missed" once stopped, for good
    advisory: bool


@dataclass(frozen=True)
class CaseFacts:
    clocks: tuple[ClockFacts, ...]
    wake: datetime | None  # None: no clock will ever need the sweep
    # A pause still going on moves due moments with time (and, for a --now before a
    # clock's stop, its state at the stop): such a case is timed on every sweep.
    moving: bool

    def to_dict(self) -> list[dict]:
        return [vars(c) for c in self.clocks]


def derive(case: Case, rules: Rules) -> CaseFacts:
    """The facts of ``case`` under ``rules``. Anything that cannot be worked out
    (a calendar without working time, a malformed time) makes the case ``moving``,
    so the sweep times it in full and says what is wrong exactly as before."""
    try:
        if not case.get("filed_at"):
            return CaseFacts((), None, False)
        # Any moment gives the same due moments when no pause is still going on.
        clocks = evaluate(case, rules, parse_time(case.get("filed_at")))
        moving = _pause_going_on(case)
    except Exception:  # the full sweep meets it again and reports it
        return CaseFacts((), None, True)
    facts = tuple(_clock_facts(clock, rules) for clock in clocks)
    wakes = [_wake(clock, rules) for clock in clocks]
    earliest = min((w for w in wakes if w is not None), default=None)
    return CaseFacts(facts, earliest - EARLY if earliest else None, moving and bool(clocks))


def _pause_going_on(case: Case) -> bool:
    periods = case_periods(case)
    return any(end is None for _start, end in (*periods.waiting, *periods.inactive))


def _running(clock: Clock) -> bool:
    return clock.state.stopped_at is None and not clock.state.advisory


def _clock_facts(clock: Clock, rules: Rules) -> ClockFacts:
    state = clock.state
    running = state.stopped_at is None
    warn = format_time(clock.reached_at(rules.warn_share)) if running else None
    return ClockFacts(state.clock, state.due_at or "", warn, None if running else state.state, state.advisory)


def _wake(clock: Clock, rules: Rules) -> datetime | None:
    """When this clock first enters warning or breach or has a rung due (None: never)."""
    if not _running(clock):
        return None
    moments = [clock.due, clock.reached_at(rules.warn_share)]
    moments += [clock.reached_at(s.share) + timedelta(seconds=s.after_seconds) for s in rules.escalation]
    return min(moments)


def clocks_at(case: Case, rules: Rules, now: datetime) -> tuple[ClockFacts, ...]:
    """Each clock's facts as of ``now``: for a case whose pause is going on, the due
    and warning moments as far as the pause has moved them by then."""
    return tuple(_clock_facts(clock, rules) for clock in evaluate(case, rules, now))
