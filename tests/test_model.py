"""The model: transitions, replay, IDs, schema checks. Pure, no git."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from types import MappingProxyType

import pytest

from cmtool.errors import InvalidTransition
from cmtool.model.case import Case
from cmtool.model.enums import Status
from cmtool.model.events import Event
from cmtool.model.ids import filing_month, is_valid_id, new_id, normalize_prefix
from cmtool.model.replay import replay, state_differences
from cmtool.model.schema import check_case_data
from cmtool.model.transitions import next_status

TZ = timezone(timedelta(hours=8))


def ev(at: str, action: str, **changes) -> Event:
    return Event(at, "alice", action, MappingProxyType(changes))


def sample_case() -> Case:
    case = Case("C-251121-QA54SPM", MappingProxyType({}), ())
    case = case.with_event(
        ev(
            "2025-11-21T17:30:00+08:00",
            "file",
            title=(None, "Charger"),
            status=(None, "new"),
            priority=(None, "normal"),
        )
    )
    case = case.with_event(
        ev("2025-11-21T17:40:00+08:00", "assign", assignee=(None, "bob"), status=("new", "assigned"))
    )
    return case


@pytest.mark.parametrize(
    ("action", "current", "expected"),
    [
        ("assign", Status.NEW, Status.ASSIGNED),
        ("assign", Status.IN_PROGRESS, Status.IN_PROGRESS),
        ("note", Status.ASSIGNED, Status.IN_PROGRESS),
        ("wait", Status.IN_PROGRESS, Status.WAITING),
        ("resume", Status.WAITING, Status.IN_PROGRESS),
        ("resolve", Status.WAITING, Status.RESOLVED),
        ("close", Status.RESOLVED, Status.CLOSED),
        ("reopen", Status.CLOSED, Status.IN_PROGRESS),
        ("reopen", Status.RESOLVED, Status.IN_PROGRESS),
    ],
)
def test_allowed_transitions(action, current, expected):
    assert next_status(action, current) == expected


@pytest.mark.parametrize(
    ("action", "current", "message"),
    [
        ("close", Status.CLOSED, "already closed"),
        ("close", Status.IN_PROGRESS, "it is in_progress"),
        ("resume", Status.ASSIGNED, "it is assigned"),
        ("reopen", Status.NEW, "it is new"),
        ("resolve", Status.CLOSED, "it is closed"),
    ],
)
def test_refused_transitions_name_the_current_status(action, current, message):
    with pytest.raises(InvalidTransition, match=message):
        next_status(action, current, "C-251121-QA54SPM")


def test_state_is_the_replay_of_events():
    case = sample_case()
    assert replay(case.events) == {
        "title": "Charger",
        "status": "assigned",
        "priority": "normal",
        "assignee": "bob",
    }
    assert dict(case.state) == replay(case.events)
    assert state_differences({**case.state, "status": "closed"}, case.events) == ["status"]


def test_replay_applies_new_values_and_old_values_are_informational():
    # After a merge, an event's recorded old value is what its author saw on their clone.
    case = sample_case().with_event(ev("2025-11-21T18:00:00+08:00", "assign", assignee=("carol", "li.na")))
    assert replay(case.events)["assignee"] == "li.na"
    assert check_case_data(case.to_dict(), "case.yaml") == []


def test_ids_sort_by_filing_time_and_do_not_collide():
    start = datetime(2025, 3, 1, 8, 0, tzinfo=TZ)
    times = [start + timedelta(minutes=7 * i) for i in range(2000)]
    ids = [new_id(t) for t in times]
    assert all(is_valid_id(i) for i in ids)
    assert len(set(ids)) == len(ids)
    # Same order as time, up to the ~84 s slot the second part encodes.
    slots = [i[:11] for i in ids]
    assert slots == sorted(slots)
    assert filing_month(ids[0]) == (2025, 3)
    shuffled = ids[:]
    random.Random(1).shuffle(shuffled)
    assert [i[:11] for i in sorted(shuffled)] == slots


@pytest.mark.parametrize(
    "bad", ["../../etc/passwd", "C-25/../x", "", "a b", "C-251121-QA54SPM.yaml", "~root", "C-" + "9" * 30]
)
def test_malicious_or_malformed_ids_are_refused(bad):
    with pytest.raises(ValueError):
        normalize_prefix(bad)


def test_prefixes_are_normalised():
    assert normalize_prefix("c-251121-qa5") == "C-251121-QA5"
    assert normalize_prefix("251121") == "C-251121"
    assert normalize_prefix("C-251121-Q0L1") == "C-251121-Q011"  # Crockford look-alikes


def test_schema_reports_every_problem_with_lines():
    data = sample_case().to_dict()
    data["status"] = "closed"  # hand edit without an event
    data["priority"] = "urgent"  # not an enum value
    data["colour"] = "red"  # unknown field
    lines = {"status": 3, "priority": 4, "colour": 30}
    problems = check_case_data(data, "cases/2025/11/C-251121-QA54SPM.yaml", lines)
    codes = {(p.code, p.line) for p in problems}
    assert ("CASE_STATE_MISMATCH", 3) in codes
    assert ("CASE_BAD_VALUE", 4) in codes
    assert ("CASE_UNKNOWN_FIELD", 30) in codes
    assert all(p.case_id == "C-251121-QA54SPM" for p in problems)


def test_schema_flags_time_travel_and_bad_transitions():
    case = sample_case()
    data = case.to_dict()
    data["events"][1]["at"] = "2025-11-21T17:00:00+08:00"
    data["events"][1]["changes"]["status"] = ["new", "closed"]
    data["status"] = "closed"
    codes = {p.code for p in check_case_data(data, "x.yaml")}
    assert {"CASE_EVENT_ORDER", "CASE_BAD_TRANSITION"} <= codes


def test_clean_case_has_no_problems():
    assert check_case_data(sample_case().to_dict(), "x.yaml") == []
