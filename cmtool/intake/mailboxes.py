"""Where mail is read from: a Maildir, an mbox file or an IMAP mailbox (stdlib
``mailbox`` and ``imaplib``). Each yields ``(source, raw bytes)``; the sources
are left as they are, except that IMAP messages taken are flagged \\Seen once
the run's commit is made (a courtesy to people reading the mailbox).

Which IMAP messages are new is not read from that flag: someone opening a
complaint in their mail client before the run would mark it seen, and it would
never be taken. Each run asks for the UIDs above the last one every message
up to which was taken (``store.mailledger.ImapMark``, kept beside the index); a mailbox whose
UIDVALIDITY changed, or a first run, asks for the unseen messages as before."""

from __future__ import annotations

import imaplib
import mailbox
import os
import ssl
from collections.abc import Collection, Iterator
from pathlib import Path

from cmtool.errors import UsageError
from cmtool.rules.build_intake import MailIntake
from cmtool.store.mailledger import ImapMark

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # larger is no complaint letter; it is reported, not read


def read_maildir(path: Path) -> Iterator[tuple[str, bytes | None]]:
    if not (path / "cur").is_dir() or not (path / "new").is_dir():
        raise UsageError(f"--maildir {path}: not a Maildir (it needs cur/ and new/ folders)")
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in sorted(box.keys()):
        yield f"maildir:{key}", _capped(box, key)


def read_mbox(path: Path) -> Iterator[tuple[str, bytes | None]]:
    if not path.is_file():
        raise UsageError(f"--mbox {path}: no such file")
    box = mailbox.mbox(path, factory=None, create=False)
    for position, key in enumerate(box.keys(), start=1):
        yield f"mbox:{position}", _capped(box, key)


def _capped(box: mailbox.Mailbox, key: str) -> bytes | None:
    data = box.get_bytes(key)
    return data if len(data) <= MAX_MESSAGE_BYTES else None


class ImapSource:
    """The new messages of the configured IMAP mailbox."""

    def __init__(self, settings: MailIntake) -> None:
        password = os.environ.get(settings.password_env)
        if not password:
            raise UsageError(f"intake.mail: the password variable {settings.password_env} is not set")
        self.settings = settings
        try:
            if settings.security == "ssl":
                self.imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    settings.host,
                    settings.port,
                    ssl_context=ssl.create_default_context(),
                    timeout=settings.timeout,
                )
            else:
                self.imap = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
                if settings.security == "starttls":
                    self.imap.starttls(ssl.create_default_context())
            self.imap.login(settings.username, password)
            status, _ = self.imap.select(f'"{settings.mailbox}"')
        except (OSError, imaplib.IMAP4.error) as exc:
            raise UsageError(f"IMAP {settings.host}:{settings.port}: {exc}") from None
        if status != "OK":
            raise UsageError(f"IMAP: cannot open mailbox {settings.mailbox!r}")
        self.uidvalidity = ""  # what messages() found: the mailbox's identity,
        self.top = 0  # its highest UID when the run began,
        self.after: int | None = None  # the mark it read from (None: unseen mail)
        self.listed: list[int] = []  # and the UIDs it listed

    @property
    def key(self) -> str:
        """Which mailbox this is, for its mark."""
        s = self.settings
        return f"{s.username}@{s.host}:{s.port}/{s.mailbox}"

    def messages(self, mark: ImapMark | None) -> Iterator[tuple[str, bytes | None]]:
        """The messages above ``mark`` (None, or a mailbox recreated since: the unseen
        ones), oldest first."""
        self.uidvalidity = _first(self.imap.response("UIDVALIDITY")[1])
        self.top = int(_first(self.imap.response("UIDNEXT")[1]) or 1) - 1
        self.after = mark.uid if mark is not None and mark.uidvalidity == self.uidvalidity else None
        query = ("UID", f"{self.after + 1}:*") if self.after is not None else ("UNSEEN",)
        status, data = self.imap.uid("SEARCH", None, *query)
        if status != "OK":
            raise UsageError(f"IMAP: search failed ({status})")
        # "n:*" names the highest UID even when it is below n.
        self.listed = sorted(int(u) for u in (data[0] or b"").split() if int(u) > (self.after or 0))
        for uid in self.listed:
            status, parts = self.imap.uid("FETCH", str(uid), "(RFC822.SIZE BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple) and isinstance(p[1], bytes)), None)
            if status == "OK" and raw is not None:
                yield f"imap:{uid}", raw if len(raw) <= MAX_MESSAGE_BYTES else None

    def next_mark(self, done: Collection[str]) -> ImapMark | None:
        """The mark after a run that took or skipped the sources ``done``: it stops
        below the first message listed but not done (a fetch that failed), so the
        next run asks for it again."""
        if not self.uidvalidity:
            return None
        pending = [uid for uid in self.listed if f"imap:{uid}" not in done]
        if pending:
            return ImapMark(self.uidvalidity, pending[0] - 1)
        reached = max([self.after or 0, *self.listed])
        if self.after is None:  # a first run asked for unseen mail only: what people
            reached = max(reached, self.top)  # had read before cmtool took over stays read
        return ImapMark(self.uidvalidity, reached)

    def mark_seen(self, sources: list[str]) -> None:
        uids = [s.removeprefix("imap:") for s in sources if s.startswith("imap:")]
        if uids:
            self.imap.uid("STORE", ",".join(uids), "+FLAGS", "(\\Seen)")

    def close(self) -> None:
        try:
            self.imap.close()
            self.imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _first(data: list | None) -> str:
    item = (data or [None])[0]
    return item.decode() if isinstance(item, bytes) else ""
