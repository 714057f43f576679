"""The reconciliation of a window, counted the one way every report uses:

    open at start + received + reopened - closed = open at end

(definitions in ``kpis``). One pass over the facts counts any number of windows (a
dashboard's weeks, a trend's months) and any number of groups (the volumes per
category, channel, ...): a report at 100,000 cases does not walk its facts once
per week, period and group.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import datetime
from itertools import accumulate
from typing import Any

from cmtool.reports.facts import OPEN, CaseFacts

FLOW_NAMES = ("open_at_start", "received", "reopened_in_period", "closed", "open_at_end")
Window = tuple[datetime, datetime]
_RECEIVED, _REOPENED, _CLOSED, _OPENED = range(4)


def movements(facts: Iterable[CaseFacts], start: datetime, end: datetime) -> dict[str, Any]:
    """The five figures of ``[start, end)`` and whether they reconcile."""
    return movements_of(facts, [(start, end)])[0]


def movements_of(facts: Iterable[CaseFacts], windows: Sequence[Window]) -> list[dict[str, Any]]:
    """:func:`movements` of each ``(start, end)`` window, from one pass over ``facts``."""
    return movements_by(facts, windows, _everyone).get(None) or _rows(windows, _bounds(windows), None)


def movements_by(
    facts: Iterable[CaseFacts],
    windows: Sequence[Window],
    groups: Callable[[CaseFacts], Iterable[Hashable]],
) -> dict[Hashable, list[dict[str, Any]]]:
    """:func:`movements_of` per group, from one pass over ``facts``: ``groups(fact)``
    names the groups a case counts in (each once). A group no case names is absent.

    The windows' bounds (an end before its start is the start) cut time into
    slices. Each fact adds its filing, closures and reopens to the slice they fall
    in, and each stretch of its status timeline spent in an open status to the
    bounds it covers (``open_before`` of a bound: the status of the last change
    strictly before it). A window's flows are the sums over its slices; its open
    at start and end are read at its two bounds."""
    bounds = _bounds(windows)
    if not bounds:
        return {}
    first, last, size = bounds[0], bounds[-1], len(bounds) + 1
    tallies: dict[Hashable, list[list[int]]] = {}
    for fact in facts:
        counts = [
            tallies.get(key) or tallies.setdefault(key, [[0] * size for _ in range(4)])
            for key in groups(fact)
        ]
        times, values = fact.status_times, fact.status_values
        # Filed after every window, or quiet since before them (most of a long
        # history): nothing to place, but open at every bound if it stayed open.
        if fact.filed >= last or (times and times[-1] < first):
            if fact.filed < last and values[-1] in OPEN:
                for tally in counts:
                    tally[_OPENED][0] += 1
            continue
        # Index i of a slice count is [bounds[i - 1], bounds[i]) (0: before the
        # first bound; len(bounds): from the last one on). Opened counts are
        # differences: open at bound j = opened[0] + ... + opened[j].
        moves = [(_RECEIVED, bisect_right(bounds, fact.filed), 1)]
        moves += [(_REOPENED, bisect_right(bounds, moment), 1) for moment in fact.reopens]
        moves += [(_CLOSED, bisect_right(bounds, moment), 1) for moment in fact.closures]
        for index, value in enumerate(values):
            if value in OPEN:  # open from times[index] until the next change (or ever after)
                until = bisect_right(bounds, times[index + 1]) if index + 1 < len(times) else len(bounds)
                moves += [(_OPENED, bisect_right(bounds, times[index]), 1), (_OPENED, until, -1)]
        for tally in counts:
            for kind, index, step in moves:
                tally[kind][index] += step
    return {key: _rows(windows, bounds, tally) for key, tally in tallies.items()}


def _everyone(_fact: CaseFacts) -> tuple[None]:
    return (None,)


def _bounds(windows: Sequence[Window]) -> list[datetime]:
    return sorted({moment for start, end in windows for moment in (start, max(start, end))})


def _rows(
    windows: Sequence[Window], bounds: list[datetime], tally: list[list[int]] | None
) -> list[dict[str, Any]]:
    """The figures of each window from a group's slice counts (None: no cases)."""
    received, reopened, closed, open_at = (
        list(accumulate(counts)) for counts in (tally or [[0] * (len(bounds) + 1)] * 4)
    )
    rows = []
    for start, end in windows:
        a, b = bisect_left(bounds, start), bisect_left(bounds, max(start, end))
        row = {
            "open_at_start": open_at[a],
            "received": received[b] - received[a],
            "reopened_in_period": reopened[b] - reopened[a],
            "closed": closed[b] - closed[a],
            "open_at_end": open_at[b],
        }
        row["reconciles"] = (
            row["open_at_start"] + row["received"] + row["reopened_in_period"] - row["closed"]
            == row["open_at_end"]
        )
        rows.append(row)
    return rows
