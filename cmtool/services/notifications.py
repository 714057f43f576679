"""Who is told what, once: messages for the rungs a sweep fired and for
assignments and escalations, rendered from ``templates/messages/`` and sent
through ``cmtool.notify``.

Every attempt is recorded in ``.git/cmtool/notifications.jsonl`` (case, clock,
rung, channel, recipient, time, status): a message already sent is never sent
again, and one that failed is retried by the next sweep (its text is kept with
the failure, so the retry says what the first attempt would have said).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.notify import Channel, DeliveryError, Message
from cmtool.rules.build_notify import NotifySettings
from cmtool.rules.loader import load_rules
from cmtool.rules.model import Rules
from cmtool.services.context import Context
from cmtool.services.need_to_know import hidden_for, hidden_from_anyone, masked_note, masked_row
from cmtool.store.lock import workspace_lock
from cmtool.store.statefiles import append_lines, read_lines, state_dir
from cmtool.store.workspace import Workspace

if TYPE_CHECKING:  # the ladder (and the clocks it imports) only for a sweep's messages
    from jinja2.sandbox import ImmutableSandboxedEnvironment as Environment

    from cmtool.sla.ladder import DueStep

RECORD = "notifications.jsonl"
KEY_FIELDS = ("case_id", "clock", "rung", "channel", "recipient")


@dataclass(frozen=True)
class Delivery:
    message: Message
    status: str  # sent | failed | dry_run | no_address | dropped (its channel left rules.yaml)
    error: str | None
    at: str

    def to_dict(self) -> dict[str, Any]:
        m = self.message
        return {
            "type": "notification",
            **{name: m.facts.get(name) for name in ("case_id", "clock", "rung")},
            "channel": m.channel,
            "recipient": m.recipient,
            "status": self.status,
            "error": self.error,
            "subject": m.subject,
            "time": self.at,
        }


def _key(message: Message) -> tuple[str, ...]:
    facts = {**message.facts, "channel": message.channel, "recipient": message.recipient}
    return tuple(str(facts.get(name)) for name in KEY_FIELDS)


def step_messages(
    ws: Workspace, rules: Rules, steps: Sequence[DueStep], cases: Mapping[str, Mapping[str, Any]], now: str
) -> tuple[list[Message], list[Message]]:
    """(messages to send, messages nobody can receive: a name without an e-mail)
    for the rungs ``steps`` fired; ``cases`` gives each case's fields by ID."""
    settings = rules.notifications
    if settings is None:
        return [], []
    out: list[Message] = []
    unreachable: list[Message] = []
    readers, env = _Readers(ws), _environment(ws)
    for step in steps:
        event = "sla_warn" if step.step.level == 0 else "sla_escalate"
        if event not in settings.events:
            continue
        case = {"id": step.case_id, **cases.get(step.case_id, {})}
        render = partial(_sla_alert, env, settings.language, now, case, step)
        facts = {
            "case_id": step.case_id,
            "clock": step.clock,
            "rung": step.step.name,
            "state": step.state,
            "due_at": step.due_at,
            "notify": list(step.notify),
        }
        sent, missing = _addressed(readers, rules, settings, step.notify, render, facts)
        out += sent
        unreachable += missing
    return out, unreachable


def _sla_alert(
    env: Environment, language: str, now: str, case: Mapping[str, Any], step: DueStep, hidden: frozenset[str]
) -> tuple[str, str]:
    context = {
        "case": masked_row(case, hidden),
        "clock": step.clock,
        "rung": step.step.name,
        "level": step.step.level,
        "state": step.state,
        "due_at": step.due_at,
        "notify": list(step.notify),
        "now": now,
    }
    return _render(env, f"sla_alert.{language}.txt.j2", context)


def action_messages(ws: Workspace, rules: Rules, case: Case, event: Event, now: str) -> list[Message]:
    """What an assignment or escalation tells the new owner (and the chat webhooks)."""
    settings = rules.notifications
    if settings is None or event.action not in settings.events or "assignee" not in event.changes:
        return []
    owner = event.changes["assignee"][1]
    env = _environment(ws)

    def render(hidden: frozenset[str]) -> tuple[str, str]:
        context = {
            "case": {"id": case.id, **masked_row(case.state, hidden)},
            "action": event.action,
            "actor": event.actor,
            "reason": masked_note(event, hidden),
            "at": event.at,
            "now": now,
        }
        return _render(env, f"assigned.{settings.language}.txt.j2", context)

    facts = {"case_id": case.id, "clock": "-", "rung": f"{event.action}@{event.at}", "assignee": owner}
    return _addressed(_Readers(ws), rules, settings, (owner,), render, facts)[0]


