"""Merging two versions of one case file: the union of both timelines.

A case's timeline is append-only, so the two sides of a merge share a prefix
and each appended its own events: the timelines carry their own common
ancestor and the merge needs no base. The rules (documented in docs/team.md
and docs/audit.md):

1. **Committed events are immutable.** Every event of either side appears
   exactly once, byte for byte as it was committed. Events are matched by
   their whole content; an event present n times on one side appears n times.
2. **Order.** Each side's own order is kept; where the sides are independent,
   the earlier event comes first, ties broken by a hash of the event's content.
   The result does not depend on which side is "ours".
3. **Old values are informational.** Replay applies each event's new values;
   an event's recorded ``old`` is what its author saw on their own clone.
4. **Field policies, by a reconciling event.** Plain fields: the later change
   wins (that is what replay gives). Where the merge policy differs from plain
   replay, the merge appends one ``merge`` event by ``cmtool-merge`` that sets
   the policy's value: a status change made from another status than the merged
   timeline has there follows the transition table, and one the table does not
   allow (a ``wait`` on a case the other side resolved, a second ``close``)
   changes nothing, nor does the close or resolve time that came with it, so the
   earliest of two identical closures stands; ``escalation_level`` adds up both
   sides' increments; ``first_response_at`` and ``filed_at`` keep the first value.
5. **Agreement is not a contest; disagreement is recorded.** When both sides
   changed a field to the same value, nothing is added. When they changed it to
   different values, a ``merge_contest`` event names the value kept and the
   value overridden (with who and when), so nothing is silently lost.
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
from cmtool.model.registry import MERGE_ACTOR
from cmtool.model.replay import replay
from cmtool.model.timefmt import to_utc
from cmtool.model.transitions import TRANSITIONS

CONTEST_ACTION = "merge_contest"
RECONCILE_ACTION = "merge"
MERGE_ACTIONS = frozenset({CONTEST_ACTION, RECONCILE_ACTION})
COUNTERS = frozenset({"escalation_level"})  # merged by adding increments
FIRST_WINS = frozenset({"first_response_at", "filed_at"})  # set once; the earliest stays
# Set together with a status change; dropped when the merged timeline drops that change.
STATUS_TIMES = frozenset({"resolved_at", "closed_at"})


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
    """An event's identity across clones: everything it says (events never change)."""
    return json.dumps(event.to_dict(), sort_keys=True, ensure_ascii=False, default=str)


