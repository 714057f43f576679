"""`cmtool sla check`: every clock of every open case, and the escalation sweep.

Reading is lock-free and goes through the index: its clock facts (``sla.facts``)
say which open cases have a clock that may be in warning or breach or have a
rung due at ``now``, and only those are built and timed; the others count as
checked, with nothing to report. With ``apply``, the due rungs are re-derived under the workspace lock
from the committed files (another process may have acted meanwhile) and
written in ONE commit naming every case. Idempotent: a rung already in a
case's events is never due again, so a second sweep at the same moment finds
nothing to do and makes no commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cmtool.errors import DirtyWorkspace
from cmtool.model.case import Case
from cmtool.model.enums import OPEN_STATUSES
from cmtool.model.problems import Problem
from cmtool.rules.loader import load_rules
from cmtool.rules.model import Rules
from cmtool.services.codeversion import code_version
from cmtool.services.context import Context, commit_message
from cmtool.sla.clocks import ClockState, evaluate
from cmtool.sla.facts import Stored, about_case, derive, timed
from cmtool.sla.ladder import DueStep, due_step, fired_steps, step_event
from cmtool.store import git as gitops
from cmtool.store import slafacts
from cmtool.store.catalog import ToTime, cases_to_time
from cmtool.store.workspace import Workspace

if TYPE_CHECKING:
    from cmtool.services.asof import PastView
    from cmtool.services.notifications import Delivery

FINDING_STATES = ("warning", "breached")
DEFAULT_LOCK_TIMEOUT = 10.0
OPEN = frozenset(s.value for s in OPEN_STATUSES)


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
    rung: str | None = None  # the highest rung reached: due now, else the last one fired
    addresses: tuple[str | None, ...] = ()  # e-mail of each name in notify (people:)

    @property
    def key(self) -> str:
        return f"{self.clock.case_id} {self.clock.clock}"

    def to_dict(self) -> dict[str, Any]:
        c = self.clock
        return {
            "type": "clock",
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
            "extended_due_at": c.extended_due_at,
            "extends": c.extends,
            "priority": self.priority,
            "team": self.team,
            "assignee": self.assignee,
            "step": self.step,
            "rung": self.rung,
            "notify": list(self.notify),
            "recipients": [
                {"name": name, "email": email}
                for name, email in zip(self.notify, self.addresses, strict=True)
            ],
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
    broken: list[Problem] = field(default_factory=list)  # case files it could not read
    data_commit: str | None = None  # HEAD when the sweep read the cases
    deliveries: list[Delivery] = field(default_factory=list)  # notifications sent, failed, or shown
    now: datetime | None = None  # the moment the clocks were measured at
    as_of: PastView | None = None  # a past view (sla check --as-of): where it looked

    @property
    def breaches(self) -> list[Finding]:
        return [f for f in self.findings if f.clock.state == "breached"]

    @property
    def new_breaches(self) -> list[Finding]:
        return [f for f in self.breaches if f.new]


def sla_check(
    ctx: Context, apply: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, dry_run: bool = False
) -> SweepResult:
    """Every clock of every open case. With ``apply`` the due rungs are committed and
    the people they name are notified (rules.yaml notifications:), and messages that
    failed before are retried; ``dry_run`` shows both without doing either."""
    rules = load_rules(ctx.ws.rules_path)
    data_commit = gitops.head(ctx.ws.root)
    key = facts_key(ctx.ws)
    chosen = cases_to_time(ctx.ws, OPEN, key, deriver(rules), ctx.now)
    result, due_by_case = _sweep_facts(chosen, rules, ctx.now)
    result.cases_checked += chosen.quiet_cases
    result.clocks_checked += chosen.quiet_clocks
    result.broken = chosen.broken
    result.data_commit = data_commit
    if apply and dry_run:
        result.applied = [step for case_id in sorted(due_by_case) for step in due_by_case[case_id]]
    elif apply and due_by_case:
        _apply(ctx, rules, sorted(due_by_case), result, lock_timeout)
    if apply:
        _notify(ctx, rules, result, dry_run)
    return result


def facts_key(ws: Workspace) -> str:
    """What clock facts depend on besides the case file: rules.yaml and the code."""
    return hashlib.sha256(
        ws.rules_path.read_bytes() + code_version("__init__.py", "calendar.py").encode()
    ).hexdigest()


def deriver(rules: Rules) -> Callable[[Case], slafacts.Facts]:
    """The clock facts of a case under ``rules``, as the index keeps them."""

    def facts_of(case: Case) -> slafacts.Facts:
        facts = derive(case, rules)
        return slafacts.Facts(len(facts.clocks), facts.wake, facts.moving, facts.stored())

    return facts_of


def _notify(ctx: Context, rules: Rules, result: SweepResult, dry_run: bool) -> None:
    from cmtool.services.notifications import deliver, step_messages

    cases = {
        f.clock.case_id: {"title": f.title, "priority": f.priority, "team": f.team, "assignee": f.assignee}
        for f in result.findings
    }
    messages, unreachable = step_messages(ctx.ws, rules, result.applied, cases, ctx.now_text)
    result.deliveries = deliver(ctx.ws, rules.notifications, messages, ctx.now_text, dry_run, unreachable)


def sla_check_as_of(ws: Workspace, when: str, now: datetime | None = None) -> SweepResult:
    """What ``sla check`` showed at a past moment: the open cases and rules.yaml of
    the commit ``when`` stands for, clocks as of ``now`` (None: that moment).
    Read only: there is no ``--apply`` on the past."""
    from cmtool.services.asof import cases_as_of, past_view

    view = past_view(ws, when)
    result, _due = _sweep(cases_as_of(ws, view.commit, OPEN), view.rules, now or view.moment)
    result.as_of = view
    return result


def _sweep(
    cases: Iterable[Case], rules: Rules, now: datetime
) -> tuple[SweepResult, dict[str, list[DueStep]]]:
    """Findings of every case, and the rungs due per case ID."""
    result = SweepResult(now=now)
    due_by_case: dict[str, list[DueStep]] = {}
    for case in cases:
        _add(result, due_by_case, case.id, *_check_case(case, rules, now))
    return result, due_by_case


def _sweep_facts(chosen: ToTime, rules: Rules, now: datetime) -> tuple[SweepResult, dict[str, list[DueStep]]]:
    """As ``_sweep`` over the cases chosen, answering from their clock facts where
    those suffice (``sla.facts.timed``) and timing the others in full."""
    stored = {path: Stored.read(facts) for _id, path, facts in chosen.facts if facts}
    answers = {
        path: timed(case_id, stored[path], rules, now) if path in stored else None
        for case_id, path, _f in chosen.facts
    }
    cases = chosen.cases([path for path, answer in answers.items() if answer is None])
    result = SweepResult(now=now)
    due_by_case: dict[str, list[DueStep]] = {}
    for case_id, path, _facts in chosen.facts:
        answer = answers[path]
        if answer is None:
            case = cases.get(path)
            if case is not None:  # None: a commit meanwhile removed it; the next sweep sees that
                _add(result, due_by_case, case_id, *_check_case(case, rules, now))
            continue
        facts = stored[path]
        findings = _findings(answer, facts.fired, facts.case, rules)
        _add(result, due_by_case, case_id, findings, [d for _s, d in answer if d], len(facts.clocks))
    return result, due_by_case


def _add(
    result: SweepResult,
    due_by_case: dict[str, list[DueStep]],
    case_id: str,
    findings: list[Finding],
    due: list[DueStep],
    clocks: int,
) -> None:
    result.cases_checked += 1
    result.clocks_checked += clocks
    result.findings += findings
    if due:
        due_by_case[case_id] = due


def _check_case(case: Case, rules: Rules, now: datetime) -> tuple[list[Finding], list[DueStep], int]:
    """(findings, due rungs, number of clocks) for one case."""
    clocks = evaluate(case, rules, now)
    fired = fired_steps(case)
    answer = [(clock.state, due_step(case, clock, rules, now, fired)) for clock in clocks]
    return _findings(answer, fired, about_case(case), rules), [d for _s, d in answer if d], len(clocks)


def _findings(
    answer: list[tuple[ClockState, DueStep | None]],
    fired: dict[str, set[str]],
    about: dict[str, Any],
    rules: Rules,
) -> list[Finding]:
    """The clocks in warning or breach, with the rung due on each (``answer``), the
    rungs already ``fired`` per clock and what the case is ``about``."""
    levels = {s.name: s.level for s in rules.escalation}
    order = [s.name for s in rules.escalation]
    findings: list[Finding] = []
    for state, due in answer:
        if state.state not in FINDING_STATES or state.advisory:
            continue
        done = fired.get(state.clock, set())
        # New: a breach not yet escalated, a warning without any rung yet.
        breached = state.state == "breached"
        new = not any(levels.get(name, 0) > 0 for name in done) if breached else not done
        reached = max(done, key=lambda name: order.index(name) if name in order else -1, default=None)
        notify = due.notify if due else ()
        findings.append(
            Finding(
                state,
                about["title"],
                about["priority"],
                about["team"],
                about["assignee"],
                new,
                due.step.name if due else None,
                notify,
                due.step.name if due else reached,
                tuple(rules.people[n].email if n in rules.people else None for n in notify),
            )
        )
    return findings


def _apply(ctx: Context, rules: Rules, case_ids: list[str], result: SweepResult, lock_timeout: float) -> None:
    with ctx.transaction(lock_timeout) as tx:
        touched = []
        for case_id in case_ids:
            try:
                case, text = tx.load(case_id)
            except DirtyWorkspace:
                result.skipped.append(case_id)
                continue
            if not case.is_open:
                continue
            ctx.catch_up(case.updated_at)
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
