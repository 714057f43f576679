"""`cmtool sla extend` and `cmtool sla exclude`: regime extensions and excluded
periods, each one event (with its reason) and one commit. The clocks read
these events; nothing else about the deadline is stored."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from cmtool.errors import UsageError
from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.model.timefmt import format_time, parse_time
from cmtool.model.transitions import next_status
from cmtool.rules.loader import load_rules
from cmtool.services.context import Context, commit_message
from cmtool.sla.clocks import clock_specs
from cmtool.sla.periods import EXCLUDE, EXTEND, case_periods
from cmtool.store.casefiles import resolve_id


def extend_clock(ctx: Context, ref: str, clock: str, reason: str, approved_by: str | None = None) -> Case:
    """Move a regime clock to its next allowed target (e.g. 15 -> 30 days)."""
    why = _required(reason, "--reason")
    rules = load_rules(ctx.ws.rules_path)

    def build(case: Case) -> Event:
        specs = {name: spec for name, _source, spec, _cal in clock_specs(case, rules)}
        spec = specs.get(clock)
        if spec is None:
            raise UsageError(f"{case.id} has no clock {clock!r} (clocks: {', '.join(specs) or 'none'})")
        if not spec.extensions:
            raise UsageError(f"clock {clock} cannot be extended")
        done = case_periods(case).extensions.get(clock, 0)
        if done >= len(spec.extensions):
            raise UsageError(
                f"clock {clock} of {case.id} is already at its longest target ({spec.extensions[-1].target})"
            )
        step = spec.extensions[done]
        if step.needs_approval and not (approved_by or "").strip():
            raise UsageError(f"extending {clock} to {step.target} needs approval: add --approved-by NAME")
        details = {"clock": clock, "target": str(step.target), "extension": done + 1}
        if approved_by:
            details["approved_by"] = approved_by.strip()
        return Event(ctx.now_text, ctx.actor, EXTEND, note=why, details=MappingProxyType(details))

    return _append(ctx, ref, EXTEND, build, lambda e: f"{clock} extended to {e.details['target']}")


def exclude_period(
    ctx: Context, ref: str, start: str, end: str, reason: str, clock: str | None = None
) -> Case:
    """Record a period a regime does not count (appraisal, testing, evaluation)."""
    why = _required(reason, "--reason")
    try:
        begin, finish = parse_time(start), parse_time(end)
    except ValueError as exc:
        raise UsageError(f"--from/--to: {exc}") from None
    if finish <= begin:
        raise UsageError(f"--to {end} must be after --from {start}")
    rules = load_rules(ctx.ws.rules_path)

    def build(case: Case) -> Event:
        excludable = [name for name, _s, spec, _c in clock_specs(case, rules) if spec.excludable]
        if clock is not None and clock not in excludable:
            raise UsageError(
                f"{case.id} has no clock {clock!r} that allows excluded periods "
                f"(allowed: {', '.join(excludable) or 'none'})"
            )
        if not excludable:
            raise UsageError(
                f"no clock of {case.id} allows excluded periods "
                "(China banking/insurance regimes do: --regime cn_banking)"
            )
        if begin < parse_time(case.get("filed_at")):
            raise UsageError(f"--from {start} is before {case.id} was filed")
        details = {"from": format_time(begin), "to": format_time(finish)}
        if clock:
            details["clock"] = clock
        return Event(ctx.now_text, ctx.actor, EXCLUDE, note=why, details=MappingProxyType(details))

    return _append(ctx, ref, EXCLUDE, build, lambda e: f"excluded {e.details['from']} to {e.details['to']}")


def _append(
    ctx: Context,
    ref: str,
    action: str,
    build: Callable[[Case], Event],
    summary: Callable[[Event], str],
) -> Case:
    case_id = resolve_id(ctx.ws, ref)
    with ctx.transaction() as tx:
        case, text = tx.load(case_id)
        next_status(action, case.status, case_id)  # refuses a resolved or closed case
        ctx.not_before(case.updated_at, case_id)
        event = build(case)
        updated = case.with_event(event)
        tx.put(updated, text)
        tx.commit(
            commit_message(f"{action} {case_id}: {summary(event)}", action, ctx.actor, [case_id]),
            ctx.identity,
            ctx.now_text,
        )
    return updated


def _required(value: str | None, name: str) -> str:
    if value is None or not value.strip():
        raise UsageError(f"{name} must not be empty")
    return value.strip()
