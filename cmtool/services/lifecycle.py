"""The case lifecycle: file, assign, note, wait, resume, escalate, edit, resolve,
close, reopen. Each is one event and one commit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from cmtool.errors import UsageError
from cmtool.model.case import Case
from cmtool.model.enums import Channel, Priority, Status
from cmtool.model.events import Event
from cmtool.model.fields import EDITABLE, FIELD_NAMES, FIELDS_BY_NAME
from cmtool.model.ids import new_id
from cmtool.model.schema import value_error
from cmtool.model.timefmt import parse_time
from cmtool.model.transitions import TRANSITIONS, next_status
from cmtool.services.context import Context, commit_message, file_summary
from cmtool.store.casefiles import resolve_id
from cmtool.store.transaction import Transaction

Changes = dict[str, tuple[Any, Any]]


def changes_between(case_state: Mapping[str, Any], updates: Mapping[str, Any]) -> Changes:
    """``field -> (old, new)`` for the updates that really change something."""
    return {
        name: (case_state.get(name), value)
        for name, value in updates.items()
        if case_state.get(name) != value
    }


def check_choice(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    spec = FIELDS_BY_NAME[name]
    if spec.choices and value not in spec.choices:
        raise UsageError(f"{name} {value!r} is not one of: {', '.join(spec.choices)}")
    return value


def _text(value: str | None, name: str, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise UsageError(f"{name} must not be empty")
        return None
    return value.strip() if "\n" not in value.strip() else value.strip() + "\n"


def check_value(name: str, value: Any, option: str | None = None) -> Any:
    """``value`` if state field ``name`` can hold it (the checks validate applies to
    the file); else a usage error naming the option, so nothing stuck is committed."""
    problem = value_error(name, value)
    if problem:
        raise UsageError(f"{option or '--' + name.replace('_', '-')}: {problem}")
    return value


def _line(value: str | None, name: str, option: str, required: bool = False) -> str | None:
    """A one-line option for state field ``name``: trimmed, no line breaks or controls."""
    if value is None or not value.strip():
        if required:
            raise UsageError(f"{option} must not be empty")
        return None
    return check_value(name, value.strip(), option)


def _refuse_blank(name: str, value: Any) -> None:
    """Whitespace is not a value: a blank customer name would look filled in."""
    if isinstance(value, str) and value and not value.strip():
        raise UsageError(f"--{name.replace('_', '-')} is blank", hint="give a value or leave the option out")


def file_case(
    ctx: Context, fields: Mapping[str, Any], on_filed: Callable[[Transaction, Case], Case] | None = None
) -> Case:
    """File a new case; ``on_filed`` may add rule-driven events in the same commit."""
    state = filing_state(fields)
    with ctx.transaction() as tx:
        case = new_case(ctx, state)
        if on_filed is not None:
            case = on_filed(tx, case)
        tx.put(case, None)
        tx.commit(
            commit_message(file_summary(ctx.ws, case.id, state["title"]), "file", ctx.actor, [case.id]),
            ctx.identity,
            ctx.now_text,
        )
    return case


def filing_state(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The state a filing starts from, each field checked (UsageError when wrong)."""
    title = _text(fields.get("title"), "title", required=True)
    if "\n" in (title or ""):
        raise UsageError("title must be one line (put details in --description)")
    state: dict[str, Any] = {"title": title, "status": Status.NEW.value}
    for name, value in fields.items():
        if name in ("title", "status") or value in (None, "", []):
            continue
        if name not in FIELDS_BY_NAME:
            raise UsageError(f"unknown field {name!r}")
        _refuse_blank(name, value)
        state[name] = check_value(name, check_choice(name, value) if isinstance(value, str) else value)
    state["priority"] = check_choice("priority", state.get("priority") or Priority.NORMAL.value)
    state["channel"] = check_choice("channel", state.get("channel") or Channel.OTHER.value)
    if "description" in state:
        state["description"] = _text(state["description"], "description")
    return state


