"""A record becomes a case whose events tell its history.

A new case is filed (``file`` event at the received date) and then walked to
the sheet's status through the ordinary transitions, each at the date the sheet
gives for it: a closed complaint is filed, resolved at its resolution date and
closed at its closing date, so SLA history and KPIs are right and ``validate``
finds every transition valid. ``--update`` walks an existing case the same way
and records other changed fields in one ``edit`` event.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from cmtool.importing.rows import Record
from cmtool.model.case import Case
from cmtool.model.enums import Status
from cmtool.model.events import UNDATED_NOTE, Event
from cmtool.model.fields import FIELD_NAMES
from cmtool.model.timefmt import format_time, parse_time
from cmtool.model.transitions import TRANSITIONS

WALK_ACTIONS = ("assign", "note", "wait", "resume", "resolve", "close", "reopen")
# Fields an action of the walk sets; without that action they are set at filing.
OWNED_BY = {
    "assignee": "assign",
    "first_response_at": "note",
    "resolution": "resolve",
    "remedy": "resolve",
    "redress": "resolve",
    "upheld": "resolve",
}
EVENT_SET = ("status", "resolved_at", "closed_at", "waiting_reason")  # only ever by events
DATE_OF = {"note": "first_response_at", "resolve": "resolved_at", "close": "closed_at"}


@lru_cache(maxsize=64)
def status_walk(current: Status, target: Status) -> tuple[str, ...] | None:
    """The shortest chain of actions from ``current`` to ``target`` (None: no way)."""
    queue: deque[tuple[Status, list[str]]] = deque([(current, [])])
    seen = {current}
    while queue:
        status, path = queue.popleft()
        if status == target:
            return tuple(path)
        for action in WALK_ACTIONS:
            allowed = TRANSITIONS[action]
            if status in allowed and (nxt := allowed[status] or status) not in seen:
                seen.add(nxt)
                queue.append((nxt, [*path, action]))
    return None


def new_case(
    record: Record,
    case_id: str,
    actor: str,
    source: Mapping[str, Any],
    after_filing: Callable[[Case, Record], Case] | None = None,
) -> Case:
    """A case filed at the received date, then (``after_filing``) the rules'
    decisions, then the walk to the sheet's status."""
    state = record.state
    target = Status(state["status"])
    walk = status_walk(Status.NEW, target) or ()
    filing: dict[str, Any] = {}
    for name in FIELD_NAMES:
        value = state.get(name)
        if value is None or name in EVENT_SET or OWNED_BY.get(name) in walk:
            continue
        if name == "assignee" and after_filing is not None:
            continue  # the rules' routing step assigns the owner, with the team
        filing[name] = value
    filing["status"] = Status.NEW.value
    filing.setdefault("priority", "normal")
    filing.setdefault("channel", "other")
    filing["source"] = dict(source)
    if record.extra:
        filing["extra"] = dict(record.extra)
    filing = {name: filing[name] for name in FIELD_NAMES if name in filing}
    note = f"imported from {source.get('file')} row {record.row}"
    if record.incomplete:
        note += f"; {record.incomplete}"
    event = Event(
        state["filed_at"], actor, "file", MappingProxyType({k: (None, v) for k, v in filing.items()}), note
    )
    case = Case(case_id, MappingProxyType({}), ()).with_event(event)
    if after_filing is not None:
        case = after_filing(case, record)
        walk = status_walk(case.status, target) or ()
    return walk_to(case, record, walk, actor, fallback=None)


def walk_to(case: Case, record: Record, walk: Sequence[str], actor: str, fallback: datetime | None) -> Case:
    """Append one event per action of ``walk``, dated by the sheet where it can be.

    ``fallback`` is the time for an action the sheet gives no usable date for
    (an update's ``--now``); for a new case it is the previous event's time.
    """
    wanted = record.state
    for action in walk:
        dated = wanted.get(DATE_OF.get(action, ""))
        if action == "resolve" and not dated:
            dated = wanted.get("closed_at")  # resolved no later than closed
        at = _when(case, dated, fallback)
        changes: dict[str, tuple[Any, Any]] = {}

        def put(name: str, value: Any, changes: dict = changes, case: Case = case) -> None:
            if case.state.get(name) != value:
                changes[name] = (case.state.get(name), value)

        for name, owner in OWNED_BY.items():
            if owner == action and wanted.get(name) is not None:
                put(name, wanted[name])
        note = None
        if action == "note":
            note = f"status in the source: {record.raw_status or wanted['status']}"
        elif action == "wait":
            put("waiting_reason", wanted.get("waiting_reason") or record.raw_status or "waiting (imported)")
        elif action == "resume":
            put("waiting_reason", None)
        elif action == "resolve":
            put("waiting_reason", None)
            if not wanted.get("resolution") and not case.state.get("resolution"):
                put("resolution", record.raw_status or f"{wanted['status']} (imported)")
            put("resolved_at", at)
            if not dated:
                note = f"{UNDATED_NOTE}; dated at " + (
                    "the previous event" if fallback is None else "the import"
                )
        elif action == "close":
            put("closed_at", at)
        elif action == "reopen":
            put("resolved_at", None)
            put("closed_at", None)
        target = TRANSITIONS[action][case.status] or case.status
        if target != case.status:
            changes["status"] = (case.status.value, target.value)
        case = case.with_event(Event(at, actor, action, MappingProxyType(changes), note))
    return case


def _when(case: Case, wanted: str | None, fallback: datetime | None) -> str:
    last = parse_time(case.updated_at)
    if wanted and parse_time(wanted) >= last:
        return wanted
    return format_time(fallback) if fallback is not None else case.updated_at


def updated_case(
    case: Case, record: Record, actor: str, now: datetime, source: Mapping[str, Any]
) -> Case | None:
    """``case`` with the record's changes as events, or None when nothing changed.

    Raises ValueError when the sheet's status cannot be reached from the case's.
    """
    target = Status(record.state["status"])
    walk = status_walk(case.status, target)
    if walk is None:
        raise ValueError(f"{case.id} is {case.status.value}; it cannot become {target.value}")
    updated = walk_to(case, record, walk, actor, fallback=now)
    changes: dict[str, tuple[Any, Any]] = {}
    for name in FIELD_NAMES:
        value = record.state.get(name)
        if value is None or name in EVENT_SET or name in ("source", "extra"):
            continue
        if OWNED_BY.get(name) in walk:
            continue
        if updated.state.get(name) != value:
            changes[name] = (updated.state.get(name), value)
    extra = dict(updated.state.get("extra") or {})
    extra.update(record.extra)
    if extra != (updated.state.get("extra") or {}):
        changes["extra"] = (updated.state.get("extra"), extra)
    if not changes and updated is case:
        return None
    if changes:
        changes["source"] = (updated.state.get("source"), dict(source))
        note = f"updated from {source.get('file')} row {record.row}"
        at = max(now, parse_time(updated.updated_at))
        updated = updated.with_event(Event(format_time(at), actor, "edit", MappingProxyType(changes), note))
    return updated
