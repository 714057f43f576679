"""Replay: the state of a case is what its events say, applied in order."""

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


def chain_breaks(events: Iterable[Event]) -> list[tuple[int, str, Any, Any]]:
    """Events whose recorded *old* value is not what the timeline had before.

    Returns ``(event index, field, recorded old, actual old)`` for each break;
    a break means an event was removed, reordered or edited by hand.
    """
    state: dict[str, Any] = {}
    breaks = []
    for index, event in enumerate(events):
        for name, (old, new) in event.changes.items():
            if not _same(state.get(name), old):
                breaks.append((index, name, old, state.get(name)))
            state[name] = new
    return breaks


def state_differences(state: Mapping[str, Any], events: Iterable[Event]) -> list[str]:
    """Fields where the stored state is not the replay of the events."""
    replayed = replay(events)
    names = set(replayed) | {name for name, value in state.items() if value is not None}
    return sorted(name for name in names if not _same(state.get(name), replayed.get(name)))


def _same(left: Any, right: Any) -> bool:
    if left in (None, [], {}) and right in (None, [], {}):
        return True
    return left == right
