"""Putting a mistake right without hiding it: `undo` appends an event that
reverts the last action on a case and names it (``reverts: N``); history keeps
both. (`edit --correct` is the other half: see ``lifecycle.edit``.)"""

from __future__ import annotations

from cmtool.errors import UsageError
from cmtool.model.case import Case
from cmtool.services.context import Context
from cmtool.services.lifecycle import Changes, act

# Events that undo cannot revert: filing creates the case (close it instead), an
# undo is undone by acting again, and a merge's events belong to both clones.
NOT_UNDOABLE = frozenset({"file", "undo", "merge", "merge_contest"})


def undo_target(case: Case) -> int:
    """Index of the last event not yet undone; UsageError if it cannot be undone."""
    undone = {e.details.get("reverts") for e in case.events if e.action == "undo"}
    for index in range(len(case.events) - 1, -1, -1):
        event = case.events[index]
        if event.action == "undo" or index + 1 in undone:
            continue
        if event.action in NOT_UNDOABLE:
            raise UsageError(
                f"{case.id}: the last action left, event {index + 1} ({event.action}), cannot be undone",
                hint="to withdraw a complaint, resolve and close it with a reason",
            )
        return index
    raise UsageError(f"{case.id} has nothing to undo")


def undo(ctx: Context, ref: str, reason: str | None = None) -> tuple[Case, int]:
    """Revert the last action on a case: every field it changed goes back to the
    value it had before. Returns the case and the number of the event reverted."""
    reverted: list[int] = []

    def build(case: Case) -> tuple[Changes, str, dict[str, int]]:
        index = undo_target(case)
        event = case.events[index]
        changes = {
            name: (case.state.get(name), old)
            for name, (old, _new) in event.changes.items()
            if case.state.get(name) != old
        }
        why = f": {reason.strip()}" if reason and reason.strip() else ""
        reverted.append(index + 1)
        return (
            changes,
            f"undoes event {index + 1} ({event.action} by {event.actor} at {event.at}){why}",
            {"reverts": index + 1},
        )

    case = act(ctx, ref, "undo", build, "undo the last action")
    return case, reverted[0]
