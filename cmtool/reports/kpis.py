"""The KPIs of a period, from case facts. Pure: no I/O, no clock of its own.

Definitions (docs/reports.md repeats them for readers):

- received: filed in the period. open at start / end: filed before the instant and
  in an open status just before it (the end is the period end, or the evaluation
  time for a period still running).
- closed: moved from an open status to resolved/closed in the period (a case
  reopened and resolved again in the same period counts once, at its last closure).
- first response: filing -> first customer-facing note (or the resolution, when
  there was none), for first responses made in the period; resolution time:
  filing -> the closure, for cases closed in the period. Both in hours, wall clock
  and business time (the rules' calendar).
- within 3 business days: closed by the end of the third business day after the day
  received (FCA DISP 1.6.4); within 8 weeks: closed at most 56 days after filing.
- rates over cases closed in the period: escalated (ever escalated), reopened
  (reopened before that closure), first-contact resolution (closed with at most one
  customer note before it, never waiting, escalated or reopened), upheld.
- surveys: answers recorded in the period (CSAT 1-5 average; NPS = % of 9-10 minus
  % of 0-6); response rate = closed cases of the period with an answer / closed.
- repeat complaints: received cases whose customer filed another case in the 90 days
  before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from cmtool.model.timefmt import parse_time
from cmtool.reports.facts import CaseFacts
from cmtool.reports.figures import nps, rate, summary
from cmtool.reports.periods import Period

HOUR = 3600.0
EIGHT_WEEKS = timedelta(weeks=8)
REPEAT_WINDOW = timedelta(days=90)
TOP = 5


class BusinessCalendar(Protocol):
    def business_seconds(self, start: datetime, end: datetime) -> float: ...

    def business_day_end(self, received: datetime, days: int) -> datetime: ...


ClockLookup = Mapping[str, Sequence[Any]]  # case id -> its SLA ClockStates


def period_kpis(
    facts: Sequence[CaseFacts],
    period: Period,
    as_at: datetime,
    calendar: BusinessCalendar,
    clocks: ClockLookup | None = None,
    history: Sequence[CaseFacts] | None = None,
) -> dict[str, Any]:
    """Every KPI of ``period`` over ``facts``; ``history`` (all cases) feeds repeats."""
    start, end = period.start, min(period.end, as_at)
    history = facts if history is None else history
    facts = [f for f in facts if f.active_during(start, end)]
    received = [f for f in facts if start <= f.filed < end]
    closed: list[tuple[CaseFacts, datetime]] = []
    for fact in facts:
        moment = fact.closure_in(start, end)
        if moment is not None:
            closed.append((fact, moment))
    responded = [f for f in facts if f.first_response and start <= f.first_response < end]
    answered = [f for f in facts if _in(f.get("surveyed_at"), start, end)]

    response_wall = [(f.first_response - f.filed).total_seconds() for f in responded]
    response_biz = [calendar.business_seconds(f.filed, f.first_response) for f in responded]
    resolution_wall = [(moment - f.filed).total_seconds() for f, moment in closed]
    resolution_biz = [calendar.business_seconds(f.filed, moment) for f, moment in closed]
    within_3bd = sum(1 for f, m in closed if m <= calendar.business_day_end(f.filed, 3))
    within_8w = sum(1 for f, m in closed if m - f.filed <= EIGHT_WEEKS)
    escalated = sum(1 for f, _ in closed if f.escalations and f.escalations[0] < end)
    reopened = sum(1 for f, m in closed if any(r < m for r in f.reopens))
    fcr = sum(1 for f, m in closed if _first_contact(f, m))
    upheld = sum(1 for f, _ in closed if f.get("upheld") is True)
    answered_closed = sum(1 for f, _ in closed if f.get("csat") is not None or f.get("nps") is not None)
    csat = [f.get("csat") for f in answered if f.get("csat") is not None]
    nps_scores = [f.get("nps") for f in answered if f.get("nps") is not None]
    repeats = repeat_cases(received, history)
    n_closed = len(closed)
    return {
        "period": period.to_dict(),
        "as_at": end.isoformat(),
        "received": len(received),
        "open_at_start": sum(1 for f in facts if f.filed < start and f.open_before(start)),
        "open_at_end": sum(1 for f in facts if f.filed < end and f.open_before(end)),
        "closed": n_closed,
        "first_response_hours": summary(response_wall, HOUR),
        "first_response_business_hours": summary(response_biz, HOUR),
        "resolution_hours": summary(resolution_wall, HOUR),
        "resolution_business_hours": summary(resolution_biz, HOUR),
        "sla": sla_compliance(facts, clocks or {}, start, end),
        "closed_within_3_business_days": _share(within_3bd, n_closed),
        "closed_within_8_weeks": _share(within_8w, n_closed),
        "escalated": _share(escalated, n_closed),
        "escalations_in_period": sum(1 for f in facts for e in f.escalations if start <= e < end),
        "reopened": _share(reopened, n_closed),
        "first_contact_resolution": _share(fcr, n_closed),
        "upheld": _share(upheld, n_closed),
        "redress_total": round(sum(float(f.get("redress", 0)) for f, _ in closed), 2),
        "surveys": {
            "answered": len(answered),
            "csat_average": round(sum(csat) / len(csat), 2) if csat else None,
            "csat_responses": len(csat),
            "response_rate": _round(rate(answered_closed, n_closed)),
            "nps": nps(nps_scores),
            "nps_responses": len(nps_scores),
            "promoters": sum(1 for s in nps_scores if s >= 9),
            "passives": sum(1 for s in nps_scores if 7 <= s <= 8),
            "detractors": sum(1 for s in nps_scores if s <= 6),
        },
        "repeat_complaints": {
            **_share(len(repeats), len(received)),
            "customers": len({f.customer_key for f in repeats}),
        },
        "top_categories": top(f.get("category", "(none)") for f in received),
        "top_root_causes": top(f.get("root_cause") for f, _ in closed if f.get("root_cause")),
    }


def group_kpis(
    facts: Sequence[CaseFacts],
    by: str,
    period: Period,
    as_at: datetime,
    calendar: BusinessCalendar,
    clocks: ClockLookup | None = None,
) -> list[dict[str, Any]]:
    """One KPI row per value of field ``by`` (the value the case had at the evaluation
    time), for groups with any activity in the period; biggest first."""
    groups: dict[str, list[CaseFacts]] = {}
    for fact in facts:
        groups.setdefault(str(fact.get(by, "(none)")), []).append(fact)
    rows = []
    for key, members in groups.items():
        kpis = period_kpis(members, period, as_at, calendar, clocks, history=facts)
        if kpis["received"] or kpis["closed"] or kpis["open_at_end"]:
            rows.append({"key": key, **kpis})
    rows.sort(key=lambda row: (-row["received"], -row["closed"], row["key"]))
    return rows


def sla_compliance(
    facts: Iterable[CaseFacts], clocks: ClockLookup, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Per clock: met and missed among clocks that stopped in the period, the share met,
    and how many were still running past their due time at the end."""
    table: dict[str, Counter] = {}
    for fact in facts:
        for clock in clocks.get(fact.id, ()):
            counts = table.setdefault(clock.clock, Counter())
            stopped = _moment(clock.stopped_at)
            if clock.state in ("met", "missed") and stopped and start <= stopped < end:
                counts[clock.state] += 1
            elif clock.state == "breached":
                counts["breached_open"] += 1
    return [
        {
            "clock": name,
            "met": c["met"],
            "missed": c["missed"],
            "compliance": _round(rate(c["met"], c["met"] + c["missed"])),
            "breached_open": c["breached_open"],
        }
        for name, c in sorted(table.items())
    ]


