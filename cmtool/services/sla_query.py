"""SLA views for `list --overdue / --due-within` and `show`: clocks as of a moment."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime

from cmtool.errors import UsageError
from cmtool.model.case import Case
from cmtool.model.enums import OPEN_STATUSES
from cmtool.rules.loader import load_rules
from cmtool.sla.clocks import ClockState, case_clocks
from cmtool.store.catalog import all_cases
from cmtool.store.workspace import Workspace

_WINDOW_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|d|w)\s*$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
RUNNING = ("ok", "warning", "breached", "paused")


def parse_window(text: str) -> float:
    """``4h`` -> 14400.0 seconds of wall time (m, h, d, w)."""
    match = _WINDOW_RE.match(text or "")
    if not match:
        raise UsageError(f"--due-within {text!r}: write an amount and a unit, e.g. 30m, 4h, 2d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def clocks_of(ws: Workspace, case: Case, now: datetime) -> list[ClockState]:
    return case_clocks(case, load_rules(ws.rules_path), now)


def urgent_clocks(
    ws: Workspace, now: datetime, overdue: bool, within: float | None, states: Collection[str] = ()
) -> dict[str, ClockState]:
    """case ID -> its most urgent running clock that is overdue (``overdue``), falls
    due within ``within`` seconds of wall time, or is in one of ``states`` (ok,
    warning, breached, paused). Advisory clocks never count."""
    rules = load_rules(ws.rules_path)
    found: dict[str, ClockState] = {}
    for case in all_cases(ws, statuses={s.value for s in OPEN_STATUSES}, skip_broken=True):
        for clock in case_clocks(case, rules, now):
            if clock.advisory or clock.state not in RUNNING or clock.wall_seconds_left is None:
                continue
            left = clock.wall_seconds_left
            late = clock.state == "breached"
            if (
                (overdue and late)
                or (within is not None and not late and left <= within)
                or clock.state in states
            ):
                best = found.get(case.id)
                if best is None or left < (best.wall_seconds_left or 0):
                    found[case.id] = clock
    return found
