"""`cmtool intake mail`: read one source, parse each message, take them in one commit."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cmtool.errors import UsageError
from cmtool.intake.mailboxes import MAX_MESSAGE_BYTES, ImapSource, read_maildir, read_mbox
from cmtool.intake.mailparse import parse_message
from cmtool.rules.loader import load_rules
from cmtool.services.context import Context
from cmtool.services.mail_intake import InboundMail, IntakeReport, take_mail
from cmtool.store.mailledger import imap_mark, save_imap_mark


def run(ctx: Context, maildir: Path | None, mbox: Path | None, imap: bool) -> IntakeReport:
    if sum((maildir is not None, mbox is not None, imap)) != 1:
        raise UsageError("name one source: --maildir DIR, --mbox FILE or --imap")
    if maildir is not None:
        return _take(ctx, read_maildir(maildir))
    if mbox is not None:
        return _take(ctx, read_mbox(mbox))
    settings = load_rules(ctx.ws.rules_path).intake.mail
    if settings is None:
        raise UsageError("--imap: rules.yaml has no intake.mail section", hint="see docs/channels.md")
    source = ImapSource(settings)
    try:
        report = _take(ctx, source.messages(imap_mark(ctx.ws, source.key)))
        done = report.taken + [s for s, _ in report.skipped]
        source.mark_seen(done)
        save_imap_mark(ctx.ws, source.key, source.next_mark(done))
        return report
    finally:
        source.close()


def _take(ctx: Context, messages: Iterable[tuple[str, bytes | None]]) -> IntakeReport:
    mails: list[InboundMail] = []
    unreadable: list[tuple[str, str]] = []
    for source, raw in messages:
        if raw is None:
            unreadable.append((source, f"larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MB"))
            continue
        try:
            mails.append(parse_message(raw, source))
        except Exception as exc:  # a malformed message must not stop the run
            unreadable.append((source, f"unreadable ({type(exc).__name__})"))
    report = take_mail(ctx, mails)
    report.skipped += unreadable
    return report
