"""Which action may happen in which status, and the status it leads to.

    new -> assigned -> in_progress <-> waiting -> resolved -> closed
    resolved/closed --reopen--> in_progress

``None`` as a target keeps the current status.
"""

from __future__ import annotations

from cmtool.errors import InvalidTransition
from cmtool.model.enums import Status

N, A, P, W, R, C = (
    Status.NEW,
    Status.ASSIGNED,
    Status.IN_PROGRESS,
    Status.WAITING,
    Status.RESOLVED,
    Status.CLOSED,
)
OPEN = (N, A, P, W)

# action -> {from status: to status (None = unchanged)}
TRANSITIONS: dict[str, dict[Status, Status | None]] = {
    "assign": {N: A, A: None, P: None, W: None},
    "escalate": {N: A, A: None, P: None, W: None},
    # A note to the customer is the first response; the owner is now working it.
    "note": {N: None, A: P, P: None, W: None, R: None, C: None},
    "internal_note": {s: None for s in Status},
    "wait": {A: W, P: W},
    "resume": {W: P},
    "edit": {s: None for s in Status},
    "resolve": {N: R, A: R, P: R, W: R},
    "close": {R: C},
    "reopen": {R: P, C: P},
    "survey": {R: None, C: None},
    "survey_invite": {R: None, C: None},
    # Written by the case-file merge driver: records fields both clones changed.
    "merge_contest": {s: None for s in Status},
    # Written by rules.yaml at filing (the event names the rule) and by the SLA sweep.
    "classify": {s: None for s in OPEN},
    "prioritize": {s: None for s in OPEN},
    "apply_regime": {s: None for s in OPEN},
    "sla_warn": {s: None for s in OPEN},
    "sla_escalate": {s: None for s in OPEN},
    "sla_extend": {s: None for s in OPEN},
    "sla_exclude": {s: None for s in OPEN},
    # Personal data (cmtool privacy): the record stays, its key is destroyed or used.
    "privacy_erase": {s: None for s in Status},
    "privacy_purge": {s: None for s in Status},
    "privacy_export": {s: None for s in Status},
}

_ADVICE = {
    "close": "resolve it first (cmtool resolve ID --resolution ...)",
    "resume": "only a waiting case can resume",
    "wait": "assign it first",
    "reopen": "only a resolved or closed case can be reopened",
    "survey": "surveys are recorded once a case is resolved or closed",
}


def next_status(action: str, current: Status, case_id: str = "") -> Status:
    """The status after ``action``; raises InvalidTransition naming the current status."""
    allowed = TRANSITIONS[action]
    if current not in allowed:
        label = f"{case_id} " if case_id else ""
        verb = action.replace("_", " ")
        if action == "close" and current == Status.CLOSED:
            raise InvalidTransition(f"cannot close {label}: it is already closed".replace(" :", ":"))
        else:
            message = f"cannot {verb} {label}: it is {current.value}"
        raise InvalidTransition(message.replace(" :", ":"), hint=_ADVICE.get(action))
    target = allowed[current]
    return current if target is None else target
