"""`cmtool attach`: evidence files on a case, one event and one commit; and
`cmtool attachments`: the files of a case, listed or saved (opened)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cmtool.errors import CmtoolError, Refused, UsageError
from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.model.privacy import FILE_NAME, SEALED
from cmtool.rules.loader import load_rules
from cmtool.services.context import Context, commit_message
from cmtool.store import attachments
from cmtool.store.casefiles import load_case, resolve_id
from cmtool.store.personal import sealer_for
from cmtool.store.sealed_files import open_file, seal_file
from cmtool.store.workspace import Workspace


def attach(ctx: Context, ref: str, files: Sequence[Path], note: str | None = None) -> Case:
    """Store each file by the sha256 of what is stored and record name, size, type
    and hash in one ``attach`` event. In a sealing workspace the content is sealed
    under the case's key first (``store.sealed_files``) and the name is sealed
    like a note; plain workspaces store the file itself, once however many cases
    cite it."""
    if not files:
        raise UsageError("name at least one file to attach")
    limit = load_rules(ctx.ws.rules_path).attachment_max_bytes
    evidence = [attachments.read_evidence(Path(f), limit) for f in files]
    lfs = attachments.uses_lfs(ctx.ws)
    case_id = resolve_id(ctx.ws, ref)
    sealer = sealer_for(ctx.ws)
    with ctx.transaction() as tx:
        case, text = tx.load(case_id)
        ctx.not_before(case.updated_at, case_id)
        records, shown = [], []
        for item in evidence:
            record, stored = item.record(), item.data
            if sealer.active:
                key = sealer.keys.create(case_id, ctx.now_text)
                stored = seal_file(key, case_id, case_id, item.sha256, item.data)
                record["stored_sha256"] = hashlib.sha256(stored).hexdigest()
            shown.append(dict(record))
            if sealer.active:
                record["name"] = sealer.seal_text(item.name, case_id, FILE_NAME, ctx.now_text)
            path = attachments.relpath(str(record.get("stored_sha256", item.sha256)))
            if not (ctx.ws.root / path).exists():
                tx.put_bytes(path, stored, through_filters=lfs)
            records.append(record)
        clean_note = note.strip() if note and note.strip() else None

        def attached(files: list[dict[str, Any]]) -> Case:
            details = MappingProxyType({"files": files})
            return case.with_event(
                Event(ctx.now_text, ctx.actor, "attach", MappingProxyType({}), clean_note, None, details)
            )

        tx.put(attached(records), text)
        # A file's name may be personal (a customer's letter): sealed workspaces count them.
        names = f"{len(evidence)} file(s)" if sealer.active else ", ".join(item.name for item in evidence)
        tx.commit(
            commit_message(f"attach {case_id}: {names}", "attach", ctx.actor, [case_id]),
            ctx.identity,
            ctx.now_text,
        )
    return attached(shown)  # as a reader with the key sees it


def attachments_of(case: Case) -> list[dict[str, Any]]:
    """Every file attached to a case, oldest first, with when and by whom."""
    found = []
    for event in case.events:
        if event.action == "attach":
            for item in event.details.get("files") or ():
                if isinstance(item, dict):
                    found.append({**item, "at": event.at, "by": event.actor})
    return found


@dataclass(frozen=True)
class Saved:
    sha256: str  # of the content
    path: Path | None  # where it was written; None: it could not be opened here
    why: str | None = None


@dataclass(frozen=True)
class Opened:
    record: dict[str, Any]  # as attachments_of gives it
    data: bytes | None  # the content; None: it cannot be opened here
    why: str | None = None

    @property
    def sealed(self) -> bool:
        return bool(self.record.get("stored_sha256"))

    @property
    def file_name(self) -> str:
        """``<sha256 prefix>-<name>``: a customer's file name never becomes a path."""
        return f"{str(self.record.get('sha256'))[:12]}-{_safe_name(str(self.record.get('name')))}"


def open_attachments(ws: Workspace, case: Case) -> list[Opened]:
    """Each content attached to ``case`` once (however often attached), opened
    with the case's key where it is sealed."""
    sealer = sealer_for(ws)
    limit = load_rules(ws.rules_path).attachment_max_bytes
    unique = {str(item.get("sha256")): item for item in reversed(attachments_of(case))}
    found = []
    for item in reversed(unique.values()):
        try:
            stored = attachments.read_stored(ws, str(item.get("stored_sha256") or item.get("sha256")), limit)
        except (ValueError, OSError, CmtoolError) as exc:
            found.append(Opened(item, None, f"not in this clone ({exc})"))
            continue
        if not item.get("stored_sha256"):
            found.append(Opened(item, stored))
            continue
        plain = open_file(stored, case.id, str(item.get("sha256")), sealer.keys)
        found.append(Opened(item, plain, None if plain is not None else SEALED))
    return found


def save_attachments(ctx: Context, ref: str, out_dir: Path) -> list[Saved]:
    """Write a case's attachments, opened, into ``out_dir`` as ``<sha256 prefix>-<name>``.
    Opening sealed files takes the right to read every personal field, and is
    recorded (``privacy_export``, which files) before anything is written."""
    from cmtool.services.need_to_know import hidden_for
    from cmtool.services.privacy import EXPORT, _record

    if not out_dir.is_dir():
        raise UsageError(f"--save {out_dir}: no such folder")
    case, _ = load_case(ctx.ws, resolve_id(ctx.ws, ref))
    contents = open_attachments(ctx.ws, case)
    sealed = [o for o in contents if o.data is not None and o.sealed]
    if sealed and hidden_for(ctx.ws, ctx.actor):
        raise Refused(
            f"{ctx.actor} may not read every personal field (privacy.need_to_know), so may not open "
            "sealed attachments",
            hint="a role that sees all personal fields may save them",
        )
    if sealed:
        details = {"purpose": "attachments", "attachments": [str(o.record.get("sha256")) for o in sealed]}
        _record(ctx, [case.id], EXPORT, lambda _id: details, "privacy_export: 1 case(s)")
    saved = []
    for opened in contents:
        sha = str(opened.record.get("sha256"))
        if opened.data is None:
            saved.append(Saved(sha, None, opened.why))
            continue
        target = out_dir / opened.file_name
        target.write_bytes(opened.data)
        saved.append(Saved(sha, target))
    return saved


def _safe_name(name: str) -> str:
    """A customer's file name as one harmless path part (never a path of its own)."""
    cleaned = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in name).strip(" .")
    return cleaned[:80] or "file"