def new_case(ctx: Context, state: Mapping[str, Any], details: Mapping[str, Any] | None = None) -> Case:
    """A new case with its ``file`` event, dated now; called under the workspace
    lock (the ID is checked against the files there). ``details``: further keys
    of the event (the e-mail's Message-ID)."""
    fresh = dict(state)
    fresh["filed_at"] = fresh.get("filed_at") or ctx.now_text
    fresh = {name: fresh[name] for name in FIELD_NAMES if name in fresh}
    event = Event(
        ctx.now_text,
        ctx.actor,
        "file",
        MappingProxyType({name: (None, value) for name, value in fresh.items()}),
        None,
        None,
        MappingProxyType(dict(details or {})),
    )
    case_id = new_id(parse_time(fresh["filed_at"]))
    while ctx.ws.case_path(case_id).exists():
        case_id = new_id(parse_time(fresh["filed_at"]))
    return Case(case_id, MappingProxyType({}), ()).with_event(event)


def act(ctx: Context, ref: str, action: str, build: Callable[[Case], tuple[Any, ...]], summary: str) -> Case:
    """Load a case under the lock, append the event ``build`` describes, commit.

    ``build`` returns (changes, note) or (changes, note, details): details are
    further keys of the event, such as the event an undo reverts. An action with
    no entry in the transition table (undo, correct) moves no status by itself."""
    case_id = resolve_id(ctx.ws, ref)
    with ctx.transaction() as tx:
        case, text = tx.load(case_id)
        ctx.not_before(case.updated_at, case_id)
        changes, note, *more = build(case)
        if action in TRANSITIONS:
            status = next_status(action, case.status, case_id)
            if status != case.status:
                changes["status"] = (case.status.value, status.value)
        details = MappingProxyType(dict(more[0])) if more else MappingProxyType({})
        event = Event(ctx.now_text, ctx.actor, action, MappingProxyType(changes), note, None, details)
        updated = case.with_event(event)
        tx.put(updated, text)
        tx.commit(
            commit_message(
                f"{action} {case_id}: {summary}" if summary else f"{action} {case_id}",
                action,
                ctx.actor,
                [case_id],
            ),
            ctx.identity,
            ctx.now_text,
        )
    return updated


def assign(ctx: Context, ref: str, to: str, reason: str | None = None) -> Case:
    assignee = _line(to, "assignee", "--to", required=True)

    def build(case: Case) -> tuple[Changes, str | None]:
        if case.get("assignee") == assignee:
            raise UsageError(f"{case.id} is already assigned to {assignee}")
        return changes_between(case.state, {"assignee": assignee}), _text(reason, "reason")

    return act(ctx, ref, "assign", build, f"assigned to {assignee}")


def note(
    ctx: Context, ref: str, text: str, internal: bool = False, details: Mapping[str, Any] | None = None
) -> Case:
    """A note; a customer-facing one (not ``internal``) is a contact and the first
    one stops the first-response clock. ``details``: further keys of the event
    (a letter's kind and hash)."""
    body = _text(text, "note text", required=True)

    def build(case: Case) -> tuple[Any, ...]:
        updates = {}
        if not internal and case.is_open and not case.get("first_response_at"):
            updates["first_response_at"] = ctx.now_text
        return (changes_between(case.state, updates), body, *([dict(details)] if details else []))

    action = "internal_note" if internal else "note"
    return act(ctx, ref, action, build, "")


def wait(ctx: Context, ref: str, reason: str) -> Case:
    why = _line(reason, "waiting_reason", "--reason", required=True)
    return act(
        ctx,
        ref,
        "wait",
        lambda case: (changes_between(case.state, {"waiting_reason": why}), None),
        "waiting",
    )


def resume(ctx: Context, ref: str, note_text: str | None = None) -> Case:
    return act(
        ctx,
        ref,
        "resume",
        lambda case: (changes_between(case.state, {"waiting_reason": None}), _text(note_text, "note")),
        "resumed",
    )


def escalate(ctx: Context, ref: str, to: str, reason: str) -> Case:
    target = _line(to, "assignee", "--to", required=True)
    why = _text(reason, "--reason", required=True)

    def build(case: Case) -> tuple[Changes, str | None]:
        level = int(case.get("escalation_level", 0)) + 1
        return changes_between(case.state, {"assignee": target, "escalation_level": level}), why

    return act(ctx, ref, "escalate", build, f"escalated to {target}")


