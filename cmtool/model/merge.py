"""Merging two versions of one case file: the union of both timelines.

A case's timeline is append-only, so the two sides of a merge share a prefix
and each appended its own events: the timelines carry their own common
ancestor and the merge needs no base. The rules (documented in docs/team.md):

1. **Union.** Every event of either side appears exactly once. Events are
   matched by what they say (time, actor, action, note, new values...), not by
   position; an event present n times on one side appears n times.
2. **Order.** Each side's own order is kept; where the sides are independent,
   the earlier event comes first, ties broken by a hash of the event's content.
   The result does not depend on which side is "ours".
3. **State = replay.** Each event's recorded ``old`` values are re-based onto
   the merged timeline, so the event chain holds and the state is its replay.
   Field policies: the later change wins (plain fields); an event that now
   follows another status than it did on its own side gets its status change
   re-derived from the transition table (an action the merged status does not
   allow leaves the status as it is); ``escalation_level`` adds up both sides'
   increments; ``first_response_at`` and ``filed_at`` keep the first value.
4. **Contests are recorded.** When both sides changed a field to different
   values, a ``merge_contest`` event names the value kept and the value
   overridden (with who and when), so nothing is silently lost.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cmtool.model.case import Case
from cmtool.model.enums import Status
from cmtool.model.events import Event
from cmtool.model.fields import FIELD_NAMES
from cmtool.model.timefmt import to_utc
from cmtool.model.transitions import TRANSITIONS

CONTEST_ACTION = "merge_contest"
MERGE_ACTOR = "cmtool-merge"
COUNTERS = frozenset({"escalation_level"})  # merged by adding increments
FIRST_WINS = frozenset({"first_response_at", "filed_at"})  # set once; the earliest stays
# Fields whose new value the merge may rewrite: left out of an event's identity,
# so an event re-based by one merge still matches its original in the next.
REWRITTEN = frozenset({"status"}) | COUNTERS | FIRST_WINS


class MergeRefused(ValueError):
    """The two versions cannot be merged automatically (a person must look)."""


@dataclass(frozen=True)
class Contest:
    field: str
    kept: Any
    kept_by: str
    kept_at: str
    overridden: Any
    overridden_by: str
    overridden_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "kept": self.kept,
            "kept_by": self.kept_by,
            "kept_at": self.kept_at,
            "overridden": self.overridden,
            "overridden_by": self.overridden_by,
            "overridden_at": self.overridden_at,
        }

    def describe(self) -> str:
        return (
            f"{self.field}: kept {_show(self.kept)} ({self.kept_by}, {self.kept_at}), "
            f"overrode {_show(self.overridden)} ({self.overridden_by}, "
            f"{self.overridden_at})"
        )


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class MergeResult:
    case: Case
    contests: tuple[Contest, ...]


def event_key(event: Event) -> str:
    """What an event says, minus what a merge may re-base: its identity across clones."""
    changes = {name: new for name, (_old, new) in event.changes.items() if name not in REWRITTEN}
    content = [
        event.at,
        event.actor,
        event.action,
        event.note,
        event.rule,
        dict(event.details),
        sorted(changes.items()),
    ]
    return json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)


def merge_case_data(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> MergeResult:
    """Merge two parsed versions of one case file (schema-checked by the caller)."""
    if ours.get("id") != theirs.get("id"):
        raise MergeRefused(f"the two versions are different cases ({ours.get('id')} and {theirs.get('id')})")
    left = Case.from_dict(ours).events
    right = Case.from_dict(theirs).events
    rebased = rebase(union_in_order(left, right))
    contests = find_contests(left, right, rebased)
    if contests:
        rebased.append(contest_event(contests, rebased[-1].at))
    case = Case(str(ours["id"]), MappingProxyType({}), ())
    for event in rebased:
        case = case.with_event(event)
    state = {name: case.state.get(name) for name in FIELD_NAMES}
    return MergeResult(Case(case.id, MappingProxyType(state), case.events), tuple(contests))


def union_in_order(left: Sequence[Event], right: Sequence[Event]) -> list[tuple[Event, Any]]:
    """Every event of both sides once, each side's order kept, earliest first otherwise.

    Nodes are (identity, n-th occurrence); each side adds edges between its
    consecutive events; a topological walk always takes the ready node with the
    smallest (UTC time, content hash). Symmetric in ``left`` and ``right``.
    Returns each event with the status its own side had before it.
    """
    nodes: dict[tuple[str, int], Event] = {}
    prior_status: dict[tuple[str, int], Any] = {}
    edges: dict[tuple[str, int], set[tuple[str, int]]] = {}
    for side in (left, right):
        seen: Counter[str] = Counter()
        previous = None
        status = None
        for event in side:
            key = event_key(event)
            node = (key, seen[key])
            seen[key] += 1
            if node not in nodes or _prefer((event, status), (nodes[node], prior_status[node])):
                nodes[node], prior_status[node] = event, status
            status = event.changes.get("status", (None, status))[1]
            edges.setdefault(node, set())
            if previous is not None and previous != node:
                edges[previous].add(node)
            previous = node
    incoming: Counter[tuple[str, int]] = Counter()
    for targets in edges.values():
        incoming.update(targets)

    def rank(node: tuple[str, int]) -> tuple[Any, ...]:
        digest = hashlib.sha1(node[0].encode("utf-8")).hexdigest()
        return (to_utc(nodes[node].at), digest, node[1])

    ready = [(rank(node), node) for node in nodes if not incoming[node]]
    heapq.heapify(ready)
    done: set[tuple[str, int]] = set()
    order: list[tuple[Event, Any]] = []
    while len(done) < len(nodes):
        if not ready:  # the sides disagree on the order of shared events: break the cycle
            node = min((n for n in nodes if n not in done), key=rank)
        else:
            node = heapq.heappop(ready)[1]
            if node in done:
                continue
        done.add(node)
        order.append((nodes[node], prior_status[node]))
        for target in edges[node]:
            incoming[target] -= 1
            if incoming[target] == 0 and target not in done:
                heapq.heappush(ready, (rank(target), target))
    return order


def _prefer(candidate: tuple[Event, Any], current: tuple[Event, Any]) -> bool:
    """Of two versions of one event (a merge may have re-based one), pick one by
    content, never by side, so the merge stays symmetric."""

    def text(pair: tuple[Event, Any]) -> str:
        return json.dumps([pair[0].to_dict(), pair[1]], sort_keys=True, default=str)

    return text(candidate) < text(current)


def rebase(events: Sequence[tuple[Event, Any]]) -> list[Event]:
    """Re-write each event's ``old`` values (and the rewritten fields) onto the timeline;
    ``events`` pairs each event with the status its own side had before it."""
    state: dict[str, Any] = {}
    out = []
    for event, prior in events:
        changes: dict[str, tuple[Any, Any]] = {}
        for name, (old, new) in event.changes.items():
            current = state.get(name)
            if name == "status":
                continue  # re-derived below, once the other fields are known
            if name in FIRST_WINS and current is not None:
                continue  # the other side set it first
            if name in COUNTERS and isinstance(new, int) and isinstance(old, (int, type(None))):
                new = (current or 0) + (new - (old or 0))
            changes[name] = (current, new)
        status = _status_change(event, state.get("status"), prior)
        if status is not None:
            changes = (
                {"status": status, **changes} if "status" in event.changes else {**changes, "status": status}
            )
        changes = {name: changes[name] for name in _field_order(event, changes)}
        for name, (_old, new) in changes.items():
            state[name] = new
        out.append(
            Event(
                event.at,
                event.actor,
                event.action,
                MappingProxyType(changes),
                event.note,
                event.rule,
                event.details,
            )
        )
    return out


def _field_order(event: Event, changes: Mapping[str, Any]) -> list[str]:
    """Keep the event's own key order (so an unchanged event is byte-identical)."""
    own = [name for name in event.changes if name in changes]
    return own + [name for name in changes if name not in own]


