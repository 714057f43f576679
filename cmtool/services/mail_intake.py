"""`cmtool intake mail`: e-mails become cases, replies become customer notes.

One run is one commit naming every case it touched. A new message is filed as
``file`` does it (channel email, the rules applied), its attachments stored
through the attachment store in the same commit; a message whose subject or
In-Reply-To/References carries a case ID is a ``customer_note`` on that case
(the customer wrote: no clock stops, unlike our own note). Each event records
the message's Message-ID, so no message is taken twice, whichever clone read
it first (``store.mailledger`` keeps the IDs at hand). Auto-replies and bounces
are skipped and reported.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.rules.loader import load_rules
from cmtool.services import filing
from cmtool.services.context import Context, commit_message
from cmtool.store import attachments as store
from cmtool.store.mailledger import known_message_ids, save_ledger
from cmtool.store.transaction import Transaction


@dataclass(frozen=True)
class MailAttachment:
    name: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class InboundMail:
    source: str  # where it was read: the Maildir key, mbox position or IMAP UID
    message_id: str
    sender_name: str
    sender_address: str
    subject: str
    text: str
    attachments: tuple[MailAttachment, ...] = ()
    case_refs: tuple[str, ...] = ()  # case IDs named in the subject or reply headers
    skip: str | None = None  # why it is no complaint (auto-reply, bounce)


@dataclass
class IntakeReport:
    filed: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # case IDs that got a customer note
    duplicates: list[str] = field(default_factory=list)  # sources already taken
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, why)
    not_kept: list[tuple[str, str, int]] = field(default_factory=list)  # (case, file, bytes) over the limit
    commit: str | None = None
    taken: list[str] = field(default_factory=list)  # sources now recorded (for marking them read)

    @property
    def cases(self) -> list[str]:
        return list(dict.fromkeys(self.filed + self.replies))


def take_mail(ctx: Context, mails: list[InboundMail]) -> IntakeReport:
    rules = load_rules(ctx.ws.rules_path)
    report = IntakeReport()
    lfs = store.uses_lfs(ctx.ws)
    with ctx.transaction() as tx:
        seen = known_message_ids(ctx.ws)
        touched: dict[str, tuple[Case, str | None]] = {}
        for mail in mails:
            if mail.skip:
                report.skipped.append((mail.source, mail.skip))
                continue
            if mail.message_id in seen:
                report.duplicates.append(mail.source)
                report.taken.append(mail.source)
                continue
            seen.add(mail.message_id)
            case, text = _target(ctx, tx, mail, touched)
            if case is None:
                case = filing.filed_case(ctx, rules, _fields(mail), {"message_id": mail.message_id})
                report.filed.append(case.id)
            else:
                case = case.with_event(
                    Event(
                        ctx.now_text,
                        ctx.actor,
                        "customer_note",
                        MappingProxyType({}),
                        mail.text or mail.subject or "(empty message)",
                        None,
                        MappingProxyType({"message_id": mail.message_id}),
                    )
                )
                report.replies.append(case.id)
            case = _attach(ctx, tx, case, mail, rules.attachment_max_bytes, lfs, report)
            touched[case.id] = (case, text)
            report.taken.append(mail.source)
        for case, text in touched.values():
            tx.put(case, text)
        if touched:
            report.commit = tx.commit(_message(ctx, report), ctx.identity, ctx.now_text)
        save_ledger(ctx.ws, seen)
    return report


def _target(
    ctx: Context, tx: Transaction, mail: InboundMail, touched: dict[str, tuple[Case, str | None]]
) -> tuple[Case | None, str | None]:
    """The case a reply belongs to (the first ID named that exists), and its text."""
    for case_id in mail.case_refs:
        if case_id in touched:
            return touched[case_id]
        if ctx.ws.case_path(case_id).is_file():
            case, text = tx.load(case_id)
            ctx.not_before(case.updated_at, case_id)
            return case, text
    return None, None


def _fields(mail: InboundMail) -> dict[str, Any]:
    who = mail.sender_name or mail.sender_address
    return {
        "title": mail.subject or f"E-mail from {who or 'an unknown sender'}",
        "description": mail.text or None,
        "channel": "email",
        "customer": who or None,
        "contact": mail.sender_address or None,
    }


def _attach(
    ctx: Context,
    tx: Transaction,
    case: Case,
    mail: InboundMail,
    limit: int,
    lfs: bool,
    report: IntakeReport,
) -> Case:
    """Attachments within the limit stored and recorded in an ``attach`` event;
    larger ones listed there by name and size, and reported."""
    kept, listed = [], []
    for item in mail.attachments:
        if len(item.data) > limit:
            listed.append({"name": item.name, "size": len(item.data), "type": item.media_type})
            report.not_kept.append((case.id, item.name, len(item.data)))
            continue
        evidence = store.Evidence(
            item.name, len(item.data), item.media_type, hashlib.sha256(item.data).hexdigest(), item.data
        )
        path = store.relpath(evidence.sha256)
        if not (ctx.ws.root / path).exists():
            tx.put_bytes(path, item.data, through_filters=lfs)
        kept.append(evidence.record())
    if not kept and not listed:
        return case
    details: dict[str, Any] = {"files": kept}
    if listed:
        details["not_kept"] = listed
    note = f"{len(listed)} attachment(s) over the size limit not kept" if listed else "from the e-mail"
    return case.with_event(
        Event(ctx.now_text, ctx.actor, "attach", MappingProxyType({}), note, None, MappingProxyType(details))
    )


def _message(ctx: Context, report: IntakeReport) -> str:
    summary = f"intake mail: {len(report.filed)} new case(s), {len(report.replies)} reply(ies)"
    return commit_message(summary, "intake_mail", ctx.actor, report.cases)
