"""What a case's timeline says about its clocks: when it waited on the customer,
when it lay resolved before a reopen, which periods were excluded (an external
appraisal), when each clock was extended and when holding replies were sent.
All read from events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cmtool.model.case import Case
from cmtool.model.timefmt import parse_time

WAITING = "waiting"
INACTIVE = ("resolved", "closed")
# Event actions this package writes (the ladder's are in rules.model.Step.action).
EXTEND = "sla_extend"
EXCLUDE = "sla_exclude"
# A note to the customer that is a holding reply carries this detail (true).
HOLDING_REPLY = "holding_reply"
NOTE = "note"

Interval = tuple[datetime, "datetime | None"]


@dataclass
class Periods:
    waiting: list[Interval] = field(default_factory=list)
    inactive: list[Interval] = field(default_factory=list)  # resolved/closed, then reopened
    excluded: list[tuple[str | None, datetime, datetime]] = field(default_factory=list)
    extensions: dict[str, list[datetime]] = field(default_factory=dict)  # clock -> when extended
    holding_replies: list[datetime] = field(default_factory=list)


def case_periods(case: Case) -> Periods:
    periods = Periods()
    status: str | None = None
    since: datetime | None = None
    for event in case.events:
        change = event.changes.get("status")
        if change is not None and change[1] != status:
            at = parse_time(event.at)
            _close(periods, status, since, at)
            status, since = change[1], at
        if event.action == EXTEND and event.details.get("clock"):
            clock = str(event.details["clock"])
            periods.extensions.setdefault(clock, []).append(parse_time(event.at))
        elif event.action == NOTE and event.details.get(HOLDING_REPLY) is True:
            periods.holding_replies.append(parse_time(event.at))
        elif event.action == EXCLUDE and event.details.get("from") and event.details.get("to"):
            clock = event.details.get("clock")
            start, end = parse_time(event.details["from"]), parse_time(event.details["to"])
            periods.excluded.append((str(clock) if clock else None, start, end))
    if status == WAITING and since is not None:
        periods.waiting.append((since, None))
    # A resolved or closed case's clocks have stopped; an open "inactive" period
    # would only matter after a reopen, which closes it above.
    return periods


def _close(periods: Periods, status: str | None, since: datetime | None, at: datetime) -> None:
    if since is None:
        return
    if status == WAITING:
        periods.waiting.append((since, at))
    elif status in INACTIVE:
        periods.inactive.append((since, at))
