"""`audit verify` stays linear in the events of one case.

Not a timed test: it counts how often the checks read an event, which grows with
the square of the case's length when a check rescans the timeline per event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from cmtool.audit.commits import FileChange, FileVersion, check_file_change
from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.rules.access import AccessPolicy
from cmtool.store.gitread import LogCommit
from cmtool.store.yamlio import load, render

CASE_ID = "C-251122-AB12CD3"
START = datetime.fromisoformat("2025-11-22T09:00:00+08:00")


class CountingEvent(dict):
    """An event mapping that counts every read of one of its keys."""

    reads = 0

    def get(self, key: Any, default: Any = None) -> Any:
        CountingEvent.reads += 1
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        CountingEvent.reads += 1
        return super().__getitem__(key)


def case_data(events: int) -> dict[str, Any]:
    """A real case file (rendered and parsed back) with ``events`` notes after filing;
    each note also changes the redress, which the role checks follow."""
    filed = Event(
        START.isoformat(), "alice", "file", MappingProxyType({"title": (None, "t"), "status": (None, "new")})
    )
    case = Case(CASE_ID, MappingProxyType({}), ()).with_event(filed)
    for number in range(events):
        moment = (START + timedelta(seconds=number + 1)).isoformat()
        change = MappingProxyType({"redress": (number or None, number + 1)})
        case = case.with_event(Event(moment, "alice", "edit", change, f"note {number}"))
    data = load(render(case.to_dict(), None), "case.yaml")
    data["events"] = [CountingEvent(item) for item in data["events"]]
    return data


def reads_to_check(events: int) -> int:
    """Event reads made by the checks of one commit that appends ``events`` events."""
    data = case_data(events)
    end = (START + timedelta(seconds=events + 10)).isoformat()
    commit = LogCommit("0" * 40, ("1" * 40,), "2" * 40, "alice", "a@x", end, "alice", "a@x", end, "edit")
    change = FileChange(f"cases/2025/11/{CASE_ID}.yaml", "M", None, FileVersion(data))
    CountingEvent.reads = 0
    found, appended = check_file_change(commit, change, AccessPolicy())
    assert len(appended) == events + 1
    return CountingEvent.reads


def test_checking_appended_events_is_linear_in_the_timeline():
    small, large = reads_to_check(500), reads_to_check(4000)
    # 8x the events: linear work reads about 8x as often; a rescan per event, 64x.
    assert large < 12 * small, (small, large)