def merge_case_data(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> MergeResult:
    """Merge two parsed versions of one case file (schema-checked by the caller)."""
    if ours.get("id") != theirs.get("id"):
        raise MergeRefused(f"the two versions are different cases ({ours.get('id')} and {theirs.get('id')})")
    left = Case.from_dict(ours).events
    right = Case.from_dict(theirs).events
    events = union_in_order(left, right)
    replayed = replay(events)
    # Earlier merges' reconciling events follow from the others: the policy recomputes them.
    wanted = policy_state([event for event in events if event.action != RECONCILE_ACTION])
    differ = {
        name: (replayed.get(name), wanted.get(name))
        for name in FIELD_NAMES
        if replayed.get(name) != wanted.get(name)
    }
    if differ:
        events.append(reconcile_event(differ, events[-1].at))
    final = replay(events)
    contests = find_contests(left, right, final)
    if contests:
        events.append(contest_event(contests, events[-1].at))
    case = Case(str(ours["id"]), MappingProxyType({}), ())
    for event in events:
        case = case.with_event(event)
    state = {name: case.state.get(name) for name in FIELD_NAMES}
    return MergeResult(Case(case.id, MappingProxyType(state), case.events), tuple(contests))


def union_in_order(left: Sequence[Event], right: Sequence[Event]) -> list[Event]:
    """Every event of both sides once, each side's order kept, earliest first otherwise.

    Nodes are (identity, n-th occurrence); each side adds edges between its
    consecutive events; a topological walk always takes the ready node with the
    smallest (UTC time, content hash). Symmetric in ``left`` and ``right``.
    """
    nodes: dict[tuple[str, int], Event] = {}
    edges: dict[tuple[str, int], set[tuple[str, int]]] = {}
    for side in (left, right):
        seen: Counter[str] = Counter()
        previous = None
        for event in side:
            key = event_key(event)
            node = (key, seen[key])
            seen[key] += 1
            nodes[node] = event
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
    order: list[Event] = []
    while len(done) < len(nodes):
        if not ready:  # the sides disagree on the order of shared events: break the cycle
            node = min((n for n in nodes if n not in done), key=rank)
        else:
            node = heapq.heappop(ready)[1]
            if node in done:
                continue
        done.add(node)
        order.append(nodes[node])
        for target in edges[node]:
            incoming[target] -= 1
            if incoming[target] == 0 and target not in done:
                heapq.heappush(ready, (rank(target), target))
    return order


def policy_state(events: Sequence[Event]) -> dict[str, Any]:
    """The state the merge policy gives a merged timeline (see the module's rules).

    A function of the events alone (each judged against what its author saw, its
    recorded old status), so merging a merged file again gives the same state.
    """
    state: dict[str, Any] = {}
    for event in events:
        recorded = event.changes.get("status")
        status = _status_after(event, state.get("status")) if recorded else None
        dropped = recorded is not None and status is None
        for name, (old, new) in event.changes.items():
            current = state.get(name)
            if name == "status" or (dropped and name in STATUS_TIMES):
                continue
            if name in FIRST_WINS and current is not None:
                continue  # the other side set it first
            if name in COUNTERS and isinstance(new, int) and isinstance(old, (int, type(None))):
                new = (current or 0) + (new - (old or 0))
            state[name] = new
        if status is not None:
            state["status"] = status
    return {name: value for name, value in state.items() if value is not None}


def _status_after(event: Event, current: Any) -> Any:
    """The status ``event`` leads to on the merged timeline; None: it changes nothing.

    An event that follows the status its author saw does what it recorded;
    elsewhere the transition table says what its action does from ``current``.
    """
    old, new = event.changes["status"]
    if current == old or current is None or event.action not in TRANSITIONS:
        return new
    try:
        source = Status(current)
    except ValueError:
        return new
    allowed = TRANSITIONS[event.action]
    if source not in allowed:
        return None  # e.g. a `wait` on a case the other side resolved: status stays
    target = (allowed[source] or source).value
    return target if target != current else None


def reconcile_event(changes: Mapping[str, tuple[Any, Any]], at: str) -> Event:
    """Sets what the merge policy gives where plain replay differs; dated with the
    last merged event, so merging the same two sides anywhere gives the same event."""
    note = "merged two timelines; " + "; ".join(
        f"{name} {_show(new)} ({_REASONS.get(name, 'merge policy')})" for name, (_old, new) in changes.items()
    )
    return Event(at, MERGE_ACTOR, RECONCILE_ACTION, MappingProxyType(dict(changes)), note)


_REASONS = {
    "status": "an action the merged status does not allow changes nothing",
    "resolved_at": "the first resolution stands",
    "closed_at": "the first closure stands",
    "escalation_level": "both sides' escalations count",
    "first_response_at": "the first response stands",
    "filed_at": "the first filing stands",
}


def find_contests(left: Sequence[Event], right: Sequence[Event], final: Mapping[str, Any]) -> list[Contest]:
    """Fields both sides changed (since they parted) to different final values."""
    left_keys = Counter(event_key(e) for e in left)
    right_keys = Counter(event_key(e) for e in right)
    last_left = _last_changes(_only_in(left, right_keys))
    last_right = _last_changes(_only_in(right, left_keys))
    contests = []
    for name in FIELD_NAMES:
        if name not in last_left or name not in last_right or name in COUNTERS | FIRST_WINS | STATUS_TIMES:
            continue
        (l_value, l_event), (r_value, r_event) = last_left[name], last_right[name]
        if l_value == r_value:
            continue  # agreement is not a contest
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
        if event.action in MERGE_ACTIONS:
            continue
        for name, (_old, new) in event.changes.items():
            last[name] = (new, event)
    return last


def contest_event(contests: Sequence[Contest], at: str) -> Event:
    """The record of a merge's contested fields; dated with the last merged event."""
    note = "both sides changed " + "; ".join(c.describe() for c in contests)
    details = {"contested": [c.to_dict() for c in contests]}
    return Event(at, MERGE_ACTOR, CONTEST_ACTION, note=note, details=MappingProxyType(details))
