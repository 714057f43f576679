"""The pure merge of two versions of one case: union, order, policies, contests.

The property tests build real case timelines by playing lifecycle actions on a
shared base and two diverging sides (with timestamps that interleave in every
way, ties included) and merge them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.model.merge import CONTEST_ACTION, MERGE_ACTOR, RECONCILE_ACTION, merge_case_data
from cmtool.model.replay import state_differences
from cmtool.model.schema import check_case_data
from cmtool.model.timefmt import format_time, parse_time
from cmtool.model.transitions import TRANSITIONS, next_status
from cmtool.reports.facts import case_facts
from cmtool.store.yamlio import load
from cmtool.store.yamlstyle import dump

CASE_ID = "C-251121-AB12345"
START = datetime.fromisoformat("2025-11-21T09:00:00+08:00")
ACTORS = ("ana", "bo", "cron")
T = "2025-11-21T"


def _updates(action: str, case: Case, at: str, n: int) -> dict:
    """What the lifecycle service writes for ``action`` (cmtool.services.lifecycle)."""
    if action == "assign":
        return {"assignee": f"agent{n % 3}"}
    if action == "note":
        first = case.is_open and not case.get("first_response_at")
        return {"first_response_at": at} if first else {}
    if action == "edit":
        return {"priority": ("low", "normal", "high", "critical")[n % 4]}
    if action == "wait":
        return {"waiting_reason": f"photos {n}"}
    if action == "resume":
        return {"waiting_reason": None}
    if action == "escalate":
        return {"assignee": f"lead{n % 2}", "escalation_level": case.get("escalation_level", 0) + 1}
    if action == "resolve":
        return {"resolution": f"refund {n}", "resolved_at": at, "waiting_reason": None}
    if action == "close":
        return {"closed_at": at}
    if action == "reopen":
        return {"resolved_at": None, "closed_at": None}
    return {}


ACTIONS = (
    "assign",
    "note",
    "edit",
    "wait",
    "resume",
    "escalate",
    "resolve",
    "close",
    "reopen",
    "internal_note",
)


def play(case: Case, steps, start: datetime, side: str) -> Case:
    """Apply (action choice, minutes later, actor) steps; each event's note is a unique tag."""
    moment = start
    for index, (choice, minutes, actor) in enumerate(steps):
        moment += timedelta(minutes=minutes)
        allowed = [a for a in ACTIONS if case.status in TRANSITIONS[a]]
        action = allowed[choice % len(allowed)]
        at = format_time(moment)
        updates = _updates(action, case, at, choice + index)
        changes = {k: (case.state.get(k), v) for k, v in updates.items() if case.state.get(k) != v}
        status = next_status(action, case.status)
        if status != case.status:
            changes["status"] = (case.status.value, status.value)
        case = case.with_event(Event(at, actor, action, MappingProxyType(changes), note=f"{side}{index}"))
    return case


def filed() -> Case:
    at = format_time(START)
    state = {"title": "Kettle leaks", "status": "new", "priority": "normal", "filed_at": at}
    event = Event(at, "ana", "file", MappingProxyType({k: (None, v) for k, v in state.items()}), note="filed")
    return Case(CASE_ID, MappingProxyType({}), ()).with_event(event)


def as_file(case: Case) -> dict:
    """What a case file holds, through the canonical YAML and back."""
    return load(dump(case.to_dict()), "case.yaml")


steps = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 30), st.sampled_from(ACTORS)), max_size=8)


@settings(max_examples=300, deadline=None)
@given(base=steps, left=steps, right=steps)
def test_merge_is_a_deterministic_symmetric_union(base, left, right):
    common = play(filed(), base, START, "base")
    fork = parse_time(common.updated_at)
    ours, theirs = as_file(play(common, left, fork, "L")), as_file(play(common, right, fork, "R"))

    merged = merge_case_data(ours, theirs)
    data = merged.case.to_dict()
    assert merge_case_data(ours, theirs).case.to_dict() == data  # deterministic
    assert merge_case_data(theirs, ours).case.to_dict() == data  # side does not matter

    tags = [e.note for e in merged.case.events if e.actor != MERGE_ACTOR]
    expected = {e["note"] for e in ours["events"]} | {e["note"] for e in theirs["events"]}
    assert sorted(tags) == sorted(expected)  # every event of both sides, exactly once
    written_events = load(dump(data), "merged.yaml")["events"]
    for side in (ours, theirs):  # ...byte for byte as committed, in the side's order
        assert _is_subsequence(side["events"], written_events)
    assert {e.action for e in merged.case.events if e.actor == MERGE_ACTOR} <= {
        CONTEST_ACTION,
        RECONCILE_ACTION,
    }
    times = [parse_time(e.at) for e in merged.case.events]
    assert times == sorted(times)

    written = load(dump(data), "merged.yaml")
    assert check_case_data(written, "merged.yaml") == []  # `cmtool validate` is clean
    assert state_differences(merged.case.state, merged.case.events) == []
    # Merging again with either side changes nothing (a later sync is a no-op).
    assert merge_case_data(written, ours).case.to_dict() == data
    assert merge_case_data(theirs, written).case.to_dict() == data


