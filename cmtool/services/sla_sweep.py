"""`cmtool sla check`: every clock of every open case, and the escalation sweep.

Reading is lock-free and goes through ``store.catalog.all_cases`` (the fast
path). With ``apply``, the due rungs are re-derived under the workspace lock
from the committed files (another process may have acted meanwhile) and
written in ONE commit naming every case. Idempotent: a rung already in a
case's events is never due again, so a second sweep at the same moment finds
nothing to do and makes no commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmtool.errors import DirtyWorkspace
from cmtool.model.case import Case
from cmtool.model.enums import OPEN_STATUSES
from cmtool.rules.loader import load_rules
from cmtool.rules.model import Rules
from cmtool.services.context import Context, commit_message
from cmtool.sla.clocks import ClockState, evaluate
from cmtool.sla.ladder import DueStep, due_step, fired_steps, step_event
from cmtool.store.catalog import all_cases
from cmtool.store.transaction import transaction

FINDING_STATES = ("warning", "breached")
DEFAULT_LOCK_TIMEOUT = 10.0


@dataclass(frozen=True)
class Finding:
    """A clock in warning or breach, with what a notifier needs."""

    clock: ClockState
    title: str | None
    priority: str | None
    team: str | None
    assignee: str | None
    new: bool  # breached: no escalation recorded yet; warning: no rung recorded yet
    step: str | None  # the rung due now (or applied by this sweep)
    notify: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        c = self.clock
        return {
            "case_id": c.case_id,
            "clock": c.clock,
            "source": c.source,
            "state": c.state,
            "new": self.new,
            "due_at": c.due_at,
            "started_at": c.started_at,
            "business_seconds_left": c.business_seconds_left,
            "wall_seconds_left": c.wall_seconds_left,
            "paused_seconds": c.paused_seconds,
            "target": c.target,
            "calendar": c.calendar,
            "priority": self.priority,
            "team": self.team,
            "assignee": self.assignee,
            "step": self.step,
            "notify": list(self.notify),
            "title": self.title,
        }


@dataclass
class SweepResult:
    cases_checked: int = 0
    clocks_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    applied: list[DueStep] = field(default_factory=list)
    commit: str | None = None
    skipped: list[str] = field(default_factory=list)  # cases with uncommitted hand edits

    @property
    def breaches(self) -> list[Finding]:
        return [f for f in self.findings if f.clock.state == "breached"]

    @property
    def new_breaches(self) -> list[Finding]:
        return [f for f in self.breaches if f.new]


def sla_check(
    ctx: Context, apply: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> SweepResult:
    rules = load_rules(ctx.ws.rules_path)
    result = SweepResult()
    due_by_case: dict[str, list[DueStep]] = {}
    for case in all_cases(ctx.ws, statuses={s.value for s in OPEN_STATUSES}):
        result.cases_checked += 1
        findings, due, clocks = _check_case(case, rules, ctx)
        result.clocks_checked += clocks
        result.findings += findings
        if due:
            due_by_case[case.id] = due
    if apply and due_by_case:
        _apply(ctx, rules, sorted(due_by_case), result, lock_timeout)
    return result


def _check_case(case: Case, rules: Rules, ctx: Context) -> tuple[list[Finding], list[DueStep], int]:
    """(findings, due rungs, number of clocks) for one case."""
    clocks = evaluate(case, rules, ctx.now)
    fired = fired_steps(case)
    findings: list[Finding] = []
    due_steps = []
    for clock in clocks:
        due = due_step(case, clock, rules, ctx.now, fired)
        if due is not None:
            due_steps.append(due)
        state = clock.state
        if state.state not in FINDING_STATES or state.advisory:
            continue
        done = fired.get(state.clock, set())
        if state.state == "breached":
            levels = {s.name: s.level for s in rules.escalation}
            new = not any(levels.get(name, 0) > 0 for name in done)
        else:
            new = not done
        findings.append(
            Finding(
                state,
                case.get("title"),
                case.get("priority"),
                case.get("team"),
                case.get("assignee"),
                new,
                due.step.name if due else None,
                due.notify if due else (),
            )
        )
    return findings, due_steps, len(clocks)


def _apply(
    ctx: Context, rules: Rules, case_ids: list[str], result: SweepResult, lock_timeout: float
) -> None:
    with transaction(ctx.ws, timeout=lock_timeout) as tx:
        touched = []
        for case_id in case_ids:
            try:
                case, text = tx.load(case_id)
            except DirtyWorkspace:
                result.skipped.append(case_id)
                continue
            if not case.is_open:
                continue
            fired = fired_steps(case)
            updated = case
            for clock in evaluate(case, rules, ctx.now):
                due = due_step(updated, clock, rules, ctx.now, fired)
                if due is not None:
                    updated = updated.with_event(step_event(updated, due, ctx.actor, ctx.now))
                    result.applied.append(due)
            if updated is not case:
                tx.put(updated, text)
                touched.append(case_id)
        if touched:
            summary = f"sla sweep: {len(result.applied)} escalation steps on {len(touched)} cases"
            result.commit = tx.commit(
                commit_message(summary, "sla_sweep", ctx.actor, touched), ctx.identity, ctx.now_text
            )
