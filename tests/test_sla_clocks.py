"""SLA clocks computed from events: hand-computed cases and properties."""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.model.timefmt import parse_time
from cmtool.rules.loader import check_rules
from cmtool.sla.clocks import case_clocks, evaluate
from cmtool.sla.ladder import due_step, fired_steps, step_event

RULES_TEXT = """
calendars:
  cn: {timezone: Asia/Shanghai, hours: {mon-fri: "09:00-12:00, 13:00-18:00"},
       holidays: {country: CN}}
  uk: {timezone: Europe/London, hours: {mon-fri: "09:00-17:00"},
       holidays: {country: GB, subdiv: ENG}}
  plain: {timezone: UTC, hours: {mon-fri: "09:00-17:00"}}
sla:
  calendar: plain
  pause_while_waiting: true
  policies:
    - {name: std, first_response: 8h, resolution: 16h}
regimes:
  fca_disp: {calendar: uk}
  cn_banking: {calendar: cn}
escalation:
  - {step: warn, at: 80%, notify: [assignee], level: 0}
  - {step: breach, at: 100%, notify: [team_lead], level: 1}
  - {step: manager, at: 100%, after: 4h, notify: [manager], level: 2}
"""
RULES, _, PROBLEMS = check_rules(RULES_TEXT)
assert not PROBLEMS, PROBLEMS


def make_case(filed_at: str, *steps: tuple, regimes: list | None = None) -> Case:
    """steps: (at, action, {field: new}, details) appended after the filing."""
    state = {
        "title": "t",
        "status": "new",
        "priority": "normal",
        "filed_at": filed_at,
        "assignee": "alice",
        "regimes": regimes,
    }
    filed = Event(
        filed_at,
        "tester",
        "file",
        MappingProxyType({k: (None, v) for k, v in state.items() if v is not None}),
    )
    case = Case("C-251103-0000000", MappingProxyType({}), ()).with_event(filed)
    for at, action, updates, *details in steps:
        changes = {k: (case.state.get(k), v) for k, v in updates.items()}
        extra = MappingProxyType(details[0] if details else {})
        case = case.with_event(Event(at, "tester", action, MappingProxyType(changes), details=extra))
    return case


def clock(case: Case, name: str, now: str):
    return next(c for c in case_clocks(case, RULES, parse_time(now)) if c.clock == name)


def test_pause_across_a_weekend():
    # Thu 09:00 + 16 h resolution on 09-17 Mon-Fri: due Fri 17:00 without a pause.
    # Waiting Fri 13:00 -> Mon 11:00 pauses 4 h Friday + 2 h Monday of working time:
    # 12 h used by Fri 13:00, 4 h left from Mon 11:00 -> Mon 15:00.
    case = make_case(
        "2025-11-20T09:00:00+00:00",
        ("2025-11-20T10:00:00+00:00", "assign", {"status": "assigned"}),
        ("2025-11-21T13:00:00+00:00", "wait", {"status": "waiting"}),
    )
    during = clock(case, "resolution", "2025-11-22T12:00:00+00:00")
    assert during.state == "paused"
    assert during.due_at == "2025-11-24T13:00:00+00:00"  # if resumed now (Saturday): Mon 09+4h
    resumed = case.with_event(
        Event(
            "2025-11-24T11:00:00+00:00",
            "t",
            "resume",
            MappingProxyType({"status": ("waiting", "in_progress")}),
        )
    )
    after = clock(resumed, "resolution", "2025-11-24T11:30:00+00:00")
    assert after.state == "ok"  # 12.5 h of 16 used: under the 80 % warning
    assert after.due_at == "2025-11-24T15:00:00+00:00"
    assert after.paused_seconds == 6 * 3600
    assert after.business_seconds_left == 3.5 * 3600
    assert clock(resumed, "resolution", "2025-11-24T12:00:00+00:00").state == "warning"


def test_fca_complaint_resolved_on_the_third_business_day():
    # Received Monday 10 Nov 2025 10:00 GMT: 3rd business day after is Thursday 13th.
    resolved = make_case(
        "2025-11-10T10:00:00+00:00",
        (
            "2025-11-13T16:30:00+00:00",
            "resolve",
            {"status": "resolved", "resolved_at": "2025-11-13T16:30:00+00:00"},
        ),
        regimes=["fca_disp"],
    )
    summary = clock(resolved, "fca_disp.summary_resolution", "2025-11-20T00:00:00+00:00")
    assert summary.due_at == "2025-11-13T17:00:00+00:00"
    assert summary.state == "met" and summary.advisory
    final = clock(resolved, "fca_disp.final_response", "2025-11-20T00:00:00+00:00")
    assert final.due_at == "2026-01-05T23:59:59+00:00"  # 8 weeks = 56 days after 10 Nov
    assert final.state == "met"
    # Received after hours on Friday 7 Nov: DISP 1.5.1R counts business days
    # "following the day on which it is received" (Friday): Mon 10, Tue 11, Wed 12.
    late = make_case("2025-11-07T18:30:00+00:00", regimes=["fca_disp"])
    assert (
        clock(late, "fca_disp.summary_resolution", "2025-11-08T00:00:00+00:00").due_at
        == "2025-11-12T17:00:00+00:00"
    )


