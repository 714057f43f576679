"""`cmtool attach`: evidence files on a case, one event and one commit."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cmtool.errors import UsageError
from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.rules.loader import load_rules
from cmtool.services.context import Context, commit_message
from cmtool.store import attachments
from cmtool.store.casefiles import resolve_id


def attach(ctx: Context, ref: str, files: Sequence[Path], note: str | None = None) -> Case:
    """Store each file by its sha256 (once, however many cases cite it) and record
    name, size, type and hash in one ``attach`` event."""
    if not files:
        raise UsageError("name at least one file to attach")
    limit = load_rules(ctx.ws.rules_path).attachment_max_bytes
    evidence = [attachments.read_evidence(Path(f), limit) for f in files]
    lfs = attachments.uses_lfs(ctx.ws)
    case_id = resolve_id(ctx.ws, ref)
    with ctx.transaction() as tx:
        case, text = tx.load(case_id)
        ctx.not_before(case.updated_at, case_id)
        for item in evidence:
            path = attachments.relpath(item.sha256)
            if not (ctx.ws.root / path).exists():
                tx.put_bytes(path, item.data, through_filters=lfs)
        details = MappingProxyType({"files": [item.record() for item in evidence]})
        clean_note = note.strip() if note and note.strip() else None
        updated = case.with_event(
            Event(ctx.now_text, ctx.actor, "attach", MappingProxyType({}), clean_note, None, details)
        )
        tx.put(updated, text)
        names = ", ".join(item.name for item in evidence)
        tx.commit(
            commit_message(f"attach {case_id}: {names}", "attach", ctx.actor, [case_id]),
            ctx.identity,
            ctx.now_text,
        )
    return updated


def attachments_of(case: Case) -> list[dict[str, Any]]:
    """Every file attached to a case, oldest first, with when and by whom."""
    found = []
    for event in case.events:
        if event.action == "attach":
            for item in event.details.get("files") or ():
                if isinstance(item, dict):
                    found.append({**item, "at": event.at, "by": event.actor})
    return found
