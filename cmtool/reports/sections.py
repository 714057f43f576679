"""The tables of a report over the case facts of a period: volumes per field,
SLA breaches, ageing of open cases, escalations and survey scores."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cmtool.model.timefmt import parse_time
from cmtool.reports.facts import CaseFacts
from cmtool.reports.figures import rate
from cmtool.reports.kpis import ClockLookup
from cmtool.reports.movements import FLOW_NAMES, movements_by
from cmtool.reports.periods import Period

AGEING = (
    (0, 2, "0-2 days"),
    (3, 7, "3-7 days"),
    (8, 14, "8-14 days"),
    (15, 28, "15-28 days"),
    (29, 56, "29-56 days"),
    (57, None, "over 8 weeks"),
)


def volumes(facts: Sequence[CaseFacts], field: str, period: Period, end: datetime) -> list[dict]:
    """The reconciliation per value of ``field`` (the value each case has at the
    evaluation time): open at start, received, reopened, closed, open at end, and
    the share of received; biggest first. Each case is in one row, so the rows add
    up to the report's totals."""
    return volumes_by(facts, (field,), period, end)[field]


def volumes_by(
    facts: Sequence[CaseFacts], fields: Sequence[str], period: Period, end: datetime
) -> dict[str, list[dict]]:
    """:func:`volumes` of each of ``fields``, from one pass over ``facts``."""

    def groups(fact: CaseFacts) -> list[tuple[str, str]]:
        return [(field, str(fact.get(field, "(none)"))) for field in fields]

    tables: dict[str, list[dict]] = {field: [] for field in fields}
    for (field, key), (flows,) in movements_by(facts, [(period.start, end)], groups).items():
        if any(flows[name] for name in FLOW_NAMES):
            tables[field].append({"key": key, **flows})
    for rows in tables.values():
        total = sum(row["received"] for row in rows)
        for row in rows:
            row["share"] = rate(row["received"], total)
        rows.sort(key=lambda r: (-r["received"], -r["closed"], r["key"]))
    return tables


def data_quality(facts: Sequence[CaseFacts], period: Period, end: datetime) -> list[dict[str, Any]]:
    """How many of the cases a figure needs lack the fact it needs. Received cases
    for category and product; cases closed in the period for the rest."""
    received = [f for f in facts if period.start <= f.filed < end]
    closed = [f for f in facts if f.closures_in(period.start, end)]
    checks = (
        ("category", "Category", received, lambda f: not f.get("category")),
        ("product", "Product", received, lambda f: not f.get("product")),
        (
            "close_date",
            "Close date",
            closed,
            lambda f: not all(f.closure_dated(m) for m in f.closures_in(period.start, end)),
        ),
        ("first_contact", "First contact", closed, lambda f: f.first_response is None),
        ("upheld", "Upheld (yes/no)", closed, lambda f: not isinstance(f.get("upheld"), bool)),
        ("root_cause", "Root cause", closed, lambda f: not f.get("root_cause")),
    )
    rows = []
    for key, label, population, missing in checks:
        count = sum(1 for f in population if missing(f))
        rows.append(
            {
                "fact": key,
                "label": label,
                "applies_to": "received" if population is received else "closed",
                "cases": len(population),
                "missing": count,
                "share": rate(count, len(population)),
            }
        )
    return rows


def breaches(
    facts: Sequence[CaseFacts], clocks: ClockLookup, period: Period, end: datetime
) -> list[dict[str, Any]]:
    """Clocks missed in the period, and clocks still running past due at its end."""
    rows = []
    for fact in facts:
        for clock in clocks.get(fact.id, ()):
            stopped = as_time(clock.stopped_at)
            missed = clock.state == "missed" and stopped and period.start <= stopped < end
            if (missed or clock.state == "breached") and not getattr(clock, "advisory", False):
                rows.append(
                    {
                        "case_id": fact.id,
                        "clock": clock.clock,
                        "state": clock.state,
                        "source": getattr(clock, "source", None),
                        "due_at": as_time(clock.due_at),
                        "stopped_at": stopped,
                        "priority": fact.get("priority"),
                        "category": fact.get("category"),
                        "assignee": fact.get("assignee"),
                        "status": fact.get("status"),
                    }
                )
    rows.sort(key=lambda r: (r["due_at"] or end, r["case_id"], r["clock"]))
    return rows


def ageing(open_cases: Sequence[CaseFacts], end: datetime) -> list[dict[str, Any]]:
    buckets = Counter()
    for fact in open_cases:
        age = (end - fact.filed).days
        label = next(lab for low, high, lab in AGEING if age >= low and (high is None or age <= high))
        buckets[label] += 1
    total = len(open_cases)
    return [
        {"bucket": label, "count": buckets[label], "share": rate(buckets[label], total)}
        for _, _, label in AGEING
    ]


def escalations(facts: Sequence[CaseFacts], start: datetime, end: datetime) -> list[dict]:
    rows = []
    for fact in facts:
        for moment in fact.escalations:
            if start <= moment < end:
                rows.append(
                    {
                        "case_id": fact.id,
                        "at": moment,
                        "level": fact.get("escalation_level"),
                        "assignee": fact.get("assignee"),
                        "category": fact.get("category"),
                        "priority": fact.get("priority"),
                        "status": fact.get("status"),
                    }
                )
    rows.sort(key=lambda r: (r["at"], r["case_id"]))
    return rows


def score_distribution(facts: Sequence[CaseFacts], start: datetime, end: datetime) -> list[dict]:
    answered = [f for f in facts if in_window(f.get("surveyed_at"), start, end)]
    csat = Counter(f.get("csat") for f in answered if f.get("csat") is not None)
    return [
        {"score": score, "count": csat[score], "share": rate(csat[score], sum(csat.values()))}
        for score in range(1, 6)
    ]


def in_window(value: Any, start: datetime, end: datetime) -> bool:
    moment = as_time(value)
    return moment is not None and start <= moment < end


def as_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_time(value)
