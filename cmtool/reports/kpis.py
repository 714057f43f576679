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

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from cmtool.model.timefmt import parse_time
from cmtool.reports.facts import CaseFacts, Filing
from cmtool.reports.figures import nps, rate, summary
from cmtool.reports.movements import FLOW_NAMES, movements
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
    history: Sequence[CaseFacts | Filing] | None = None,
    flows: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every KPI of ``period`` over ``facts``; ``history`` (``facts`` and every case
    filed in the 90 days before the period) feeds repeats. ``flows``: the period's
    ``movements`` over ``facts``, when counted already (``movements_of``)."""
    start, end = period.start, period.until(as_at)
    history = facts if history is None else history
    facts = [f for f in facts if f.active_during(start, end)]
    flows = movements(facts, start, end) if flows is None else flows
    received = [f for f in facts if start <= f.filed < end]
    closed = [(f, moment) for f in facts for moment in f.closures_in(start, end)]
    dated = [(f, m) for f, m in closed if f.closure_dated(m)]
    responded = [f for f in facts if f.first_response and start <= f.first_response < end]
    answered = [f for f in facts if _in(f.get("surveyed_at"), start, end)]

    response_wall = [(f.first_response - f.filed).total_seconds() for f in responded]
    response_biz = [calendar.business_seconds(f.filed, f.first_response) for f in responded]
    resolution_wall = [(moment - f.filed).total_seconds() for f, moment in dated]
    resolution_biz = [calendar.business_seconds(f.filed, moment) for f, moment in dated]
    within_3bd = sum(1 for f, m in dated if m <= calendar.business_day_end(f.filed, 3))
    within_8w = sum(1 for f, m in dated if m - f.filed <= EIGHT_WEEKS)
    escalated = sum(1 for f, m in closed if f.escalations and f.escalations[0] < m)
    reopened = sum(1 for f, m in closed if any(r < m for r in f.reopens))
    fcr_known = [(f, m) for f, m in dated if not f.imported]
    fcr = sum(1 for f, m in fcr_known if first_contact(f, m))
    upheld_known = [f for f, _ in closed if isinstance(f.get("upheld"), bool)]
    answered_closed = sum(1 for f, _ in closed if f.get("csat") is not None or f.get("nps") is not None)
    csat = [f.get("csat") for f in answered if f.get("csat") is not None]
    nps_scores = [f.get("nps") for f in answered if f.get("nps") is not None]
    repeats = repeat_cases(received, history)
    n_closed = len(closed)
    return {
        "period": period.to_dict(),
        "as_at": min(period.end, as_at).astimezone(period.zone).isoformat(),
        "provisional": period.end > end,
        **flows,
        "closed_cases": len({f.id for f, _ in closed}),
        "first_response_hours": summary(response_wall, HOUR),
        "first_response_business_hours": summary(response_biz, HOUR),
        "first_response_unknown": sum(
            1 for f in facts if f.first_response is None and f.closures_in(start, end)
        ),
        "resolution_hours": summary(resolution_wall, HOUR),
        "resolution_business_hours": summary(resolution_biz, HOUR),
        "resolution_unknown": n_closed - len(dated),
        "sla": sla_compliance(facts, clocks or {}, start, end),
        "closed_within_3_business_days": share(within_3bd, len(dated), n_closed),
        "closed_within_8_weeks": share(within_8w, len(dated), n_closed),
        "escalated": share(escalated, n_closed, n_closed),
        "escalations_in_period": sum(1 for f in facts for e in f.escalations if start <= e < end),
        "reopened": share(reopened, n_closed, n_closed),
        "first_contact_resolution": share(fcr, len(fcr_known), n_closed),
        "upheld": share(sum(1 for f in upheld_known if f.get("upheld")), len(upheld_known), n_closed),
        "redress": (redress := redress_totals(_cases(closed))),
        # for templates written before currencies: only ever one currency's total
        "redress_total": redress[0]["amount"] if len(redress) == 1 else (0.0 if not redress else None),
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
            **share(len(repeats), len(received), len(received)),
            "customers": len({f.customer_key for f in repeats}),
        },
        "top_categories": top(f.get("category", "(none)") for f in received),
        "top_root_causes": top(f.get("root_cause") for f in _cases(closed) if f.get("root_cause")),
    }


def redress_totals(facts: Iterable[CaseFacts]) -> list[dict[str, Any]]:
    """Redress of ``facts`` (each case once) per currency, never summed across
    currencies; by currency code."""
    totals: dict[str, float] = {}
    counts: Counter = Counter()
    for fact in facts:
        amount = fact.get("redress")
        if isinstance(amount, (int, float)) and not isinstance(amount, bool) and amount:
            currency = fact.currency
            totals[currency] = totals.get(currency, 0.0) + float(amount)
            counts[currency] += 1
    return [
        {"currency": currency, "amount": round(amount, 2), "cases": counts[currency]}
        for currency, amount in sorted(totals.items())
    ]


def group_kpis(
    facts: Sequence[CaseFacts],
    by: str,
    period: Period,
    as_at: datetime,
    calendar: BusinessCalendar,
    clocks: ClockLookup | None = None,
    history: Sequence[CaseFacts | Filing] | None = None,
) -> list[dict[str, Any]]:
    """One KPI row per value of field ``by`` (the value the case had at the evaluation
    time), for groups with any activity in the period; biggest first. ``history``
    as for :func:`period_kpis` (default: ``facts``)."""
    groups: dict[str, list[CaseFacts]] = {}
    for fact in facts:
        groups.setdefault(str(fact.get(by, "(none)")), []).append(fact)
    everyone = facts if history is None else history
    rows = []
    for key, members in groups.items():
        kpis = period_kpis(members, period, as_at, calendar, clocks, history=everyone)
        if any(kpis[name] for name in FLOW_NAMES):
            rows.append({"key": key, **kpis})
    rows.sort(key=lambda row: (-row["received"], -row["closed"], row["key"]))
    return rows


def sla_compliance(
    facts: Iterable[CaseFacts], clocks: ClockLookup, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Per clock: met and missed among clocks that stopped in the period, the share met,
    and how many were still running past their due time at the end."""
    table: defaultdict[str, Counter] = defaultdict(Counter)
    for fact in facts:
        for clock in clocks.get(fact.id, ()):
            counts = table[clock.clock]
            state = clock.state
            if state == "met" or state == "missed":
                stopped = _moment(clock.stopped_at)
                if stopped and start <= stopped < end:
                    counts[state] += 1
            elif state == "breached":
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


def repeat_cases(received: Iterable[CaseFacts], everyone: Iterable[CaseFacts | Filing]) -> list[CaseFacts]:
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


def first_contact(fact: CaseFacts, closure: datetime) -> bool:
    """The case's first closure, with at most one customer note before it and no
    waiting, escalation or reopen before it."""
    return (
        fact.closures[0] == closure
        and fact.notes_before_closure <= 1
        and not any(w < closure for w in fact.waits)
        and not any(e <= closure for e in fact.escalations)
    )


def _cases(closed: Iterable[tuple[CaseFacts, datetime]]) -> list[CaseFacts]:
    """Each case once, however many times it closed."""
    return list({f.id: f for f, _ in closed}.values())


def share(count: int, known: int, whole: int) -> dict[str, Any]:
    """``count`` of the ``known`` cases (the rate is over those); ``unknown`` of
    ``whole`` lacked the fact and were left out."""
    return {"count": count, "known": known, "unknown": whole - known, "rate": _round(rate(count, known))}


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _in(text: Any, start: datetime, end: datetime) -> bool:
    moment = _moment(text)
    return moment is not None and start <= moment < end


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_time(value)
