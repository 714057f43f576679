"""Filing and assigning: the actions that rules.yaml drives.

On `file`, rules.yaml may choose the category (from keywords), the priority
(first matching rule), regulatory regimes (``apply_when``) and the owner
(routing). Each decision is its own event naming the rule, all in the filing's
one commit, so the timeline shows what a person said and what the rules did.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from cmtool.errors import UsageError
from cmtool.model.case import Case
from cmtool.model.enums import OPEN_STATUSES
from cmtool.model.events import Event
from cmtool.model.transitions import next_status
from cmtool.rules import engine
from cmtool.rules.loader import load_rules
from cmtool.rules.model import Rules
from cmtool.services import lifecycle
from cmtool.services.context import Context, commit_message
from cmtool.store.casefiles import resolve_id
from cmtool.store.catalog import team_workload
from cmtool.store.workspace import Workspace


def file_complaint(ctx: Context, fields: Mapping[str, Any]) -> Case:
    rules = load_rules(ctx.ws.rules_path)
    _check_category(rules, fields)
    return lifecycle.file_case(ctx, fields, on_filed=lambda tx, case: apply_rules(ctx, rules, fields, case))


def filed_case(
    ctx: Context, rules: Rules, fields: Mapping[str, Any], details: Mapping[str, Any] | None = None
) -> Case:
    """A new case as ``file`` makes it (rules applied), not yet written: for a way
    in that files several cases in one commit. Call it under the workspace lock."""
    _check_category(rules, fields)
    case = lifecycle.new_case(ctx, lifecycle.filing_state(fields), details)
    return apply_rules(ctx, rules, fields, case)


def _check_category(rules: Rules, fields: Mapping[str, Any]) -> None:
    if fields.get("category") and rules.categories and rules.category(fields["category"]) is None:
        known = ", ".join(c.key for c in rules.categories)
        raise UsageError(f"--category {fields['category']!r} is not in rules.yaml ({known})")


def apply_rules(ctx: Context, rules: Rules, fields: Mapping[str, Any], case: Case) -> Case:
    """The rule-driven events of a filing: category, priority, regimes, routing."""
    now = ctx.now_text
    if not fields.get("category"):
        case = _decide(case, engine.classify(case.state, rules), "classify", "category", ctx)
    if not fields.get("priority"):
        case = _decide(case, engine.prioritize(case.state, rules), "prioritize", "priority", ctx)
    for decision in engine.regimes_for(case.state, rules):
        regimes = [*(case.get("regimes") or []), decision.value]
        change = {"regimes": (case.state.get("regimes"), regimes)}
        case = case.with_event(
            Event(now, ctx.actor, "apply_regime", MappingProxyType(change), decision.why, decision.rule)
        )
    if rules.assign_on_file:
        event = _routing_event(ctx.ws, case, rules, ctx.actor, ctx.now)
        if event is not None:
            case = case.with_event(event)
    return case


def _decide(case: Case, decision: engine.Decision | None, action: str, name: str, ctx: Context) -> Case:
    if decision is None or case.state.get(name) == decision.value:
        return case
    change = {name: (case.state.get(name), decision.value)}
    return case.with_event(
        Event(ctx.now_text, ctx.actor, action, MappingProxyType(change), decision.why, decision.rule)
    )


def _routing_event(ws: Workspace, case: Case, rules: Rules, actor: str, now: datetime) -> Event | None:
    """An ``assign`` event naming the routing rule; None when no team can take it."""
    team_name = engine.team_for(case.state, rules)
    team = rules.teams.get(team_name or "")
    if team is None or not team.members:  # a new team's teams name nobody until people are added
        return None
    open_statuses = [s.value for s in OPEN_STATUSES]
    workload = {
        member: (load.open_cases, load.last_assigned_at)
        for member, load in team_workload(ws, team.name, team.members, open_statuses).items()
    }
    current = case.get("assignee")
    if case.is_open and current in workload:  # re-routing: the case itself is no extra load
        count, last = workload[current]
        workload[current] = (max(0, count - 1), last)
    assignee = engine.pick_assignee(team, workload)
    changes: dict[str, tuple[Any, Any]] = {}
    for name, value in (("team", team.name), ("assignee", assignee)):
        if case.state.get(name) != value:
            changes[name] = (case.state.get(name), value)
    if not changes:
        return None
    status = next_status("assign", case.status, case.id)
    if status != case.status:
        changes["status"] = (case.status.value, status.value)
    return Event(
        now.isoformat(timespec="seconds"),
        actor,
        "assign",
        MappingProxyType(changes),
        f"routed to team {team.name} ({team.strategy.replace('_', ' ')})",
        f"routing.{team.name}.{team.strategy}",
    )


def assign_case(ctx: Context, ref: str, to: str | None, auto: bool, reason: str | None) -> Case:
    if auto and to:
        raise UsageError("use either --to NAME or --auto, not both")
    if not auto:
        if not to:
            raise UsageError("name the new owner with --to, or let rules.yaml choose with --auto")
        return lifecycle.assign(ctx, ref, to, reason)
    rules = load_rules(ctx.ws.rules_path)
    case_id = resolve_id(ctx.ws, ref)
    with ctx.transaction() as tx:
        case, text = tx.load(case_id)
        ctx.not_before(case.updated_at, case_id)
        event = _routing_event(ctx.ws, case, rules, ctx.actor, ctx.now)
        if event is None:
            team = engine.team_for(case.state, rules)
            raise UsageError(
                f"routing keeps {case_id} with {case.get('assignee')} (team {team}); nothing to change"
            )
        if reason:
            event = Event(
                event.at,
                event.actor,
                event.action,
                event.changes,
                f"{event.note}; {reason.strip()}",
                event.rule,
            )
        updated = case.with_event(event)
        tx.put(updated, text)
        who = updated.get("assignee")
        tx.commit(
            commit_message(f"assign {case_id}: routed to {who}", "assign", ctx.actor, [case_id]),
            ctx.identity,
            ctx.now_text,
        )
    return updated
