"""What a cron job logs about a sweep: one JSON object per clock in warning or
breach, one per skipped case file, and one summary per run; and, with
``--changed``, only the clocks that entered a new state or rung since the
previous sweep, judged against the sweep's ledger (``.git/cmtool/``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cmtool.model.problems import Problem
from cmtool.model.timefmt import format_time, parse_time
from cmtool.services.sla_sweep import Finding, SweepResult
from cmtool.store.lock import workspace_lock
from cmtool.store.statefiles import read_json, state_dir, write_json
from cmtool.store.workspace import Workspace

LEDGER = "sla-ledger.json"


def changed_since_last_sweep(ws: Workspace, result: SweepResult, record: bool = True) -> list[Finding]:
    """The findings whose (state, rung) differs from the previous sweep's; with
    ``record``, this sweep becomes the new previous one (a dry run leaves it). A
    clock that left warning or breach is forgotten, so it counts as new if it
    comes back."""
    folder = state_dir(ws)
    folder.mkdir(parents=True, exist_ok=True)
    # Two cron runs overlapping (a slow sweep, a manual one) must not both report
    # a change: the ledger is read, compared and replaced by one sweep at a time.
    with workspace_lock(folder / "sla-ledger.lock"):
        ledger = read_json(ws, LEDGER, {})
        ledger = ledger if isinstance(ledger, dict) else {}
        before = ledger.get("clocks") if isinstance(ledger.get("clocks"), dict) else {}
        now = {f.key: [f.clock.state, f.rung] for f in result.findings}
        changed = [f for f in result.findings if before.get(f.key) != now[f.key]]
        at = format_time(result.now) if result.now else None
        if record and not _newer(ledger.get("swept_at"), result):
            write_json(ws, LEDGER, {"swept_at": at, "clocks": now})
    return changed


def _newer(swept_at: object, result: SweepResult) -> bool:
    """Whether the ledger is from a sweep timed later than this one (which then
    leaves it alone: a slow sweep finishing last must not roll it back)."""
    if not isinstance(swept_at, str) or result.now is None:
        return False
    try:
        return parse_time(swept_at) > result.now
    except ValueError:
        return False


def skipped_file_record(problem: Problem) -> dict[str, Any]:
    return {"type": "skipped_file", **problem.to_dict()}


def summary_record(
    result: SweepResult, shown: Sequence[Finding], seconds: float, changed_only: bool
) -> dict[str, Any]:
    breached = [f for f in result.findings if f.clock.state == "breached"]
    return {
        "type": "summary",
        "time": format_time(result.now) if result.now else None,
        "cases": result.cases_checked,
        "clocks": result.clocks_checked,
        "breached": len(breached),
        "new_breaches": sum(f.new for f in breached),
        "warning": sum(f.clock.state == "warning" for f in result.findings),
        "shown": len(shown),
        "changed_only": changed_only,
        "skipped_files": len(result.broken),
        "skipped_cases": list(result.skipped),
        "applied": len(result.applied),
        "notifications": {
            status: sum(d.status == status for d in result.deliveries)
            for status in ("sent", "failed", "no_address", "dry_run")
        },
        "commit": result.commit,
        "data_commit": result.data_commit,
        "duration_seconds": round(seconds, 3),
    }
