"""What a KPI needs to know about one case, read once from its timeline.

Every figure in a report is computed from these facts, never from the live
state alone: "open at the start of October" needs the status the case had then,
which only the events can tell. Facts are built from the events up to the
evaluation time, so a report on a past period does not see later changes.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from cmtool.model.case import Case
from cmtool.model.enums import OPEN_STATUSES, Status
from cmtool.model.events import UNDATED_NOTE
from cmtool.model.registry import MERGE_ACTOR
from cmtool.model.replay import replay
from cmtool.model.timefmt import parse_time

OPEN = frozenset(status.value for status in OPEN_STATUSES)
DONE = frozenset({Status.RESOLVED.value, Status.CLOSED.value})
GROUP_FIELDS = ("category", "channel", "team", "assignee", "region", "product", "priority")


@dataclass(frozen=True)
class CaseFacts:
    """The timeline of one case as KPIs read it.

    The status is a step function of time: nothing before ``filed``, then the
    filing status, then each status change. Times are made non-decreasing in file
    order (a back-dated filing starts the timeline at its ``filed_at``; an event
    written out of order counts at the time of the one before), so "open at an
    instant" and the moves in a window always agree: for any window,
    open at start + received + reopened - closed = open at end.
    """

    id: str
    state: MappingProxyType  # the state at the evaluation time
    filed: datetime
    status_times: tuple[datetime, ...]  # when the status changed...
    status_values: tuple[str, ...]  # ...and to what (the first is the filing)
    closures: tuple[datetime, ...]  # each move into resolved/closed from open (or filed so)
    reopens: tuple[datetime, ...]  # each move from resolved/closed back to open
    escalations: tuple[datetime, ...]
    waits: tuple[datetime, ...]  # each move into waiting on the customer
    notes_before_closure: int  # customer-facing notes before the first closure
    first_response: datetime | None  # None: unknown (no note, no dated closure)
    customer_key: str | None
    last_event: datetime | None = None
    undated_closures: frozenset[datetime] = frozenset()  # closures whose date the source lacked
    imported: bool = False  # filed by an import: its contact history before it is unknown
    currency: str = ""  # of its redress: the case's own, else its regime's or the workspace's
    extra: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        value = self.state.get(name)
        return default if value is None else value

    def status_before(self, moment: datetime) -> str | None:
        """The status just before ``moment`` (None if not filed yet)."""
        index = bisect.bisect_left(self.status_times, moment)
        return self.status_values[index - 1] if index else None

    def open_before(self, moment: datetime) -> bool:
        return self.status_before(moment) in OPEN

    def closures_in(self, start: datetime, end: datetime) -> list[datetime]:
        """Every closure in ``[start, end)``: a case closed, reopened and closed again
        is two closures (and one reopen)."""
        return [moment for moment in self.closures if start <= moment < end]

    def closure_in(self, start: datetime, end: datetime) -> datetime | None:
        """The last closure in ``[start, end)``, if any."""
        inside = self.closures_in(start, end)
        return inside[-1] if inside else None

    def reopens_in(self, start: datetime, end: datetime) -> int:
        return sum(1 for moment in self.reopens if start <= moment < end)

    def closure_dated(self, closure: datetime) -> bool:
        return closure not in self.undated_closures

    def active_during(self, start: datetime, end: datetime) -> bool:
        """Could this case count in ``[start, end)``? Filed before the end and either
        something happened from the start on, or it was open at the start. (Cases
        closed and quiet before the start are skipped: most of a long history.)"""
        if self.filed >= end:
            return False
        return (self.last_event is not None and self.last_event >= start) or self.open_before(start)

    @property
    def escalated(self) -> bool:
        return bool(self.escalations)


@dataclass(frozen=True)
class Filing:
    """A case as repeat complaints and category alerts read it, where nothing else
    about it can count: when it was filed, by whom, in which category."""

    id: str
    filed: datetime
    customer_key: str | None
    category: str | None

    def get(self, name: str, default: Any = None) -> Any:
        return self.category if name == "category" and self.category is not None else default


def truncate(case: Case, moment: datetime) -> Case | None:
    """The case as it stood at ``moment`` (events up to it); None if filed later."""
    events = tuple(event for event in case.events if parse_time(event.at) <= moment)
    if not events:
        return None
    if len(events) == len(case.events):
        return case
    return Case(case.id, MappingProxyType(replay(events)), events)


def case_facts(case: Case, default_currency: str = "") -> CaseFacts:
    """``default_currency``: the currency of a redress recorded without one."""
    state = case.state
    filed = _filed(state, case)
    times: list[datetime] = []
    statuses: list[str] = []
    closures: list[datetime] = []
    undated: set[datetime] = set()
    reopens: list[datetime] = []
    escalations: list[datetime] = []
    waits: list[datetime] = []
    notes = 0
    level = 0
    clock = filed  # the effective time: never before the filing or the event before
    current: str | None = None
    for event in case.events:
        clock = max(clock, parse_time(event.at))
        change = event.changes.get("status")
        if change is not None and change[1] != current:
            new = change[1]
            times.append(clock if times else filed)
            statuses.append(new)
            if new in DONE and current not in DONE:  # from open, or filed already closed
                closures.append(times[-1])
                if (event.note or "").startswith(UNDATED_NOTE):
                    undated.add(times[-1])
            elif new in OPEN and current in DONE:
                reopens.append(times[-1])
            if new == Status.WAITING.value and current != new:
                waits.append(times[-1])
            current = new
        if event.action == "note" and not closures:
            notes += 1
        new_level = _level(event.changes.get("escalation_level", (None, level))[1])
        if event.action == "escalate" or (new_level > level and event.actor != MERGE_ACTOR):
            escalations.append(clock)
        level = max(level, new_level)
    responded = state.get("first_response_at")
    if responded:
        first_response: datetime | None = parse_time(responded)
    else:
        first_response = closures[0] if closures and closures[0] not in undated else None
    return CaseFacts(
        id=case.id,
        state=MappingProxyType(dict(state)),
        filed=filed,
        status_times=tuple(times),
        status_values=tuple(statuses),
        closures=tuple(closures),
        reopens=tuple(reopens),
        escalations=tuple(escalations),
        waits=tuple(waits),
        notes_before_closure=notes,
        first_response=first_response,
        customer_key=customer_key(state),
        last_event=clock,
        undated_closures=frozenset(undated),
        imported=bool(state.get("source")),
        currency=str(state.get("redress_currency") or default_currency),
    )


def _filed(state: Any, case: Case) -> datetime:
    text = state.get("filed_at")
    first = parse_time(case.events[0].at)
    if not text:
        return first
    try:
        return parse_time(text)
    except (TypeError, ValueError):
        return first


def _level(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def customer_key(state: Any) -> str | None:
    """Who the customer is, for repeat complaints and survey cool-downs: the contact
    (phone digits or e-mail) when known, else the name; case and spacing ignored."""
    contact = (state.get("contact") or "").strip().lower()
    if contact:
        digits = "".join(ch for ch in contact if ch.isdigit())
        return "contact:" + (digits if "@" not in contact and len(digits) >= 6 else contact)
    name = " ".join((state.get("customer") or "").lower().split())
    return f"name:{name}" if name else None