def test_china_banking_extended_to_30_days_with_5_days_of_appraisal_excluded():
    # Filed Mon 3 Nov 2025 10:00. 15 days: end of 18 Nov. Extended: end of 3 Dec.
    # Appraisal 10 Nov 00:00 -> 15 Nov 00:00 (5 days) not counted: end of 8 Dec (a Monday).
    filed = "2025-11-03T10:00:00+08:00"
    base = make_case(filed, regimes=["cn_banking"])
    assert (
        clock(base, "cn_banking.decision", "2025-11-04T00:00:00+08:00").due_at == "2025-11-18T23:59:59+08:00"
    )
    extended = make_case(
        filed,
        (
            "2025-11-05T09:00:00+08:00",
            "sla_extend",
            {},
            {"clock": "cn_banking.decision", "target": "30d"},
        ),
        (
            "2025-11-16T09:00:00+08:00",
            "sla_exclude",
            {},
            {"from": "2025-11-10T00:00:00+08:00", "to": "2025-11-15T00:00:00+08:00"},
        ),
        regimes=["cn_banking"],
    )
    decision = clock(extended, "cn_banking.decision", "2025-11-20T09:00:00+08:00")
    assert decision.target == "30d"
    assert decision.due_at == "2025-12-08T23:59:59+08:00"
    assert decision.paused_seconds == 5 * 86400
    assert decision.state == "ok"
    # During the appraisal the clock is paused.
    assert clock(extended, "cn_banking.decision", "2025-11-12T09:00:00+08:00").state == "paused"


def test_china_deadline_on_national_day_moves_to_the_next_working_day():
    # Filed 20 Sep 2025: 15 days -> 5 Oct, a holiday; 6, 7, 8 Oct too -> end of Thu 9 Oct.
    case = make_case("2025-09-20T11:00:00+08:00", regimes=["cn_banking"])
    assert (
        clock(case, "cn_banking.decision", "2025-09-21T00:00:00+08:00").due_at == "2025-10-09T23:59:59+08:00"
    )


@pytest.mark.parametrize(
    ("now", "state", "left"),
    [
        ("2025-11-03T09:00:00+00:00", "ok", 8 * 3600),  # Monday, filed at 09:00
        ("2025-11-03T15:00:00+00:00", "ok", 2 * 3600),  # 6 h of 8 used: 75 %
        ("2025-11-03T15:30:00+00:00", "warning", 1.5 * 3600),  # 81 %
        ("2025-11-03T17:00:00+00:00", "breached", 0),  # due exactly now
        ("2025-11-04T10:00:00+00:00", "breached", -3600),  # one working hour late
    ],
)
def test_same_case_at_several_now_values(now, state, left):
    case = make_case("2025-11-03T09:00:00+00:00")
    first = clock(case, "first_response", now)
    assert first.due_at == "2025-11-03T17:00:00+00:00"
    assert (first.state, first.business_seconds_left) == (state, left)


def test_first_response_stops_at_the_first_contact():
    case = make_case(
        "2025-11-03T09:00:00+00:00",
        ("2025-11-03T18:00:00+00:00", "note", {"first_response_at": "2025-11-03T18:00:00+00:00"}),
    )
    first = clock(case, "first_response", "2025-11-05T00:00:00+00:00")
    assert (first.state, first.stopped_at) == ("missed", "2025-11-03T18:00:00+00:00")
    assert first.wall_seconds_left == -3600


def test_ladder_fires_each_rung_once_and_only_the_highest_when_late():
    case = make_case("2025-11-03T09:00:00+00:00")
    now = parse_time("2025-11-03T15:30:00+00:00")
    [first, _resolution] = evaluate(case, RULES, now)
    due = due_step(case, first, RULES, now, fired_steps(case))
    assert due.step.name == "warn" and due.notify == ("alice",)
    warned = case.with_event(step_event(case, due, "bot", now))
    assert due_step(warned, evaluate(warned, RULES, now)[0], RULES, now, fired_steps(warned)) is None
    # Next day 10:00: breached for 17 wall hours: breach and manager both due; manager fires.
    later = parse_time("2025-11-04T10:00:00+00:00")
    due = due_step(warned, evaluate(warned, RULES, later)[0], RULES, later, fired_steps(warned))
    assert due.step.name == "manager"
    event = step_event(warned, due, "bot", later)
    assert event.action == "sla_escalate" and event.changes["escalation_level"] == (None, 2)
    assert event.details["clock"] == "first_response" and event.details["step"] == "manager"


offsets = st.integers(min_value=0, max_value=14 * 24 * 60)  # minutes after filing
lengths = st.integers(min_value=1, max_value=5 * 24 * 60)


@settings(max_examples=150, deadline=None)
@given(offsets, lengths)
def test_pausing_never_shortens_a_deadline(start_minutes, length_minutes):
    filed = parse_time("2025-11-03T09:00:00+00:00")
    wait_at = filed + timedelta(minutes=start_minutes)
    resume_at = wait_at + timedelta(minutes=length_minutes)
    plain = make_case("2025-11-03T09:00:00+00:00", regimes=["cn_banking"])
    paused = make_case(
        "2025-11-03T09:00:00+00:00",
        (wait_at.isoformat(), "assign", {"status": "assigned"}),
        (wait_at.isoformat(), "wait", {"status": "waiting"}),
        (resume_at.isoformat(), "resume", {"status": "in_progress"}),
        (
            resume_at.isoformat(),
            "sla_exclude",
            {},
            {"from": wait_at.isoformat(), "to": resume_at.isoformat()},
        ),
        regimes=["cn_banking"],
    )
    now = resume_at + timedelta(hours=1)
    for before, after in zip(case_clocks(plain, RULES, now), case_clocks(paused, RULES, now), strict=True):
        assert parse_time(after.due_at) >= parse_time(before.due_at), before.clock
