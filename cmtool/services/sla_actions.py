"""`cmtool sla extend`, `cmtool sla exclude` and `cmtool note --holding-reply`:
regime extensions, excluded periods and holding replies, each one event (with
its reason) and one commit. The clocks read these events; nothing else about
the deadline is stored.

Extensions and holding replies are time-bound: recorded after the deadline they
answer, they are refused unless the user says it is late (``late=True`` with a
reason); the clocks then keep the missed deadline as a breach either way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import MappingProxyType

from cmtool.errors import InvalidTransition, TooLate, UsageError
from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.model.timefmt import format_time, parse_time
from cmtool.model.transitions import next_status
from cmtool.rules.loader import load_rules
from cmtool.services.context import Context, commit_message
from cmtool.sla.clocks import case_clocks, clock_specs, due_at
from cmtool.sla.periods import EXCLUDE, EXTEND, HOLDING_REPLY, NOTE, case_periods
from cmtool.store.casefiles import resolve_id


def extend_clock(
    ctx: Context,
    ref: str,
    clock: str,
    reason: str,
    approved_by: str | None = None,
    late: bool = False,
) -> Case:
    """Move a regime clock to its next allowed target (e.g. 15 -> 30 days), by the
    moment it falls due; ``late`` records an extension after it (the breach stays)."""
    why = _required(reason, "--reason")
    rules = load_rules(ctx.ws.rules_path)

    def build(case: Case) -> Event:
        specs = {name: spec for name, _source, spec, _cal in clock_specs(case, rules)}
        spec = specs.get(clock)
        if spec is None:
            raise UsageError(f"{case.id} has no clock {clock!r} (clocks: {', '.join(specs) or 'none'})")
        if not spec.extensions:
            raise UsageError(f"clock {clock} cannot be extended")
        done = len(case_periods(case).extensions.get(clock, []))
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
        due = due_at(case, rules, clock, ctx.now)
        details |= _timeliness(ctx, case, f"the extension of {clock}", due, late, "--reason")
        return Event(ctx.now_text, ctx.actor, EXTEND, note=why, details=MappingProxyType(details))

    return _append(ctx, ref, EXTEND, build, lambda e: f"{clock} extended to {e.details['target']}")


def holding_reply(ctx: Context, ref: str, text: str, late: bool = False, reason: str | None = None) -> Case:
    """A note to the customer that is a holding reply (why the final response is
    delayed and when it will come): it stops the regime's holding-reply clock and,
    like any note, the first-response clock. Due with the clock it answers."""
    body = _required(text, "the holding reply's text")
    if late:
        why = _required(reason, "--reason")
    elif reason:
        raise UsageError("--reason goes with --late (why the holding reply is late)")
    rules = load_rules(ctx.ws.rules_path)

    def build(case: Case) -> Event:
        names = [name for name, _s, spec, _c in clock_specs(case, rules) if spec.stop == HOLDING_REPLY]
        if not names:
            raise UsageError(
                f"no clock of {case.id} takes a holding reply "
                "(fca_disp_payments does: cmtool edit ID --regime fca_disp_payments)"
            )
        if not case.is_open:
            raise InvalidTransition(f"cannot send a holding reply on {case.id}: it is {case.status.value}")
        details: dict[str, object] = {HOLDING_REPLY: True}
        if not case_periods(case).holding_replies:  # only the first one answers a deadline
            dues = [due for name in names if (due := due_at(case, rules, name, ctx.now)) is not None]
            details |= _timeliness(
                ctx, case, "a holding reply", min(dues) if dues else None, late, "--reason"
            )
        elif late:
            raise UsageError(f"{case.id} already had a holding reply in time: drop --late")
        if late:
            details["late_reason"] = why
        changes = {}
        if case.is_open and not case.get("first_response_at"):
            changes["first_response_at"] = (None, ctx.now_text)
        status = next_status(NOTE, case.status, case.id)
        if status != case.status:
            changes["status"] = (case.status.value, status.value)
        return Event(
            ctx.now_text, ctx.actor, NOTE, MappingProxyType(changes), body, details=MappingProxyType(details)
        )

    return _append(ctx, ref, NOTE, build, lambda e: "holding reply" + (" (late)" if late else ""))


def holding_replies_due(ctx: Context, case: Case) -> list[str]:
    """Due moments of the holding-reply clocks of ``case`` still waiting for one."""
    rules = load_rules(ctx.ws.rules_path)
    names = {name for name, _s, spec, _c in clock_specs(case, rules) if spec.stop == HOLDING_REPLY}
    return [
        clock.due_at or ""
        for clock in case_clocks(case, rules, ctx.now)
        if clock.clock in names and clock.stopped_at is None
    ]


def _timeliness(
    ctx: Context, case: Case, what: str, due: datetime | None, late: bool, reason_flag: str
) -> dict[str, object]:
    """Refuse what comes after ``due`` unless ``late``; refuse ``late`` when in time.
    The details a late record carries: ``late: true`` and the deadline it missed."""
    overdue = due is not None and ctx.now > due
    if overdue and not late:
        raise TooLate(
            f"too late for {what} on {case.id}: due by {format_time(due)}, it is now {ctx.now_text}",
            hint=f"to record it anyway, say it is late: --late with {reason_flag} saying why "
            "(the missed deadline stays a breach)",
        )
    if late and not overdue:
        deadline = format_time(due) if due else "no deadline"
        raise UsageError(f"{what} on {case.id} is not late (due by {deadline}): drop --late")
    return {"late": True, "missed_due_at": format_time(due)} if overdue and due else {}


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
        if action != NOTE:
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
