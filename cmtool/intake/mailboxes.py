"""Where mail is read from: a Maildir, an mbox file or an IMAP mailbox (stdlib
``mailbox`` and ``imaplib``). Each yields ``(source, raw bytes)``; the sources
are left as they are, except that IMAP messages taken are flagged \\Seen once
the run's commit is made, so the next run asks only for unseen mail."""

from __future__ import annotations

import imaplib
import mailbox
import os
import ssl
from collections.abc import Iterator
from pathlib import Path

from cmtool.errors import UsageError
from cmtool.rules.build_intake import MailIntake

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
    """The unseen messages of the configured IMAP mailbox."""

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

    def messages(self) -> Iterator[tuple[str, bytes | None]]:
        status, data = self.imap.uid("SEARCH", None, "UNSEEN")
        if status != "OK":
            raise UsageError(f"IMAP: search failed ({status})")
        for uid in (data[0] or b"").split():
            status, parts = self.imap.uid("FETCH", uid, "(RFC822.SIZE BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple) and isinstance(p[1], bytes)), None)
            if status == "OK" and raw is not None:
                yield f"imap:{uid.decode()}", raw if len(raw) <= MAX_MESSAGE_BYTES else None

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
