"""Need-to-know: which personal fields a person may read, applied wherever a case
leaves the tool (show, list, search, export, history, reports, letters).

One decision, ``hidden_for``, from rules.yaml's ``privacy.need_to_know`` (through
``PrivacyPolicy.visible``); the functions below apply it to a case, a summary
row or an event. A hidden field reads ``[masked]``; filtering or sorting on it is
refused, so a person cannot find cases by a value they may not read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cmtool.errors import DataError, Refused
from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.model.privacy import MASKED, NOTES
from cmtool.store.workspace import Workspace

if TYPE_CHECKING:
    from cmtool.rules.privacy import PrivacyPolicy

__all__ = [
    "MASKED",
    "hidden_for",
    "hidden_from_anyone",
    "mask",
    "masked_case",
    "masked_event_dict",
    "masked_for",
    "masked_note",
    "masked_row",
    "refuse_hidden",
]


def hidden_for(ws: Workspace, actor: str) -> frozenset[str]:
    """The personal fields (``notes``: the notes of events) ``actor``'s role may
    not read; empty when they may read them all."""
    from cmtool.services.privacy import role_of

    return _hidden(ws, lambda _policy: [role_of(ws, actor)])


def hidden_from_anyone(ws: Workspace) -> frozenset[str]:
    """The personal fields some role may not read: what a reader of unknown role,
    such as a team's chat channel, is not shown."""
    return _hidden(ws, lambda policy: list(policy.need_to_know))


def _hidden(ws: Workspace, roles: Callable[[PrivacyPolicy], list[str | None]]) -> frozenset[str]:
    """The personal fields at least one of ``roles`` may not read."""
    from cmtool.services.privacy import policy_of

    try:
        policy = policy_of(ws)
        hidden: set[str] = set()
        for role in roles(policy):
            visible = policy.visible(role)
            hidden |= set() if visible is None else policy.personal - visible
    except DataError:  # rules.yaml is broken: nobody's rights are known, so hide all
        from cmtool.store.personal import sealer_for

        return sealer_for(ws).personal
    return frozenset(hidden)


def mask(value: Any, name: str, hidden: Collection[str]) -> Any:
    """``value`` of field ``name``, or ``[masked]`` (each value of a map such as
    ``extra``: its keys are column names, not personal data)."""
    if name not in hidden or value is None:
        return value
    if isinstance(value, Mapping):
        return {key: MASKED for key in value}
    return MASKED


def masked_row(row: Mapping[str, Any], hidden: Collection[str]) -> dict[str, Any]:
    """A summary row or state with the ``hidden`` fields masked."""
    return {name: mask(value, name, hidden) for name, value in row.items()}


def masked_case(case: Case, hidden: frozenset[str]) -> Case:
    if not hidden:
        return case
    state = masked_row(case.state, hidden)
    return Case(case.id, MappingProxyType(state), tuple(_masked_event(e, hidden) for e in case.events))


def masked_for(ws: Workspace, actor: str, case: Case) -> Case:
    """``case`` as ``actor`` may see it: personal fields their role may not read
    (``privacy.need_to_know``) are masked, notes included."""
    return masked_case(case, hidden_for(ws, actor))


def _masked_event(event: Event, hidden: frozenset[str]) -> Event:
    changes = {name: tuple(mask(v, name, hidden) for v in pair) for name, pair in event.changes.items()}
    note = masked_note(event, hidden)
    details = MappingProxyType(_masked_files(event.details, hidden))
    return Event(event.at, event.actor, event.action, MappingProxyType(changes), note, event.rule, details)


def _masked_files(event: Mapping[str, Any], hidden: Collection[str]) -> dict[str, Any]:
    """``event`` (its details, or the event as a file holds it) with the names of the
    files it attached masked when the notes are hidden: a name (a customer's letter)
    is personal whenever the notes are, and sealed with them."""
    out = dict(event)
    files = event.get("files")
    if NOTES in hidden and isinstance(files, (list, tuple)):
        out["files"] = [
            {**f, "name": MASKED} if isinstance(f, Mapping) and f.get("name") is not None else f
            for f in files
        ]
    return out


def masked_event_dict(event: Mapping[str, Any], hidden: Collection[str]) -> dict[str, Any]:
    """An event as a file holds it (``changes: {field: [old, new]}``), masked."""
    out = _masked_files(event, hidden)
    changes = event.get("changes")
    if isinstance(changes, Mapping):
        out["changes"] = {
            name: [mask(v, name, hidden) for v in pair] if isinstance(pair, list) else pair
            for name, pair in changes.items()
        }
    if event.get("rule") is None and "note" in event:
        out["note"] = mask(event.get("note"), NOTES, hidden)
    return out


def refuse_hidden(used: Collection[str], hidden: Collection[str], what: str) -> None:
    """Filtering, sorting or matching on a field one may not read would tell its value."""
    blocked = sorted(set(used) & set(hidden))
    if blocked:
        raise Refused(
            f"{what} {', '.join(blocked)}: your role may not read {'it' if len(blocked) == 1 else 'them'} "
            "(privacy.need_to_know in rules.yaml)",
            hint="ask someone whose role may, or leave that out",
        )


def masked_note(event: Event, hidden: Collection[str]) -> str | None:
    """An event's note as a reader who may not see ``hidden`` sees it. A note a rule
    wrote (routing, a ladder) is the tool's text, not the customer's."""
    return mask(event.note, NOTES, hidden) if event.rule is None else event.note