def _status_change(event: Event, current: Any, prior: Any) -> tuple[Any, Any] | None:
    """The status change of ``event`` on the merged timeline (None: no change).

    Where the event follows the status it followed on its own side, it keeps what
    it recorded; elsewhere the transition table says what the action does now.
    """
    recorded = event.changes.get("status")
    target = recorded[1] if recorded else current
    if current == prior or current is None or event.action not in TRANSITIONS:
        return (current, target) if target != current else None
    try:
        source = Status(current)
    except ValueError:
        return (current, target) if target != current else None
    allowed = TRANSITIONS[event.action]
    if source not in allowed:
        return None  # e.g. a `wait` on a case the other side resolved: status stays
    target = (allowed[source] or source).value
    return (current, target) if target != current else None


def find_contests(left: Sequence[Event], right: Sequence[Event], merged: Sequence[Event]) -> list[Contest]:
    """Fields both sides changed (since they parted) to different final values."""
    left_keys = Counter(event_key(e) for e in left)
    right_keys = Counter(event_key(e) for e in right)
    last_left = _last_changes(_only_in(left, right_keys))
    last_right = _last_changes(_only_in(right, left_keys))
    final: dict[str, Any] = {}
    for event in merged:
        for name, (_old, new) in event.changes.items():
            final[name] = new
    contests = []
    for name in FIELD_NAMES:
        if name not in last_left or name not in last_right or name in COUNTERS | FIRST_WINS:
            continue
        (l_value, l_event), (r_value, r_event) = last_left[name], last_right[name]
        if l_value == r_value:
            continue
        kept_event, lost = (l_event, r_event) if final.get(name) == l_value else (r_event, l_event)
        lost_value = r_value if lost is r_event else l_value
        contests.append(
            Contest(name, final.get(name), kept_event.actor, kept_event.at, lost_value, lost.actor, lost.at)
        )
    return contests


def _only_in(events: Sequence[Event], other: Counter[str]) -> list[Event]:
    """Events of one side beyond those the other side has too (multiset difference)."""
    remaining = Counter(other)
    out = []
    for event in events:
        key = event_key(event)
        if remaining[key]:
            remaining[key] -= 1
        else:
            out.append(event)
    return out


def _last_changes(events: Sequence[Event]) -> dict[str, tuple[Any, Event]]:
    last: dict[str, tuple[Any, Event]] = {}
    for event in events:
        if event.action == CONTEST_ACTION:
            continue
        for name, (_old, new) in event.changes.items():
            last[name] = (new, event)
    return last


def contest_event(contests: Sequence[Contest], at: str) -> Event:
    """The record of a merge's contested fields; dated with the last merged event."""
    note = "both sides changed " + "; ".join(c.describe() for c in contests)
    details = {"contested": [c.to_dict() for c in contests]}
    return Event(at, MERGE_ACTOR, CONTEST_ACTION, note=note, details=MappingProxyType(details))