@settings(max_examples=200, deadline=None)
@given(left=steps, right=steps)
def test_a_field_both_sides_changed_differently_is_recorded(left, right):
    common = filed()
    fork = parse_time(common.updated_at)
    ours = _edit(play(common, left, fork, "L"), "critical", "L-last")
    theirs = _edit(play(common, right, fork, "R"), "low", "R-last")
    merged = merge_case_data(as_file(ours), as_file(theirs))
    contests = [c for c in merged.contests if c.field == "priority"]
    assert len(contests) == 1
    kept_by_later = (
        ours.updated_at if parse_time(ours.updated_at) > parse_time(theirs.updated_at) else theirs.updated_at
    )
    assert contests[0].kept_at == kept_by_later or ours.updated_at == theirs.updated_at
    assert {contests[0].kept, contests[0].overridden} == {"critical", "low"}
    assert merged.case.state["priority"] == contests[0].kept
    record = merged.case.events[-1]
    assert record.action == CONTEST_ACTION and record.actor == MERGE_ACTOR
    assert "priority" in record.note and "critical" in record.note and "low" in record.note


def _edit(case: Case, priority: str, tag: str) -> Case:
    at = format_time(parse_time(case.updated_at) + timedelta(minutes=1))
    changes = {"priority": (case.state.get("priority"), priority)}
    return case.with_event(Event(at, "bo", "edit", MappingProxyType(changes), note=tag))


def test_the_issue_example_assign_and_note_with_a_priority_contest():
    common = filed()
    one = _at(common, "10:00", "bo", "assign", {"assignee": (None, "bo"), "status": ("new", "assigned")})
    one = _at(one, "10:20", "bo", "edit", {"priority": ("normal", "high")})
    two = _at(common, "10:05", "ana", "note", {"first_response_at": (None, T + "10:05:00+08:00")}, "called")
    two = _at(two, "10:10", "ana", "edit", {"priority": ("normal", "critical")})
    merged = merge_case_data(as_file(one), as_file(two))
    events = merged.case.events
    assert [e.action for e in events] == ["file", "assign", "note", "edit", "edit", CONTEST_ACTION]
    assert events[4].changes["priority"] == ("normal", "high")  # as committed: old is what bo saw
    assert merged.case.state["priority"] == "high"  # the later change wins
    assert events[-1].details["contested"] == [
        {
            "field": "priority",
            "kept": "high",
            "kept_by": "bo",
            "kept_at": "2025-11-21T10:20:00+08:00",
            "overridden": "critical",
            "overridden_by": "ana",
            "overridden_at": "2025-11-21T10:10:00+08:00",
        }
    ]
    assert check_case_data(load(dump(merged.case.to_dict()), "m.yaml")) == []


def test_an_action_the_merged_status_no_longer_allows_keeps_the_status():
    assigned = _at(
        filed(), "10:00", "bo", "assign", {"assignee": (None, "bo"), "status": ("new", "assigned")}
    )
    resolved = _at(
        assigned,
        "10:10",
        "bo",
        "resolve",
        {"resolution": (None, "refund"), "status": ("assigned", "resolved")},
    )
    waiting = _at(
        assigned,
        "10:20",
        "ana",
        "wait",
        {"waiting_reason": (None, "photos"), "status": ("assigned", "waiting")},
    )
    merged = merge_case_data(as_file(resolved), as_file(waiting))
    actions = [e.action for e in merged.case.events]
    assert actions == ["file", "assign", "resolve", "wait", RECONCILE_ACTION, CONTEST_ACTION]
    wait, reconcile = merged.case.events[3], merged.case.events[4]
    assert wait.changes["status"] == ("assigned", "waiting")  # unchanged, as committed
    assert reconcile.actor == MERGE_ACTOR and reconcile.changes["status"] == ("waiting", "resolved")
    assert merged.case.state["status"] == "resolved"
    assert [c.field for c in merged.contests] == ["status"]
    assert check_case_data(load(dump(merged.case.to_dict()), "m.yaml")) == []