def edit(
    ctx: Context, ref: str, updates: Mapping[str, Any], reason: str | None = None, correct: bool = False
) -> Case:
    """Change fields. ``correct``: the old values were a mistake, not a change of
    mind; the event (``correct``) names the event that set them and needs a reason."""
    if correct and not (reason or "").strip():
        raise UsageError("a correction needs --reason: say what was wrong")
    if not updates:
        raise UsageError("nothing to edit", hint="name a field, e.g. --priority high")
    for name, value in updates.items():
        if name not in EDITABLE:
            raise UsageError(f"{name} cannot be edited (editable: {', '.join(EDITABLE)})")
        if isinstance(value, str):
            check_choice(name, value)
        _refuse_blank(name, value)
        if name == "title":
            _text(value, "title", required=True)
        check_value(name, value.strip() if isinstance(value, str) else value)

    def build(case: Case) -> tuple[Changes, str | None]:
        changes = changes_between(case.state, updates)
        if not changes:
            raise UsageError(f"{case.id} already has these values; nothing to change")
        if correct:
            return changes, _text(reason, "reason"), {"corrects": last_setting(case, changes)}
        return changes, _text(reason, "reason")

    action = "correct" if correct else "edit"
    return act(ctx, ref, action, build, ", ".join(_edited(k, v) for k, v in updates.items()))


def _edited(name: str, value: Any) -> str:
    """How an edit is named in its commit summary: values of choice fields only,
    since free text may be personal (the case file holds it, sealed if so)."""
    return f"{name}={value}" if FIELDS_BY_NAME[name].choices else name


def last_setting(case: Case, fields: Mapping[str, Any]) -> int | None:
    """The number (1-based) of the last event that set any of ``fields``."""
    for number in range(len(case.events), 0, -1):
        if fields.keys() & case.events[number - 1].changes.keys():
            return number
    return None


def resolve(
    ctx: Context,
    ref: str,
    resolution: str,
    remedy: str | None = None,
    redress: float | str | None = None,
    upheld: bool | None = None,
    currency: str | None = None,
) -> Case:
    """``redress`` may carry its currency (``800 CNY``); ``currency`` names it apart.
    Without either, the redress is in the regime's or workspace's currency."""
    text = _text(resolution, "--resolution", required=True)
    updates: dict[str, Any] = {"resolution": text, "resolved_at": None, "waiting_reason": None}
    if remedy:
        updates["remedy"] = _line(remedy, "remedy", "--remedy")
    if redress is not None:
        updates.update(_redress(redress, currency))
        check_value("redress", updates["redress"])
    elif currency is not None:
        raise UsageError("--currency needs --redress")
    if upheld is not None:
        updates["upheld"] = upheld
    return act(
        ctx,
        ref,
        "resolve",
        lambda case: (changes_between(case.state, {**updates, "resolved_at": ctx.now_text}), None),
        "resolved",
    )


def _redress(redress: float | str, currency: str | None) -> dict[str, Any]:
    from cmtool.model.money import currency_code, parse_money

    try:
        amount, code = parse_money(redress)
        given = currency_code(currency) if currency is not None else None
    except ValueError as exc:
        raise UsageError(f"--redress: {exc}") from None
    if code and given and code != given:
        raise UsageError(f"--redress says {code} but --currency says {given}")
    updates: dict[str, Any] = {"redress": int(amount) if amount == int(amount) else amount}
    if code or given:
        updates["redress_currency"] = code or given
    return updates


def close(ctx: Context, ref: str, note_text: str | None = None) -> Case:
    return act(
        ctx,
        ref,
        "close",
        lambda case: (changes_between(case.state, {"closed_at": ctx.now_text}), _text(note_text, "note")),
        "closed",
    )


def reopen(ctx: Context, ref: str, reason: str) -> Case:
    why = _text(reason, "--reason", required=True)
    updates = {"resolved_at": None, "closed_at": None}
    return act(ctx, ref, "reopen", lambda case: (changes_between(case.state, updates), why), "reopened")
