"""The Message-IDs already taken in, kept in ``.git/cmtool/mail-ledger.json`` for speed.

The events are the source of truth (a ``file`` or ``customer_note`` event carries
the e-mail's ``message_id``); the ledger only saves reading every case on each
run. It records the commit it describes: when HEAD has moved since (a sync, any
action), the case files changed in between are read; when that commit is not
behind HEAD (a clone, a rewritten branch) or the ledger is missing, every case is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cmtool.errors import CmtoolError
from cmtool.model.case import Case
from cmtool.store import git as gitops
from cmtool.store.casefiles import load_case
from cmtool.store.catalog import all_cases
from cmtool.store.statefiles import read_json, write_json
from cmtool.store.workspace import Workspace

LEDGER = "mail-ledger.json"


def message_ids(case: Case) -> set[str]:
    return {str(e.details["message_id"]) for e in case.events if e.details.get("message_id")}


def known_message_ids(ws: Workspace) -> set[str]:
    """Every Message-ID some case's events record, as of HEAD."""
    data = read_json(ws, LEDGER, None)
    head = gitops.head(ws.root)
    if not isinstance(data, dict) or not isinstance(data.get("ids"), list):
        return _scan(all_cases(ws, skip_broken=True))
    since, ids = str(data.get("head") or ""), {str(i) for i in data["ids"]}
    if since == head:
        return ids
    if since and head and gitops.git_ok(ws.root, "merge-base", "--is-ancestor", since, head):
        changed = gitops.git(ws.root, "diff", "--name-only", "--no-renames", since, head, "--", "cases/")
        return ids | _scan(_cases(ws, changed.split()))
    return _scan(all_cases(ws, skip_broken=True))


def save_ledger(ws: Workspace, ids: Iterable[str]) -> None:
    write_json(ws, LEDGER, {"head": gitops.head(ws.root), "ids": sorted(ids)})


def _cases(ws: Workspace, paths: list[str]) -> list[Case]:
    found = []
    for rel in paths:
        if not rel.endswith(".yaml") or not (ws.root / rel).is_file():
            continue
        try:
            found.append(load_case(ws, rel.rsplit("/", 1)[-1].removesuffix(".yaml"))[0])
        except CmtoolError:  # a broken file: `cmtool validate` names it
            continue
    return found


def _scan(cases: Iterable[Case]) -> set[str]:
    ids: set[str] = set()
    for case in cases:
        ids |= message_ids(case)
    return ids


# -- how far each IMAP mailbox was read --------------------------------------

MARKS = "imap-marks.json"


@dataclass(frozen=True)
class ImapMark:
    """Every message of the mailbox up to ``uid`` was taken (or skipped, and said so)."""

    uidvalidity: str
    uid: int


def imap_mark(ws: Workspace, mailbox: str) -> ImapMark | None:
    """The mark last saved for ``mailbox``, or None."""
    data = read_json(ws, MARKS, {})
    entry = data.get(mailbox) if isinstance(data, dict) else None
    if not isinstance(entry, dict) or type(entry.get("uid")) is not int:
        return None
    return ImapMark(str(entry.get("uidvalidity")), entry["uid"])


def save_imap_mark(ws: Workspace, mailbox: str, mark: ImapMark | None) -> None:
    if mark is None:
        return
    data = read_json(ws, MARKS, {})
    data = data if isinstance(data, dict) else {}
    data[mailbox] = {"uidvalidity": mark.uidvalidity, "uid": mark.uid}
    write_json(ws, MARKS, data)
