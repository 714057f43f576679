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
from cmtool.model.registry import MERGE_ACTOR
from cmtool.model.replay import replay
from cmtool.model.timefmt import parse_time

OPEN = frozenset(status.value for status in OPEN_STATUSES)
DONE = frozenset({Status.RESOLVED.value, Status.CLOSED.value})
GROUP_FIELDS = ("category", "channel", "team", "assignee", "region", "product", "priority")


@dataclass(frozen=True)
class CaseFacts:
    id: str
    state: MappingProxyType  # the state at the evaluation time
    filed: datetime
    status_times: tuple[datetime, ...]  # when the status changed...
    status_values: tuple[str, ...]  # ...and to what (the first is the filing)
    closures: tuple[datetime, ...]  # each move from an open status to resolved/closed
    reopens: tuple[datetime, ...]
    escalations: tuple[datetime, ...]
    waits: int
    notes_before_closure: int  # customer-facing notes before the first closure
    first_response: datetime | None
    customer_key: str | None
    last_event: datetime | None = None
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

    def closure_in(self, start: datetime, end: datetime) -> datetime | None:
        """The last closure in ``[start, end)``: a reopened-and-reclosed case counts once."""
        inside = [moment for moment in self.closures if start <= moment < end]
        return inside[-1] if inside else None

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


def truncate(case: Case, moment: datetime) -> Case | None:
    """The case as it stood at ``moment`` (events up to it); None if filed later."""
    events = tuple(event for event in case.events if parse_time(event.at) <= moment)
    if not events:
        return None
    if len(events) == len(case.events):
        return case
    return Case(case.id, MappingProxyType(replay(events)), events)


def case_facts(case: Case) -> CaseFacts:
    times: list[datetime] = []
    statuses: list[str] = []
    closures: list[datetime] = []
    reopens: list[datetime] = []
    escalations: list[datetime] = []
    waits = notes = 0
    level = 0
    status = None  # as replayed: an event's recorded old value is informational (merges)
    for event in case.events:
        at = parse_time(event.at)
        change = event.changes.get("status")
        if change is not None:
            old, new = status, change[1]
            status = new
            times.append(at)
            statuses.append(new)
            if old in OPEN and new in DONE:
                closures.append(at)
            if old in DONE and new in OPEN:
                reopens.append(at)
        if event.action == "wait":
            waits += 1
        if event.action == "note" and not closures:
            notes += 1
        new_level = event.changes.get("escalation_level", (None, level))[1] or 0
        if event.action == "escalate" or (new_level > level and event.actor != MERGE_ACTOR):
            escalations.append(at)
        level = max(level, new_level)
    state = case.state
    filed = parse_time(state.get("filed_at") or case.events[0].at)
    responded = state.get("first_response_at")
    first_response = parse_time(responded) if responded else (closures[0] if closures else None)
    return CaseFacts(
        id=case.id,
        state=MappingProxyType(dict(state)),
        filed=filed,
        status_times=tuple(times),
        status_values=tuple(statuses),
        closures=tuple(closures),
        reopens=tuple(reopens),
        escalations=tuple(escalations),
        waits=waits,
        notes_before_closure=notes,
        first_response=first_response,
        customer_key=customer_key(state),
        last_event=parse_time(case.events[-1].at),
    )


def customer_key(state: Any) -> str | None:
    """Who the customer is, for repeat complaints and survey cool-downs: the contact
    (phone digits or e-mail) when known, else the name; case and spacing ignored."""
    contact = (state.get("contact") or "").strip().lower()
    if contact:
        digits = "".join(ch for ch in contact if ch.isdigit())
        return "contact:" + (digits if "@" not in contact and len(digits) >= 6 else contact)
    name = " ".join((state.get("customer") or "").lower().split())
    return f"name:{name}" if name else None
