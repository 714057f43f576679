"""`cmtool export` and personal data: masked unless asked, and recorded when opened.

By default every personal field (rules.yaml ``privacy.personal``) is written as
``[masked]``. ``--show-pii`` opens those the actor's role may read
(``privacy.need_to_know``); before the file is written, each case whose personal
data goes into it gets a ``privacy_export`` event (who, when, which fields, what
format), all in one commit, so the history says who took whose data out.
``report --show-pii`` records the cases whose names it prints the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from cmtool.errors import UsageError
from cmtool.model.case import Case
from cmtool.model.privacy import NOTES, SEALED
from cmtool.services.context import Context
from cmtool.services.exporter import ExportResult, choose_format, export_cases
from cmtool.services.need_to_know import MASKED, hidden_for
from cmtool.services.privacy import EXPORT, _record, policy_of
from cmtool.services.query import CaseFilter


def export_for(
    ctx: Context,
    fmt: str | None,
    case_filter: CaseFilter,
    now: datetime,
    target: Path | None = None,
    show_pii: bool = False,
) -> ExportResult:
    chosen = choose_format(fmt, target)
    if target is not None and not target.expanduser().parent.is_dir():
        raise UsageError(f"-o {target}: no such folder")
    personal = policy_of(ctx.ws).personal
    if not show_pii:
        return export_cases(ctx.ws, chosen, case_filter, now, target, personal)
    hidden = hidden_for(ctx.ws, ctx.actor)
    shown = personal - hidden

    def record(cases: list[Case]) -> None:
        opened = [case.id for case in cases if holds_personal(case, shown)]
        record_export(ctx, opened, {"purpose": "export", "format": chosen, "fields": sorted(shown)})

    return export_cases(ctx.ws, chosen, case_filter, now, target, hidden, record)


def record_export(ctx: Context, case_ids: list[str], details: dict[str, Any]) -> None:
    """One ``privacy_export`` event on each case whose personal data goes out, in one
    commit (nothing when none does)."""
    if case_ids:
        _record(ctx, case_ids, EXPORT, lambda _id: details, f"privacy_export: {len(case_ids)} case(s)")


def holds_personal(case: Case, fields: Collection[str]) -> bool:
    """Whether ``case`` shows a personal value of ``fields`` in clear (neither
    masked nor sealed): only then does an export disclose anything of it."""

    def clear(value: object) -> bool:
        if isinstance(value, Mapping):  # extra: a map of imported columns
            return any(clear(v) for v in value.values())
        return value not in (None, "", SEALED, MASKED, [])

    if any(clear(case.state.get(name)) for name in fields if name != NOTES):
        return True
    return NOTES in fields and any(clear(e.note) and e.rule is None for e in case.events)
