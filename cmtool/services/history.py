"""`cmtool history ID`: each event of a case with the commit that wrote it.

The commits that changed the case file come from the incremental history
index (``store.historyindex``), never from a ``git log -- path`` walk. Their
versions of the file are read in one ``cat-file --batch`` stream; an event is
attributed to the first commit whose version holds it. Events that a later
commit removed or rewrote are listed too, marked with the commit that did it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from cmtool.audit.trailers import parse_trailers
from cmtool.errors import NotFound
from cmtool.model.timefmt import parse_time
from cmtool.services.need_to_know import masked_event_dict
from cmtool.store import gitread
from cmtool.store.casefiles import resolve_id
from cmtool.store.historyindex import Touch, touches_of
from cmtool.store.personal import sealer_for
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load


@dataclass(frozen=True)
class HistoryEntry:
    case_id: str
    index: int | None  # position in the current timeline (None: no longer there)
    event: dict[str, Any]
    commit: Touch | None  # the commit that wrote it
    removed_by: Touch | None = None  # the commit that removed or rewrote it

    def to_dict(self) -> dict[str, Any]:
        def commit_info(touch: Touch | None) -> dict[str, Any] | None:
            if touch is None:
                return None
            trailers = parse_trailers(touch.message)
            return {
                "hash": touch.sha,
                "author": touch.author,
                "email": touch.email,
                "date": touch.author_date,
                "committed": touch.committer_date,
                "summary": touch.message.split("\n", 1)[0],
                "action": trailers.action,
                "actor": trailers.actor,
                "by_cmtool": trailers.present,
            }

        return {
            "case_id": self.case_id,
            "index": self.index,
            "at": self.event.get("at"),
            "actor": self.event.get("actor"),
            "action": self.event.get("action"),
            "changes": self.event.get("changes") or {},
            "note": self.event.get("note"),
            "commit": commit_info(self.commit),
            "removed_by": commit_info(self.removed_by),
        }

    def render(self) -> str:
        event = self.event
        changes = ", ".join(
            f"{name}: {_short(pair[0])} -> {_short(pair[1])}"
            for name, pair in (event.get("changes") or {}).items()
            if isinstance(pair, list) and len(pair) == 2
        )
        head = f"{event.get('at')}  {event.get('actor')}  {event.get('action')}"
        lines = [head + (f"  {changes}" if changes else "")]
        if event.get("note"):
            lines.append(f"    \u201c{str(event['note']).strip()}\u201d")
        if self.commit is not None:
            by_tool = parse_trailers(self.commit.message).present
            hand = "" if by_tool else "  [HAND EDIT: no cmtool trailers]"
            lines.append(
                f"    commit {self.commit.sha[:12]}  {self.commit.author} "
                f"<{self.commit.email}>  {self.commit.author_date}{hand}"
            )
        if self.removed_by is not None:
            lines.append(
                f"    REMOVED OR REWRITTEN by commit {self.removed_by.sha[:12]} "
                f"({self.removed_by.author}, {self.removed_by.author_date})"
            )
        return "\n".join(lines)


def case_history(ws: Workspace, ref: str, hidden: frozenset[str] = frozenset()) -> list[HistoryEntry]:
    """Every event of the case with its commit, opened, the ``hidden`` fields masked."""
    case_id = resolve_id(ws, ref)
    path = ws.case_relpath(case_id)
    touches = touches_of(ws.root, path)
    if not touches:
        raise NotFound(f"{case_id} has no committed history yet", hint="commit it first")
    wanted = [t.new_blob for t in touches if t.new_blob]
    versions: dict[str, list[Any]] = {}
    for sha, raw in zip(wanted, gitread.read_blobs(ws.root, wanted), strict=True):
        data = load(raw.decode("utf-8", "replace"), path) if raw is not None else None
        events = data.get("events") if isinstance(data, dict) else None
        versions[sha] = events if isinstance(events, list) else []
    written_by: dict[str, Touch] = {}
    removed: list[HistoryEntry] = []
    previous: list[Any] = []
    for touch in touches:
        current = versions.get(touch.new_blob or "", [])
        keys = [_key(e) for e in current]
        for event in current:
            written_by.setdefault(_key(event), touch)
        for event in previous:
            if _key(event) not in keys:
                removed.append(HistoryEntry(case_id, None, event, written_by.get(_key(event)), touch))
        previous = current
    entries = [
        HistoryEntry(case_id, index, event, written_by.get(_key(event)))
        for index, event in enumerate(previous)
    ]
    sealer = sealer_for(ws)
    opened = [
        replace(e, event=masked_event_dict(sealer.open_event(e.event, case_id), hidden))
        for e in entries + removed
    ]
    return sorted(opened, key=_when)


def _when(entry: HistoryEntry) -> tuple[float, bool]:
    try:
        moment = parse_time(entry.event.get("at")).timestamp()
    except (TypeError, ValueError):
        moment = float("inf")
    return moment, entry.index is None


def _key(event: Any) -> str:
    return json.dumps(event, sort_keys=True, default=str, ensure_ascii=False)


def _short(value: Any) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
