"""`cmtool export`: the cases (or a filtered set) as xlsx, CSV or JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cmtool.errors import UsageError
from cmtool.exporting.table import case_table, event_table
from cmtool.exporting.writers import csv_text, json_text, write_xlsx
from cmtool.model.case import Case
from cmtool.model.timefmt import format_time
from cmtool.services.need_to_know import masked_case
from cmtool.services.query import CaseFilter, select
from cmtool.store.catalog import all_cases
from cmtool.store.workspace import Workspace

FORMATS = ("xlsx", "csv", "json")


@dataclass(frozen=True)
class ExportResult:
    count: int
    target: Path | None
    text: str | None  # CSV or JSON for stdout when there is no target
    sla: bool  # whether SLA columns could be computed


def choose_format(fmt: str | None, target: Path | None) -> str:
    chosen = (fmt or (target.suffix.lstrip(".").lower() if target else "") or "csv").lower()
    if chosen not in FORMATS:
        raise UsageError(f"--format {chosen!r}: use one of {', '.join(FORMATS)}")
    if chosen == "xlsx" and target is None:
        raise UsageError("an xlsx export needs a file: -o cases.xlsx")
    return chosen


def export_cases(
    ws: Workspace,
    fmt: str | None,
    case_filter: CaseFilter,
    now: datetime,
    target: Path | None = None,
    hidden: frozenset[str] = frozenset(),
    before_writing: Callable[[list[Case]], None] | None = None,
) -> ExportResult:
    """``hidden``: fields written as ``[masked]``; ``before_writing`` sees the
    cases (masked) once chosen, before anything is written (to record the export)."""
    chosen = choose_format(fmt, target)
    cases = select(all_cases(ws, case_filter.statuses or None), case_filter)
    cases = [masked_case(case, hidden) for case in cases]
    if before_writing is not None:
        before_writing(cases)
    clocks = _clocks(ws, cases, now)
    if chosen == "json":
        text = json_text([_json_case(case, clocks) for case in cases])
    elif chosen == "csv":
        text = csv_text(case_table(cases, clocks))
    else:
        about = [
            ("exported at", now),
            ("cases", len(cases)),
            ("time zone", f"times are wall-clock at UTC{format_time(now)[-6:]}"),
            ("workspace", ws.root.name),
            (
                "SLA",
                "sla.* columns are computed at export and skipped by cmtool import"
                if clocks is not None
                else "SLA module not available",
            ),
        ]
        write_xlsx(target, case_table(cases, clocks), event_table(cases), about, now.tzinfo)
        return ExportResult(len(cases), target, None, clocks is not None)
    if target is None:
        return ExportResult(len(cases), None, text, clocks is not None)
    # A BOM so Excel reads UTF-8 (Chinese text) right; cmtool import reads it either way.
    target.write_text(text, encoding="utf-8-sig" if chosen == "csv" else "utf-8", newline="")
    return ExportResult(len(cases), target, None, clocks is not None)


def _clocks(ws: Workspace, cases: list[Case], now: datetime) -> dict[str, list[Any]] | None:
    """SLA clock states per case, or None when the SLA module is absent."""
    try:
        from cmtool.rules.loader import load_rules
        from cmtool.sla.clocks import case_clocks
    except ImportError:
        return None
    rules = load_rules(ws.rules_path)
    return {case.id: case_clocks(case, rules, now) for case in cases}


def _json_case(case: Case, clocks: dict[str, list[Any]] | None) -> dict[str, Any]:
    data = case.to_dict()
    if clocks is not None:
        events = data.pop("events")
        data["sla"] = [
            {"clock": c.clock, "state": c.state, "due_at": c.due_at} for c in clocks.get(case.id, ())
        ]
        data["events"] = events
    return data