class _Readers:
    """What each reader of a batch of messages may not see (privacy.need_to_know),
    worked out once per reader: a sweep may tell the same few people of many rungs."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.known: dict[str | None, frozenset[str]] = {}

    def hidden(self, name: str | None) -> frozenset[str]:
        """For a person by name; None: a chat channel, whose readers are not known."""
        if name not in self.known:
            self.known[name] = hidden_from_anyone(self.ws) if name is None else hidden_for(self.ws, name)
        return self.known[name]


def _addressed(
    readers: _Readers,
    rules: Rules,
    settings: NotifySettings,
    names: Iterable[str],
    render: Callable[[frozenset[str]], tuple[str, str]],
    facts: Mapping[str, Any],
) -> tuple[list[Message], list[Message]]:
    """A message per person, rendered with what their role may read, and per chat
    webhook, rendered with what every role may read; rendered once per mask."""
    frozen = MappingProxyType(dict(facts))
    texts: dict[frozenset[str], tuple[str, str]] = {}

    def text(name: str | None) -> tuple[str, str]:
        hidden = readers.hidden(name)
        if hidden not in texts:
            texts[hidden] = render(hidden)
        return texts[hidden]

    out, missing = [], []
    if settings.email is not None:
        for name in names:
            subject, body = text(name)
            person = rules.people.get(name)
            if person is not None and person.email:
                out.append(Message("email", person.email, subject, body, frozen))
            else:
                missing.append(Message("email", name, subject, body, frozen))
    if settings.webhooks:
        subject, body = text(None)
        for hook in settings.webhooks:
            out.append(Message(f"webhook:{hook.name}", hook.name, subject, body, frozen))
    return out, missing


def _environment(ws: Workspace) -> Environment:
    from cmtool.reports.jinja_env import message_environment

    return message_environment(ws.root, ws.templates_dir)


def _render(env: Environment, name: str, context: dict[str, Any]) -> tuple[str, str]:
    from cmtool.reports.jinja_env import render

    text = render(env, name, context, f"templates/messages/{name}")
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        return first.split(":", 1)[1].strip(), rest.lstrip("\n")
    return "", text


def channels(settings: NotifySettings) -> dict[str, Channel]:
    from cmtool.notify.smtp import SmtpChannel
    from cmtool.notify.webhook import WebhookChannel

    found: dict[str, Channel] = {}
    if settings.email is not None:
        e = settings.email
        found["email"] = SmtpChannel(
            e.host, e.port, e.security, e.sender, e.username, e.password_env, e.timeout
        )
    for hook in settings.webhooks:
        found[f"webhook:{hook.name}"] = WebhookChannel(
            hook.name, hook.shape, hook.url, hook.url_env, hook.timeout
        )
    return found


def deliver(
    ws: Workspace,
    settings: NotifySettings | None,
    messages: Sequence[Message],
    now: str,
    dry_run: bool = False,
    unreachable: Sequence[Message] = (),
) -> list[Delivery]:
    """Send each message not sent before, and retry those that failed before.
    One sender at a time (a lock beside the record), so two sweeps never send
    the same message twice."""
    reported = [Delivery(m, "no_address", "no e-mail address under people:", now) for m in unreachable]
    if settings is None:
        return reported
    state_dir(ws).mkdir(parents=True, exist_ok=True)
    with workspace_lock(state_dir(ws) / "notifications.lock"):
        last: dict[tuple[str, ...], dict[str, Any]] = {}
        for record in read_lines(ws, RECORD):
            last[tuple(str(record.get(name)) for name in KEY_FIELDS)] = record
        todo: dict[tuple[str, ...], Message] = {}
        for key, record in last.items():
            if record.get("status") == "failed":
                todo[key] = _from_record(record)
        for message in messages:
            key = _key(message)
            if last.get(key, {}).get("status") != "sent":
                todo[key] = message
        if dry_run:
            return reported + [Delivery(m, "dry_run", None, now) for m in todo.values()]
        senders = channels(settings)
        done = []
        for message in todo.values():
            channel = senders.get(message.channel)
            if channel is None:  # taken out of rules.yaml: stop retrying, say so once
                done.append(Delivery(message, "dropped", "no longer in rules.yaml notifications:", now))
                continue
            try:
                channel.send(message)
                done.append(Delivery(message, "sent", None, now))
            except DeliveryError as exc:
                done.append(Delivery(message, "failed", str(exc), now))
        append_lines(ws, RECORD, [_record(d) for d in done])
    return reported + done


def _record(delivery: Delivery) -> dict[str, Any]:
    m = delivery.message
    record = {**delivery.to_dict(), "facts": dict(m.facts)}
    del record["type"]
    if delivery.status == "failed":
        record["body"] = m.body  # the retry sends the same words
    return record


def _from_record(record: Mapping[str, Any]) -> Message:
    facts = record.get("facts") if isinstance(record.get("facts"), dict) else {}
    return Message(
        str(record.get("channel")),
        str(record.get("recipient")),
        str(record.get("subject") or ""),
        str(record.get("body") or ""),
        MappingProxyType(dict(facts)),
    )


def notify_action(ctx: Context, case: Case) -> list[Delivery]:
    """Tell the new owner of ``case`` about its last event (an assignment or an
    escalation), when rules.yaml has a notifications: section."""
    # Most workspaces send nothing: a glance at the text spares the `assign`
    # fast path from loading rules.yaml.
    if not re.search(r"^notifications:", ctx.ws.rules_path.read_text(encoding="utf-8"), re.MULTILINE):
        return []
    rules = load_rules(ctx.ws.rules_path)
    if rules.notifications is None or not case.events:
        return []
    messages = action_messages(ctx.ws, rules, case, case.events[-1], ctx.now_text)
    return deliver(ctx.ws, rules.notifications, messages, ctx.now_text)
