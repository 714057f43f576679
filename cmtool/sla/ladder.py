"""The escalation ladder: which rung is due for a clock, and the event it records.

A rung fires at most once per case and clock: the events of the case say which
rungs already fired, and only a rung above the highest fired one can be due.
When several are due at once (a sweep that did not run for a while), only the
highest fires, so nobody is told "80 % used" about a case already overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.model.timefmt import format_time
from cmtool.rules.model import Rules, Step
from cmtool.sla.clocks import Clock, ClockState

LADDER_ACTIONS = ("sla_warn", "sla_escalate")


@dataclass(frozen=True)
class DueStep:
    case_id: str
    clock: str
    step: Step
    notify: tuple[str, ...]
    due_at: str | None
    state: str


def fired_steps(case: Case) -> dict[str, set[str]]:
    """clock -> names of the rungs already recorded for it."""
    fired: dict[str, set[str]] = {}
    for event in case.events:
        if event.action in LADDER_ACTIONS and event.details.get("clock"):
            fired.setdefault(str(event.details["clock"]), set()).add(str(event.details.get("step")))
    return fired


def due_step(
    case: Case, clock: Clock, rules: Rules, now: datetime, fired: dict[str, set[str]]
) -> DueStep | None:
    """The rung to fire now for ``clock``, or None."""
    state = clock.state
    if state.stopped_at is not None or state.advisory:
        return None
    due_now = [
        step
        for _i, step in pending_rungs(rules, fired.get(state.clock, set()))
        if clock.reached_at(step.share) + timedelta(seconds=step.after_seconds) <= now
    ]
    return rung_due(state, due_now, rules, case.get("team"), case.get("assignee"))


def pending_rungs(rules: Rules, done: set[str]) -> list[tuple[int, Step]]:
    """(place on the ladder, rung) of the rungs above the highest one fired."""
    ladder = rules.escalation
    highest_fired = max((i for i, step in enumerate(ladder) if step.name in done), default=-1)
    return list(enumerate(ladder))[highest_fired + 1 :]


def rung_due(
    state: ClockState, due_now: list[Step], rules: Rules, team: str | None, assignee: str | None
) -> DueStep | None:
    """Of the pending rungs whose moment has come (``due_now``, ladder order), the
    one to fire, telling the people of the escalations it skips as well."""
    if not due_now:
        return None
    due = due_now[-1]
    # Skipped escalation rungs still tell their people (a lead should hear of a breach
    # even when the sweep first sees it hours late); skipped warnings do not.
    words = [w for step in due_now[:-1] if step.level > 0 for w in step.notify] + list(due.notify)
    notify = resolve_notify(team, assignee, rules, tuple(words))
    return DueStep(state.case_id, state.clock, due, notify, state.due_at, state.state)


def resolve_notify(
    team_name: str | None, assignee: str | None, rules: Rules, words: tuple[str, ...]
) -> tuple[str, ...]:
    """assignee / team_lead / manager -> the people's names (missing ones dropped)."""
    team = rules.teams.get(team_name or "")
    names: list[str] = []
    for word in words:
        if word == "assignee":
            found = [assignee]
        elif word == "team_lead":
            found = [team.lead if team else None]
        elif word == "manager":
            found = [team.manager] if team and team.manager else list(rules.managers())
        else:
            found = [word]
        names += [name for name in found if name and name not in names]
    return tuple(names)


def step_event(case: Case, due: DueStep, actor: str, now: datetime) -> Event:
    """The event a fired rung appends: action sla_warn or sla_escalate."""
    changes = {}
    level = int(case.get("escalation_level", 0) or 0)
    if due.step.level > level:
        changes["escalation_level"] = (case.state.get("escalation_level"), due.step.level)
    verb = "warning" if due.step.level == 0 else f"escalated to level {due.step.level}"
    note = f"{due.clock} {due.state}, due {due.due_at}: {verb}"
    if due.notify:
        note += f"; notify {', '.join(due.notify)}"
    details = {
        "clock": due.clock,
        "step": due.step.name,
        "notify": list(due.notify),
        "due_at": due.due_at,
    }
    return Event(
        format_time(now),
        actor,
        due.step.action,
        MappingProxyType(changes),
        note,
        f"escalation.{due.step.name}",
        MappingProxyType(details),
    )
