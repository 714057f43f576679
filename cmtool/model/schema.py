"""Schema checks of a parsed case file. Returns problems; never raises."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cmtool.model.enums import Status
from cmtool.model.events import Event
from cmtool.model.fields import FIELDS, FIELDS_BY_NAME
from cmtool.model.ids import is_valid_id
from cmtool.model.problems import Problem
from cmtool.model.replay import state_differences
from cmtool.model.text import control_error
from cmtool.model.timefmt import parse_time
from cmtool.model.transitions import TRANSITIONS

KNOWN_TOP = {"id", "events", *FIELDS_BY_NAME}
# Amounts and counts beyond this are typing errors or attacks (1e308 overflows sums).
MAX_NUMBER = 10**12


def check_case_data(data: Any, path: str = "", lines: Mapping[str, int] | None = None) -> list[Problem]:
    """Every problem in one parsed case file; ``lines`` maps key paths to line numbers."""
    lines = lines or {}
    case_id = data.get("id") if isinstance(data, Mapping) else None
    case_id = case_id if isinstance(case_id, str) else None

    def problem(code: str, message: str, key: str = "") -> Problem:
        return Problem(code, message, path, lines.get(key, lines.get("", 1)), case_id)

    if not isinstance(data, Mapping):
        return [problem("CASE_NOT_MAPPING", "a case file must be a mapping of fields")]
    found: list[Problem] = []
    if not case_id or not is_valid_id(case_id):
        found.append(problem("CASE_BAD_ID", f"id {data.get('id')!r} is not a case ID", "id"))
    for key in data:
        if key not in KNOWN_TOP:
            found.append(problem("CASE_UNKNOWN_FIELD", f"unknown field {key!r}", str(key)))
    for spec in FIELDS:
        value = data.get(spec.name)
        if value is not None:
            message = _type_error(spec.kind, spec.choices, value)
            if message:
                found.append(problem("CASE_BAD_VALUE", f"{spec.name}: {message}", spec.name))
    if data.get("title") in (None, "") or data.get("status") is None:
        found.append(problem("CASE_MISSING_FIELD", "title and status are required"))

    raw_events = data.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        found.append(problem("CASE_NO_EVENTS", "events: must be a non-empty list", "events"))
        return found
    events: list[Event] = []
    for index, item in enumerate(raw_events):
        key = f"events[{index}]"
        message = _event_error(item)
        if message:
            inner = f"{key}.{message.split(':', 1)[0]}"  # "at: ..." points at the at: line
            found.append(
                problem("CASE_BAD_EVENT", f"event {index + 1}: {message}", inner if inner in lines else key)
            )
        else:
            events.append(Event.from_dict(item))
    if len(events) != len(raw_events):
        return found

    previous = None
    for index, event in enumerate(events):
        moment = parse_time(event.at)
        if previous is not None and moment < previous:
            found.append(
                problem(
                    "CASE_EVENT_ORDER",
                    f"event {index + 1} ({event.at}) is dated before the event above it",
                    f"events[{index}]",
                )
            )
        previous = moment
        status_change = event.changes.get("status")
        if status_change and event.action in TRANSITIONS:
            old, new = status_change
            allowed = TRANSITIONS[event.action]
            try:
                source = Status(old) if old is not None else None
            except ValueError:
                source = None
            if source is not None and (source not in allowed or (allowed[source] or source).value != new):
                found.append(
                    problem(
                        "CASE_BAD_TRANSITION",
                        f"event {index + 1}: {event.action} cannot take a case from {old} to {new}",
                        f"events[{index}]",
                    )
                )
    state = {k: v for k, v in data.items() if k not in ("id", "events")}
    for name in state_differences(state, events):
        found.append(
            problem(
                "CASE_STATE_MISMATCH",
                f"{name} is {data.get(name)!r} but the events say "
                f"{_replayed(events, name)!r} (edited by hand without an event?)",
                name,
            )
        )
    return found


def _replayed(events: list[Event], name: str) -> Any:
    value = None
    for event in events:
        if name in event.changes:
            value = event.changes[name][1]
    return value


def _type_error(kind: str, choices: tuple[str, ...], value: Any) -> str | None:
    if kind == "enum":
        return None if value in choices else f"{value!r} is not one of {', '.join(choices)}"
    if kind in ("str", "text"):
        if not isinstance(value, str):
            return f"expected text, got {value!r}"
        if value and not value.strip():
            return "only whitespace (leave the field out instead)"
        return control_error(value, multiline=kind == "text")
    if kind == "time":
        try:
            parse_time(value)
        except (ValueError, TypeError) as exc:
            return f"bad time {value!r}: {exc}"
        return None
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return _size_error(value) if ok else f"expected a whole number, got {value!r}"
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return _size_error(value) if ok else f"expected a number, got {value!r}"
    if kind == "bool":
        return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if kind == "list":
        return None if isinstance(value, list) else f"expected a list, got {value!r}"
    if kind == "map":
        return None if isinstance(value, Mapping) else f"expected a mapping, got {value!r}"
    return None


def _size_error(value: float) -> str | None:
    if not math.isfinite(value):
        return f"{value} is not a number"
    return f"{value} is out of range (at most {MAX_NUMBER:,} either way)" if abs(value) > MAX_NUMBER else None


def value_error(name: str, value: Any) -> str | None:
    """Why ``value`` cannot be stored in state field ``name`` (None when it can)."""
    spec = FIELDS_BY_NAME.get(name)
    if spec is None or value is None:
        return None
    return _type_error(spec.kind, spec.choices, value)


def new_event_error(event: Event) -> str | None:
    """Why an event about to be written would not validate: ``field: reason``."""
    problem = _event_error(event.to_dict())
    if problem:
        return problem
    for name, (_old, new) in event.changes.items():
        problem = value_error(name, new)
        if problem:
            return f"{name}: {problem}"
    return None


def _event_error(item: Any) -> str | None:
    if not isinstance(item, Mapping):
        return "must be a mapping with at, actor and action"
    for key in ("at", "actor", "action"):
        if not isinstance(item.get(key), str) or not item.get(key):
            return f"{key}: is missing or not text"
        if control_error(item[key]):
            return f"{key}: {control_error(item[key])}"
    note = item.get("note")
    if isinstance(note, str) and control_error(note, multiline=True):
        return f"note: {control_error(note, multiline=True)}"
    try:
        parse_time(item["at"])
    except (ValueError, TypeError) as exc:
        return f"at: {exc}"
    changes = item.get("changes")
    if changes is not None:
        if not isinstance(changes, Mapping):
            return "changes: must map field names to [old, new]"
        for name, pair in changes.items():
            if not isinstance(pair, list) or len(pair) != 2:
                return f"changes.{name}: must be a pair [old, new]"
    return None
