"""Everything cmtool writes into the history, defined once.

The code that writes commits and events takes its names from here, and
``cmtool audit verify`` accepts exactly these: a trailer, commit action or
event kind missing from this module is reported as unknown. A feature that
writes something new adds it here, with one line saying what writes it;
``tests/test_registry.py`` fails when a writer emits a name this module lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Trailers of a commit message (``git interpret-trailers`` reads them).
COMMIT_TRAILERS: Mapping[str, str] = MappingProxyType(
    {
        "Cmtool-Action": "the action the commit records (one of COMMIT_ACTIONS)",
        "Cmtool-Actor": "who acted: a person of rules.yaml or a system actor",
        "Cmtool-Case": "a case the commit changes, one line per case",
        "Cmtool-Source": "import: the file imported and its sha256",
    }
)

# Fields of a seal's tag message (``cmtool audit seal``).
SEAL_TRAILERS: Mapping[str, str] = MappingProxyType(
    {
        "Cmtool-Seal": "the seal's number",
        "Cmtool-Seal-Commit": "the commit sealed",
        "Cmtool-Seal-Tree": "that commit's tree",
        "Cmtool-Seal-Previous": "the previous seal's tag object (none for the first)",
        "Cmtool-Actor": "who sealed",
    }
)

# Values of Cmtool-Action: what one commit did.
COMMIT_ACTIONS: Mapping[str, str] = MappingProxyType(
    {
        "init": "cmtool init / cmtool demo: a new workspace",
        "people": "cmtool people add: colleagues added to rules.yaml",
        "install": "cmtool install: the case-file merge driver registered",
        "file": "cmtool file",
        "assign": "cmtool assign, or routing right after filing",
        "note": "cmtool note",
        "internal_note": "cmtool note --internal",
        "wait": "cmtool wait",
        "resume": "cmtool resume",
        "escalate": "cmtool escalate",
        "edit": "cmtool edit",
        "resolve": "cmtool resolve",
        "close": "cmtool close",
        "reopen": "cmtool reopen",
        "survey": "cmtool survey record / survey import",
        "survey_invite": "cmtool survey invite",
        "sla_extend": "cmtool sla extend",
        "sla_exclude": "cmtool sla exclude",
        "sla_sweep": "cmtool sla check --apply: the escalation ladder's steps",
        "import": "cmtool import: cases from a spreadsheet",
        "bulk": "cmtool bulk: one change to many cases, one event each",
        "undo": "cmtool undo: the last action on a case reverted by a new event",
        "correct": "cmtool edit --correct: a mistaken value put right",
        "attach": "cmtool attach: evidence files stored under attachments/",
        "intake_mail": "cmtool intake mail: cases and customer replies from a mailbox, one commit a run",
        "link": "cmtool link: two cases linked, an event on each",
        "sync": "cmtool sync: the merge of the shared remote",
        "privacy_erase": "cmtool privacy erase: a person's records erased (their keys destroyed)",
        "privacy_purge": "cmtool privacy purge: keys of cases past retention destroyed",
        "privacy_export": "cmtool privacy export, cmtool export --show-pii: personal data taken out",
        "privacy_migrate": "cmtool privacy migrate: clear personal values sealed in place, nothing else",
    }
)

# Values of an event's ``action:``: what happened to one case.
EVENT_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "file": "the case was filed (or imported)",
        "assign": "assigned to a person",
        "note": "a note to the customer (the first is the first response; holding_reply: a holding reply)",
        "internal_note": "a note for colleagues",
        "wait": "waiting on the customer: clocks pause",
        "resume": "the customer answered: clocks run again",
        "escalate": "escalated to a person",
        "edit": "fields changed",
        "resolve": "resolved",
        "close": "closed",
        "reopen": "reopened",
        "survey": "a satisfaction answer recorded",
        "survey_invite": "a satisfaction survey sent",
        "classify": "rules.yaml chose the category, team or owner at filing",
        "prioritize": "rules.yaml chose the priority at filing",
        "apply_regime": "rules.yaml put the case under a regulator's clock",
        "sla_warn": "the escalation ladder warned",
        "sla_escalate": "the escalation ladder escalated",
        "sla_extend": "a clock was extended",
        "sla_exclude": "a period was excluded from a clock",
        "merge_contest": "a merge: both clones changed a field to different values",
        "merge": "a merge: the state the merge policy gives where replay alone differs",
        "privacy_erase": "the person's erasure request, with its legal basis; the case's key is destroyed",
        "privacy_purge": "the retention period ended; the case's key is destroyed",
        "privacy_export": "the case's personal data was opened into an export (purpose, format, fields)",
        "undo": "the last action reverted; reverts: names the event",
        "correct": "a mistaken value put right; corrects: names the event that set it",
        "attach": "evidence attached; files: name, size, type, sha256 (stored_sha256 when sealed) of each",
        "link": "linked to another case (links: duplicate_of, parent_of, related...)",
        "customer_note": "the customer wrote in (an e-mail reply; message_id names it); no clock stops",
    }
)

# The actor of the events a merge adds; what a merge may add and nothing else.
MERGE_ACTOR = "cmtool-merge"
MERGE_EVENT_KINDS = frozenset({"merge_contest", "merge"})

# Who acts when no person does, unless rules.yaml's audit.system_actors says otherwise.
MAIL_INTAKE_ACTOR = "mail-intake"  # cmtool intake mail
WEB_INTAKE_ACTOR = "web-intake"  # cmtool serve: the form and the API
DEFAULT_SYSTEM_ACTORS = ("cmtool", MERGE_ACTOR, MAIL_INTAKE_ACTOR, WEB_INTAKE_ACTOR)


def unknown_trailer(name: str) -> bool:
    return name not in COMMIT_TRAILERS


def check_commit_action(action: str) -> str:
    """``action`` if cmtool may write it; a programming error otherwise."""
    if action not in COMMIT_ACTIONS:
        raise ValueError(f"commit action {action!r} is not in cmtool.model.registry.COMMIT_ACTIONS")
    return action
