"""Replay: the state of a case is what its events say, applied in order.

Only an event's new values count: its recorded old value is what its author saw
on their own clone, which after a merge may not be what the event before it in
the merged timeline left (see ``cmtool.model.merge``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cmtool.model.events import Event


def replay(events: Iterable[Event]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for event in events:
        for name, (_old, new) in event.changes.items():
            state[name] = new
    return {name: value for name, value in state.items() if value is not None}


def state_differences(state: Mapping[str, Any], events: Iterable[Event]) -> list[str]:
    """Fields where the stored state is not the replay of the events."""
    replayed = replay(events)
    names = set(replayed) | {name for name, value in state.items() if value is not None}
    return sorted(name for name in names if not _same(state.get(name), replayed.get(name)))


def _same(left: Any, right: Any) -> bool:
    if left in (None, [], {}) and right in (None, [], {}):
        return True
    return left == right