def test_escalations_on_both_sides_add_up_and_the_first_response_stays_first():
    common = filed()
    one = _at(common, "10:00", "bo", "escalate", {"escalation_level": (None, 1)})
    one = _at(one, "10:30", "bo", "note", {"first_response_at": (None, T + "10:30:00+08:00")})
    two = _at(common, "10:10", "ana", "escalate", {"escalation_level": (None, 1)})
    two = _at(two, "10:15", "ana", "note", {"first_response_at": (None, T + "10:15:00+08:00")})
    merged = merge_case_data(as_file(one), as_file(two))
    assert merged.case.state["escalation_level"] == 2
    assert merged.case.state["first_response_at"] == "2025-11-21T10:15:00+08:00"
    assert merged.contests == ()
    assert check_case_data(load(dump(merged.case.to_dict()), "m.yaml")) == []


def test_identical_events_made_on_both_sides_count_once_but_repeats_on_one_side_stay():
    common = filed()
    twice = _at(
        _at(common, "10:00", "bo", "internal_note", {}, "same"), "10:00", "bo", "internal_note", {}, "same"
    )
    once = _at(common, "10:00", "bo", "internal_note", {}, "same")
    merged = merge_case_data(as_file(twice), as_file(once))
    assert [e.note for e in merged.case.events] == ["filed", "same", "same"]


def test_a_side_that_is_ahead_merges_to_itself_byte_for_byte():
    common = filed()
    ahead = _at(common, "10:00", "bo", "edit", {"priority": ("normal", "high")})
    merged = merge_case_data(as_file(ahead), as_file(common))
    assert dump(merged.case.to_dict()) == dump(ahead.to_dict())


def test_both_sides_closing_is_agreement_and_the_first_closure_stands():
    resolved = _at(
        _at(filed(), "10:00", "bo", "assign", {"assignee": (None, "bo"), "status": ("new", "assigned")}),
        "10:10",
        "bo",
        "resolve",
        {
            "resolution": (None, "refund"),
            "resolved_at": (None, T + "10:10:00+08:00"),
            "status": ("assigned", "resolved"),
        },
    )
    one = _at(
        resolved,
        "11:00",
        "bo",
        "close",
        {"closed_at": (None, T + "11:00:00+08:00"), "status": ("resolved", "closed")},
    )
    two = _at(
        resolved,
        "12:00",
        "ana",
        "close",
        {"closed_at": (None, T + "12:00:00+08:00"), "status": ("resolved", "closed")},
    )
    merged = merge_case_data(as_file(one), as_file(two))
    assert merged.contests == ()
    assert CONTEST_ACTION not in [e.action for e in merged.case.events]
    assert merged.case.state["status"] == "closed"
    assert merged.case.state["closed_at"] == T + "11:00:00+08:00"  # the earliest closure
    assert case_facts(merged.case).closures == (parse_time(T + "10:10:00+08:00"),)  # counted once
    assert check_case_data(load(dump(merged.case.to_dict()), "m.yaml")) == []


def test_both_sides_setting_the_same_priority_adds_nothing():
    one = _at(filed(), "10:00", "bo", "edit", {"priority": ("normal", "high")})
    two = _at(filed(), "10:30", "ana", "edit", {"priority": ("normal", "high")})
    merged = merge_case_data(as_file(one), as_file(two))
    assert [e.action for e in merged.case.events] == ["file", "edit", "edit"]
    assert merged.case.state["priority"] == "high"


def _is_subsequence(part: list, whole: list) -> bool:
    position = 0
    for item in part:
        while position < len(whole) and whole[position] != item:
            position += 1
        if position == len(whole):
            return False
        position += 1
    return True


def _at(case: Case, clock: str, actor: str, action: str, changes: dict, note: str | None = None) -> Case:
    at = f"2025-11-21T{clock}:00+08:00"
    return case.with_event(Event(at, actor, action, MappingProxyType(changes), note))
