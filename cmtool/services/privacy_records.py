"""What is held about whom: `privacy report` (the record of processing) and
`privacy export` (a subject access request)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmtool.errors import InvalidTransition, UsageError
from cmtool.model.case import Case
from cmtool.model.fields import FIELD_NAMES
from cmtool.model.privacy import SEALED
from cmtool.model.timefmt import parse_time
from cmtool.reports.safety import mask_name
from cmtool.services.context import Context
from cmtool.services.evidence import open_attachments
from cmtool.services.privacy import EXPORT, _record, policy_of, role_of, subject_cases
from cmtool.store.catalog import all_cases
from cmtool.store.personal import key_store_label, sealer_for
from cmtool.store.workspace import Workspace


@dataclass(frozen=True)
class HeldRecord:
    case_id: str
    customer: str | None  # masked
    status: str
    closed_at: str | None
    retention: str | None  # the rule's name
    keep_until: str | None  # date, "while open", or None (no rule)
    key: str  # held, destroyed, unavailable (here), clear (nothing sealed: personal data in clear)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def held_records(ws: Workspace) -> tuple[str, list[HeldRecord]]:
    """(where keys live, one line per case: whose, until when, and its key's state)."""
    sealer = sealer_for(ws)
    policy = policy_of(ws)
    keys = sealer.keys.key_ids()
    destroyed = {d.key_id for d in sealer.keys.destroyed_since(0)}
    rows = []
    for case in all_cases(ws):
        rule = policy.retention_of(case.get("regimes") or [])
        closed = case.get("closed_at")
        until = None
        if rule is not None:
            until = rule.ends(parse_time(closed)).date().isoformat() if closed else "while open"
        if case.id in destroyed:
            key = "destroyed"
        elif case.id in keys:
            key = "held"
        else:
            key = "unavailable" if _has_sealed(case) else "clear"
        customer = case.get("customer")
        shown = customer if customer == SEALED else mask_name(customer)
        rows.append(
            HeldRecord(case.id, shown, case.status.value, closed, rule.rule if rule else None, until, key)
        )
    return key_store_label(sealer), rows


def _has_sealed(case: Case) -> bool:
    return any(v == SEALED for v in case.state.values()) or any(e.note == SEALED for e in case.events)


def export_subject(ctx: Context, customer: str | None, case_refs: list[str], out_dir: Path) -> list[Path]:
    """Everything held about one person, opened, as JSON and a readable Markdown
    file, with the files attached to their cases; each case records the export
    (who, when) before anything is written."""
    role = role_of(ctx.ws, ctx.actor)
    if policy_of(ctx.ws).visible(role) is not None:
        raise InvalidTransition(
            f"{ctx.actor} (role {role}) may not read every personal field (privacy.need_to_know)",
            hint="a subject access export is made by a role that sees all personal fields",
        )
    cases = subject_cases(ctx.ws, customer, case_refs)
    sealed = [c.id for c in cases if _has_sealed(c)]
    if sealed:
        raise InvalidTransition(
            f"cannot open {', '.join(sealed)} here (no key, or erased)",
            hint="export from a clone that reaches the key store; an erased record holds nothing to export",
        )
    if not out_dir.is_dir():
        raise UsageError(f"--out {out_dir}: no such folder")
    _record(
        ctx,
        [c.id for c in cases],
        EXPORT,
        lambda _id: {"purpose": "subject access request"},
        f"privacy_export: {len(cases)} case(s)",
    )
    document = {
        "subject": customer,
        "exported_at": ctx.now_text,
        "exported_by": ctx.actor,
        "cases": [_case_record(c) for c in subject_cases(ctx.ws, None, [c.id for c in cases])],
    }
    stamp = ctx.now.strftime("%Y%m%dT%H%M%S")
    json_path = out_dir / f"subject-access-{stamp}.json"
    md_path = out_dir / f"subject-access-{stamp}.md"
    json_path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(_markdown(document), encoding="utf-8")
    return [json_path, md_path, *_attachments(ctx.ws, cases, out_dir / f"subject-access-{stamp}-files")]


def _attachments(ws: Workspace, cases: list[Case], folder: Path) -> list[Path]:
    """The files attached to the person's cases, opened, one folder per case."""
    written = []
    for case in cases:
        for opened in open_attachments(ws, case):
            if opened.data is not None:
                target = folder / case.id / opened.file_name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(opened.data)
                written.append(target)
    return written


def _case_record(case: Case) -> dict[str, Any]:
    data = case.to_dict()
    return {
        "id": case.id,
        "fields": {k: data[k] for k in FIELD_NAMES if data.get(k) is not None},
        "events": data["events"],
    }


def _markdown(document: dict[str, Any]) -> str:
    lines = [
        "# Personal data held",
        "",
        f"Exported {document['exported_at']} by {document['exported_by']}, {len(document['cases'])} case(s).",
        "",
    ]
    for record in document["cases"]:
        lines += [f"## Case {record['id']}", ""]
        lines += [f"- **{name}**: {_plain(value)}" for name, value in record["fields"].items()]
        lines += ["", "### Timeline", ""]
        for event in record["events"]:
            changed = ", ".join(f"{k}: {_plain(v[1])}" for k, v in (event.get("changes") or {}).items())
            note = f" — “{_plain(event['note'])}”" if event.get("note") else ""
            lines.append(
                f"- {event['at']} {event['actor']} {event['action']}"
                + (f": {changed}" if changed else "")
                + note
            )
        lines.append("")
    return "\n".join(lines)


def _plain(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
    return " ".join(text.split())
