"""The accounting identity of every report, over random case timelines:

    open at start + received + reopened - closed = open at end

for the totals, for every row of every breakdown (which must add up to the
totals), for the FCA return, for consecutive periods (one's end is the next one's
start) and at any evaluation time. Timelines include reopening, closing twice,
filings back-dated into an earlier period, events written out of time order,
imports (closed with no date) and cases filed already closed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import MappingProxyType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmtool.model.case import Case
from cmtool.model.events import UNDATED_NOTE, Event
from cmtool.reports.facts import case_facts, truncate
from cmtool.reports.fca import fca_return
from cmtool.reports.headline import TREND_PERIODS, trend
from cmtool.reports.kpis import group_kpis, period_kpis
from cmtool.reports.movements import movements, movements_by, movements_of
from cmtool.reports.periods import Period, parse_period
from cmtool.reports.sections import volumes
from cmtool.reports.timing import KpiCalendar

UTC = timezone.utc
BASE = datetime(2026, 1, 1, tzinfo=UTC)
CALENDAR = KpiCalendar.fallback("UTC")
FLOW = ("open_at_start", "received", "reopened_in_period", "closed", "open_at_end")
# status moves an action makes from (open, done); None: not allowed from there
MOVES = {
    "assign": ("assigned", None),
    "wait": ("waiting", None),
    "resume": ("in_progress", None),
    "resolve": ("resolved", None),
    "close": ("closed", "closed"),
    "reopen": (None, "in_progress"),
    "note": (None, None),
    "escalate": (None, None),
}
DONE = {"resolved", "closed"}


def at(hours: float) -> str:
    return (BASE + timedelta(hours=hours)).isoformat()


@st.composite
def timelines(draw, number: int) -> Case:
    filed = draw(st.floats(min_value=0, max_value=24 * 150))
    back = draw(st.sampled_from([0, 0, 0, 24 * 40]))  # sometimes filed_at is 40 days earlier
    imported = draw(st.booleans())
    status = draw(st.sampled_from(["new", "new", "new", "closed"]))  # filed already closed
    fields = {
        "title": "t",
        "status": status,
        "priority": "normal",
        "channel": "email",
        "filed_at": at(filed - back),
        "category": draw(st.sampled_from(["billing", "logistics", None])),
        "product": draw(st.sampled_from(["Card", "Loan", None])),
        "regimes": draw(st.sampled_from([["fca_disp"], [], ["cfpb"]])),
    }
    if imported:
        fields["source"] = {"file": "old.xlsx", "row": number}
    events = [Event(at(filed), "t", "file", MappingProxyType({k: (None, v) for k, v in fields.items()}))]
    clock = filed
    for action in draw(st.lists(st.sampled_from(sorted(MOVES)), max_size=8)):
        # mostly later, sometimes written before the event before it
        clock += draw(st.sampled_from([1.0, 5.0, 30.0, 24.0 * 20, -3.0]))
        target = MOVES[action][1 if status in DONE else 0]
        changes = {}
        if target is not None and target != status:
            changes["status"] = (status, target)
            status = target
        if action == "escalate":
            changes["escalation_level"] = (None, 1)
        if action == "resolve":
            changes["upheld"] = (None, draw(st.sampled_from([True, False, None])))
        note = UNDATED_NOTE + "; dated at the previous event" if imported and action == "resolve" else None
        events.append(Event(at(clock), "t", action, MappingProxyType(changes), note))
    case = Case(f"C-X{number:06d}", MappingProxyType({}), ())
    for event in events:
        case = case.with_event(event)
    return case


cases_strategy = st.integers(min_value=1, max_value=12).flatmap(
    lambda n: st.tuples(*(timelines(i) for i in range(n)))
)


def check_period(facts, period: Period, as_at: datetime) -> None:
    end = period.until(as_at)
    kpis = period_kpis(facts, period, as_at, CALENDAR)
    start_open, received, reopened, closed, end_open = (kpis[name] for name in FLOW)
    assert start_open + received + reopened - closed == end_open, kpis
    assert kpis["reconciles"]
    for field in ("category", "product", "channel"):
        rows = volumes(facts, field, period, end)
        for row in rows:
            assert (
                row["open_at_start"] + row["received"] + row["reopened_in_period"] - row["closed"]
                == (row["open_at_end"])
            ), row
        for name in FLOW:
            assert sum(row[name] for row in rows) == kpis[name], (field, name)
    groups = group_kpis(facts, "product", period, as_at, CALENDAR)
    for name in FLOW:
        assert sum(g[name] for g in groups) == kpis[name]
    fca = fca_return(facts, period, end, CALENDAR)
    for row in [*fca["rows"], fca["totals"]]:
        assert (
            row["outstanding_at_start"] + row["opened"] + row["reopened"] - row["closed"]
            == (row["outstanding_at_end"])
        )
        split = ("closed_within_3_business_days", "closed_within_8_weeks", "closed_after_8_weeks")
        assert sum(row[n] for n in split) + row["closed_date_unknown"] == row["closed"]
    for name in ("closed_within_3_business_days", "upheld", "first_contact_resolution"):
        share = kpis[name]
        assert share["known"] + share["unknown"] == closed and share["count"] <= share["known"]
    assert kpis["resolution_hours"]["count"] + kpis["resolution_unknown"] == closed


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cases=cases_strategy,
    as_at_hours=st.floats(min_value=24, max_value=24 * 200),
    first_day=st.integers(min_value=0, max_value=150),
    length=st.integers(min_value=1, max_value=60),
)
def test_identities_hold_for_any_period_and_evaluation_time(cases, as_at_hours, first_day, length):
    as_at = BASE + timedelta(hours=as_at_hours)
    facts = [case_facts(c, "GBP") for c in (truncate(c, as_at) for c in cases) if c is not None]
    first = (BASE + timedelta(days=first_day)).date()
    period = Period("days", first, first + timedelta(days=length - 1), UTC)
    check_period(facts, period, as_at)
    # One period's end is the next one's start, so months chain.
    month = parse_period("2026-02", UTC)
    before = movements(facts, month.start, month.end)
    after = movements(facts, month.end, month.shifted(1).end)
    assert before["open_at_end"] == after["open_at_start"]
    check_period(facts, month, as_at)


def test_a_back_dated_filing_counts_in_the_period_it_is_dated_in():
    # Filed on 10 March, dated 20 February (the customer wrote then): February
    # received it and ended with it open, so March starts with it open.
    fields = {"status": "new", "filed_at": "2026-02-20T10:00:00+00:00"}
    case = Case("C-260220-Z000001", MappingProxyType({}), ()).with_event(
        Event(
            "2026-03-10T10:00:00+00:00",
            "t",
            "file",
            MappingProxyType({k: (None, v) for k, v in fields.items()}),
        )
    )
    fact = case_facts(case)
    feb, mar = parse_period("2026-02", UTC), parse_period("2026-03", UTC)
    assert movements([fact], feb.start, feb.end) == {
        "open_at_start": 0,
        "received": 1,
        "reopened_in_period": 0,
        "closed": 0,
        "open_at_end": 1,
        "reconciles": True,
    }
    assert movements([fact], mar.start, mar.end)["open_at_start"] == 1


def by_definition(facts, start: datetime, end: datetime) -> dict:
    """The reconciliation of ``[start, end)`` read straight from the definitions in
    ``kpis`` (each case asked on its own; no shortcuts)."""
    end = max(start, end)
    flows = {
        "open_at_start": sum(1 for f in facts if f.filed < start and f.open_before(start)),
        "received": sum(1 for f in facts if start <= f.filed < end),
        "reopened_in_period": sum(f.reopens_in(start, end) for f in facts),
        "closed": sum(len(f.closures_in(start, end)) for f in facts),
        "open_at_end": sum(1 for f in facts if f.filed < end and f.open_before(end)),
    }
    start_open, received, reopened, closed, end_open = flows.values()
    return {**flows, "reconciles": start_open + received + reopened - closed == end_open}


instants = st.floats(min_value=-24 * 60, max_value=24 * 220).map(lambda h: BASE + timedelta(hours=h))
# Windows as callers make them (weeks or months end to end, the last one cut at the
# evaluation time) and any others: overlapping, nested, empty, reversed, repeated,
# bounds on an event's own instant, bounds in another time zone.
chained = st.tuples(instants, st.sampled_from([1, 24, 24 * 7, 24 * 30]), st.integers(1, 12), instants).map(
    lambda t: [
        (t[0] + timedelta(hours=t[1] * i), min(t[0] + timedelta(hours=t[1] * (i + 1)), t[3]))
        for i in range(t[2])
    ]
)
loose = st.lists(st.tuples(instants, instants), min_size=1, max_size=8)
ZONE = timezone(timedelta(hours=-5))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cases=cases_strategy,
    as_at_hours=st.floats(min_value=0, max_value=24 * 200),
    windows=st.one_of(chained, loose, st.tuples(chained, loose).map(lambda t: t[0] + t[1])),
    on_events=st.booleans(),
    zoned=st.booleans(),
)
def test_movements_of_many_windows_equal_each_window_by_definition(
    cases, as_at_hours, windows, on_events, zoned
):
    as_at = BASE + timedelta(hours=as_at_hours)
    facts = [case_facts(c, "GBP") for c in (truncate(c, as_at) for c in cases) if c is not None]
    if on_events:  # bounds exactly on status changes, filings and closures
        moments = sorted({m for f in facts for m in (f.filed, *f.status_times, *f.closures, *f.reopens)})
        windows = windows + list(zip(moments, moments[1:], strict=False))
    if zoned:
        windows = [(start.astimezone(ZONE), end) for start, end in windows]
    expected = [by_definition(facts, start, end) for start, end in windows]
    assert movements_of(facts, windows) == expected
    assert [movements(facts, start, end) for start, end in windows] == expected
    # Groups: every case in one group per field, all fields counted in the one pass.
    fields = ("category", "product")
    grouped = movements_by(facts, windows, lambda f: [(name, f.get(name)) for name in fields])
    members: dict = {}
    for fact in facts:
        for name in fields:
            members.setdefault((name, fact.get(name)), []).append(fact)
    assert grouped == {
        key: [by_definition(group, start, end) for start, end in windows] for key, group in members.items()
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases=cases_strategy, as_at_hours=st.floats(min_value=24 * 30, max_value=24 * 200))
def test_trend_counts_each_period_as_the_period_itself_does(cases, as_at_hours):
    as_at = BASE + timedelta(hours=as_at_hours)
    facts = [case_facts(c, "GBP") for c in (truncate(c, as_at) for c in cases) if c is not None]
    month = parse_period(f"{as_at:%Y-%m}", UTC)
    own = period_kpis(facts, month, as_at, CALENDAR)
    rows = trend(facts, month, as_at, CALENDAR, {})
    assert trend(facts, month, as_at, CALENDAR, {}, current=own) == rows
    shown = [p for p in [*month.previous(TREND_PERIODS), month] if p.start < as_at]
    assert [row["period"] for row in rows] == [p.label for p in shown]
    for past, row in zip(shown, rows, strict=True):
        if row["no_data"]:
            continue
        alone = period_kpis(facts, past, as_at, CALENDAR)
        assert [row[name] for name in ("open_at_start", "received", "reopened", "closed", "open_at_end")] == [
            alone[name] for name in FLOW
        ]
        assert row["within_8_weeks"] == alone["closed_within_8_weeks"]["rate"]
