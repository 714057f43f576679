"""`cmtool link`: two cases that belong together, recorded on both in one commit.

``link A B --as duplicate`` says A repeats B: A gets ``duplicate_of:B`` and B
``duplicated_by:A``, and reports count the complaint once (B). ``--as parent``
makes A the parent of B (``parent_of:B`` / ``child_of:A``); ``--as related``
links both ways alike.
"""

from __future__ import annotations

from types import MappingProxyType

from cmtool.errors import UsageError
from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.services.context import Context, commit_message
from cmtool.store.casefiles import resolve_id

# kind -> (what A records about B, what B records about A)
KINDS = {
    "duplicate": ("duplicate_of", "duplicated_by"),
    "parent": ("parent_of", "child_of"),
    "related": ("related", "related"),
}


def link(ctx: Context, ref: str, other_ref: str, kind: str, note: str | None = None) -> tuple[Case, Case]:
    if kind not in KINDS:
        raise UsageError(f"--as {kind!r}: use one of {', '.join(KINDS)}")
    first, second = resolve_id(ctx.ws, ref), resolve_id(ctx.ws, other_ref)
    if first == second:
        raise UsageError("a case cannot be linked to itself")
    forward, backward = KINDS[kind]
    with ctx.transaction() as tx:
        loaded = {case_id: tx.load(case_id) for case_id in (first, second)}
        for case, _ in loaded.values():
            ctx.not_before(case.updated_at, case.id)
        a, b = loaded[first][0], loaded[second][0]
        if kind == "duplicate" and any(x.startswith("duplicate_of:") for x in b.get("links") or []):
            raise UsageError(f"{second} is itself a duplicate", hint="link to the case it duplicates instead")
        updated = []
        for case, label, target in ((a, forward, second), (b, backward, first)):
            links = list(case.get("links") or [])
            entry = f"{label}:{target}"
            if entry in links:
                raise UsageError(f"{case.id} already records {entry}")
            changes = MappingProxyType({"links": (case.get("links"), [*links, entry])})
            event = Event(
                ctx.now_text, ctx.actor, "link", changes, note.strip() if note and note.strip() else None
            )
            updated.append(case.with_event(event))
            tx.put(updated[-1], loaded[case.id][1])
        summary = f"link {first} {forward.replace('_', ' ')} {second}"
        tx.commit(commit_message(summary, "link", ctx.actor, [first, second]), ctx.identity, ctx.now_text)
    return updated[0], updated[1]


def counts_as_complaint(state) -> bool:
    """False for a duplicate of another case: reports count that complaint once."""
    return not any(str(x).startswith("duplicate_of:") for x in state.get("links") or [])