def repeat_cases(received: Iterable[CaseFacts], everyone: Iterable[CaseFacts]) -> list[CaseFacts]:
    """Received cases whose customer filed another case in the 90 days before them."""
    filings: dict[str, list[datetime]] = {}
    for fact in everyone:
        if fact.customer_key:
            filings.setdefault(fact.customer_key, []).append(fact.filed)
    repeats = []
    for fact in received:
        earlier = filings.get(fact.customer_key or "", ())
        if any(fact.filed - REPEAT_WINDOW <= other < fact.filed for other in earlier):
            repeats.append(fact)
    return repeats


def top(keys: Iterable[str], limit: int = TOP) -> list[dict[str, Any]]:
    counts = Counter(keys)
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"key": key, "count": count, "share": _round(rate(count, total))} for key, count in ordered]


def _first_contact(fact: CaseFacts, closure: datetime) -> bool:
    return (
        fact.notes_before_closure <= 1
        and not fact.waits
        and not fact.reopens
        and not fact.escalations
        and fact.closures[0] == closure
    )


def _share(count: int, whole: int) -> dict[str, Any]:
    return {"count": count, "rate": _round(rate(count, whole))}


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _in(text: Any, start: datetime, end: datetime) -> bool:
    moment = _moment(text)
    return moment is not None and start <= moment < end


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_time(value)
