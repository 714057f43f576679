"""What the KPIs keep of one case between runs, and how it is read back at a moment.

``stats`` and every report count from :class:`~cmtool.reports.facts.CaseFacts`
(``case_facts``) and the SLA clocks of each case. Both depend only on the case
file and the rules, so the index keeps them per file (``store.kpifacts``) as a
*record*: a JSON-ready dict made here by :func:`record_of` with the very same
``case_facts`` and clock code a full recomputation runs. :func:`record_facts` and
:func:`record_clocks` turn a record back into what the KPI code reads.

A record stands for the case as its events stand up to some moment. Read at a
moment ``t`` it is exact when ``t`` is at or after its last event (``last_at``):
the facts are then what ``case_facts(truncate(case, t))`` gives, and a running
clock's state at ``t`` follows from its due moment alone (breached once due).
Two things need the case itself: a moment before the last event (the case as it
stood then; the caller derives a record of that truncated case, and may keep it
by the number of events it holds, ``upto``), and a pause still going on (a case
waiting on the customer), whose due moments move with time (``moving``).

Free text and contact details are not kept: the rows a report prints are built
from the case file itself (``record_of`` keeps the state the KPIs group and
count by, and the customer key repeats are found by).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from cmtool.model.case import Case
from cmtool.model.timefmt import parse_time
from cmtool.reports.facts import OPEN, CaseFacts, case_facts
from cmtool.rules.model import Rules
from cmtool.sla.clocks import evaluate
from cmtool.sla.periods import case_periods

# State a KPI never reads: the rows a report prints come from the case file.
NOT_KEPT = frozenset({"description", "title", "resolution", "customer", "contact", "waiting_reason"})


@dataclass(frozen=True)
class ClockAt:
    """A clock as the KPIs read it (the attributes of ``sla.clocks.ClockState`` they use)."""

    case_id: str
    clock: str
    source: str
    state: str  # "met" | "missed" | "breached" | "running"
    due_at: datetime | None
    stopped_at: datetime | None
    advisory: bool


def record_of(case: Case, rules: Rules) -> dict[str, Any]:
    """The KPI facts and clocks of ``case`` (as its events stand), JSON-ready."""
    facts = case_facts(case, rules.currency_for(case.state))
    moments = [parse_time(event.at) for event in case.events]
    clocks, moving = _clocks(case, rules, max(moments))
    return {
        "facts": _facts_record(facts),
        "ats": [m.timestamp() for m in moments],
        "moving": moving,
        "clocks": clocks,
    }


def summary_of(record: dict[str, Any]) -> dict[str, Any]:
    """The columns a query chooses cases by (epoch seconds for moments)."""
    facts = record["facts"]
    statuses = facts["status_values"]
    return {
        "filed": datetime.fromisoformat(facts["filed"]).timestamp(),
        "first_at": min(record["ats"]),
        "last_at": max(record["ats"]),
        "open": bool(statuses) and statuses[-1] in OPEN,
        "customer": facts["customer_key"],
        "category": facts["state"].get("category"),
    }


def upto(record: dict[str, Any], moment: datetime) -> int | None:
    """How many leading events of the case stand at ``moment``: the record of the case
    truncated there is the record of those events. None when the events are out of
    time order (truncating then is no prefix: derive from the case)."""
    ats = record["ats"]
    if any(later < earlier for earlier, later in zip(ats, ats[1:], strict=False)):
        return None
    stamp = moment.timestamp()
    return sum(1 for at in ats if at <= stamp)


def exact_at(record: dict[str, Any], moment: datetime) -> bool:
    """Does the record say what the case says at ``moment``, clocks included?"""
    return moment.timestamp() >= max(record["ats"]) and not record["moving"]


def record_facts(record: dict[str, Any], case_id: str) -> CaseFacts:
    """The facts of a record (read at or after its last event)."""
    f = record["facts"]
    moment = datetime.fromisoformat
    return CaseFacts(
        id=case_id,
        state=MappingProxyType(f["state"]),
        filed=moment(f["filed"]),
        status_times=tuple(map(moment, f["status_times"])),
        status_values=tuple(f["status_values"]),
        closures=tuple(map(moment, f["closures"])),
        reopens=tuple(map(moment, f["reopens"])),
        escalations=tuple(map(moment, f["escalations"])),
        waits=tuple(map(moment, f["waits"])),
        notes_before_closure=f["notes_before_closure"],
        first_response=moment(f["first_response"]) if f["first_response"] else None,
        customer_key=f["customer_key"],
        last_event=moment(f["last_event"]) if f["last_event"] else None,
        undated_closures=frozenset(map(moment, f["undated_closures"])),
        imported=f["imported"],
        currency=f["currency"],
    )


def record_clocks(record: dict[str, Any], case_id: str, moment: datetime) -> list[ClockAt]:
    """The clocks of a record at ``moment`` (at or after its last event, not moving):
    a stopped clock stays as it stopped; a running one is breached once due."""
    out = []
    for name, source, stopped_state, due_text, stopped_text, advisory in record["clocks"]:
        due = parse_time(due_text) if due_text else None
        state = stopped_state or ("breached" if due is not None and due <= moment else "running")
        stopped = parse_time(stopped_text) if stopped_text else None
        out.append(ClockAt(case_id, name, source, state, due, stopped, advisory))
    return out


def clocks_of(states: list[Any]) -> list[ClockAt]:
    """``sla.clocks.ClockState`` objects as the KPIs read them."""
    return [
        ClockAt(
            s.case_id,
            s.clock,
            s.source,
            s.state,
            parse_time(s.due_at) if s.due_at else None,
            parse_time(s.stopped_at) if s.stopped_at else None,
            s.advisory,
        )
        for s in states
    ]


def _clocks(case: Case, rules: Rules, last: datetime) -> tuple[list[list[Any]], bool]:
    """Each clock as [name, source, state once stopped, due, stopped, advisory], and
    whether a pause still going on moves due moments."""
    periods = case_periods(case)
    moving = any(end is None for _start, end in (*periods.waiting, *periods.inactive))
    clocks = []
    for clock in evaluate(case, rules, last):
        s = clock.state
        stopped = s.state if s.state in ("met", "missed") else None
        clocks.append(
            [
                s.clock,
                s.source,
                stopped,
                s.due_at,
                s.stopped_at,
                s.advisory,
            ]
        )
    return clocks, moving


def _facts_record(facts: CaseFacts) -> dict[str, Any]:
    text = datetime.isoformat
    return {
        "state": {k: v for k, v in facts.state.items() if v is not None and k not in NOT_KEPT},
        "filed": text(facts.filed),
        "status_times": [text(m) for m in facts.status_times],
        "status_values": list(facts.status_values),
        "closures": [text(m) for m in facts.closures],
        "reopens": [text(m) for m in facts.reopens],
        "escalations": [text(m) for m in facts.escalations],
        "waits": [text(m) for m in facts.waits],
        "notes_before_closure": facts.notes_before_closure,
        "first_response": text(facts.first_response) if facts.first_response else None,
        "customer_key": facts.customer_key,
        "last_event": text(facts.last_event) if facts.last_event else None,
        "undated_closures": sorted(text(m) for m in facts.undated_closures),
        "imported": facts.imported,
        "currency": facts.currency,
    }
