"""One e-mail, as sent, becomes an :class:`InboundMail`: sender, subject, text,
attachments, the case IDs it refers to, or why it is skipped.

The stdlib ``email`` package parses the MIME structure. Header words (RFC 2047)
are decoded here, not by the parser's policy, so that a mislabelled charset
still reads: Chinese mail labelled ``gb2312`` often carries GBK characters, so
the GB family is read as GB18030 (their superset), and raw 8-bit headers are
tried as UTF-8, then GB18030.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from email.header import decode_header
from email.message import EmailMessage, Message
from email.utils import parseaddr
from html.parser import HTMLParser

from cmtool.model.ids import ID_RE
from cmtool.services.mail_intake import InboundMail, MailAttachment

GB_FAMILY = {"gb2312", "gb_2312-80", "gbk", "cp936", "x-gbk", "euc-cn", "hz-gb-2312", "gb18030"}
AUTO_PRECEDENCE = {"bulk", "auto_reply", "junk"}
BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}
MAX_TITLE = 200
MAX_TEXT = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def parse_message(raw: bytes, source: str) -> InboundMail:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    headers = {name.lower(): value for name, value in reversed(list(msg.raw_items()))}
    name, address = parseaddr(header_text(headers.get("from", "")))
    subject = one_line(header_text(headers.get("subject", "")))
    message_id = one_line(str(headers.get("message-id", ""))).strip()
    if not message_id:  # no Message-ID: the content itself names the message
        message_id = f"<sha256-{hashlib.sha256(raw).hexdigest()}@cmtool.invalid>"
    refs = " ".join([subject, str(headers.get("in-reply-to", "")), str(headers.get("references", ""))])
    return InboundMail(
        source=source,
        message_id=message_id[:500],
        sender_name=clean(name)[:200],
        sender_address=clean(address)[:320],
        subject=subject[:MAX_TITLE],
        text=body_text(msg)[:MAX_TEXT],
        attachments=tuple(attachments(msg)),
        case_refs=tuple(dict.fromkeys(ID_RE.findall(refs.upper()))),
        skip=skip_reason(msg, headers, address),
    )


def skip_reason(msg: Message, headers: dict[str, str], address: str) -> str | None:
    """Why a message is no complaint: an auto-reply or a bounce (RFC 3834, RFC 3464)."""
    auto = str(headers.get("auto-submitted", "")).strip().lower()
    if auto and auto != "no":
        return f"auto-reply (Auto-Submitted: {auto[:40]})"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "auto-reply (X-Autoreply)"
    precedence = str(headers.get("precedence", "")).strip().lower()
    if precedence in AUTO_PRECEDENCE:
        return f"auto-reply (Precedence: {precedence})"
    if msg.get_content_type() == "multipart/report":
        return "bounce (multipart/report)"
    if address.split("@")[0].lower() in BOUNCE_SENDERS:
        return f"bounce (from {address.split('@')[0]})"
    return None


def header_text(raw: str) -> str:
    """A header's words decoded (RFC 2047), whatever charset each declares."""
    unfolded = re.sub(r"\r?\n[ \t]+", " ", str(raw))
    parts = []
    for chunk, charset in decode_header(unfolded):
        if isinstance(chunk, str):
            parts.append(_unescape(chunk))
        else:
            parts.append(decode_bytes(chunk, charset))
    return "".join(parts)


def decode_bytes(data: bytes, charset: str | None) -> str:
    name = (charset or "").lower()
    if name in GB_FAMILY:
        name = "gb18030"
    for candidate in (name, "utf-8", "gb18030") if name else ("utf-8", "gb18030"):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def _unescape(text: str) -> str:
    """Raw 8-bit bytes in a header (the parser keeps them as surrogates)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", errors="surrogateescape"), None)


def clean(text: str) -> str:
    return _CONTROL.sub("", text).strip()


def one_line(text: str) -> str:
    return " ".join(clean(text.replace("\n", " ").replace("\t", " ")).split())


def body_text(msg: EmailMessage) -> str:
    """The text part, else the HTML part as text."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    data = part.get_payload(decode=True)
    text = decode_bytes(data, part.get_content_charset()) if isinstance(data, bytes) else ""
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    lines = [_CONTROL.sub("", line).rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _TextOf(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"}
    HIDDEN = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> str:
    parser = _TextOf()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.out).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def attachments(msg: EmailMessage) -> list[MailAttachment]:
    found = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if part.get_content_disposition() != "attachment" and not filename:
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        name = one_line(header_text(filename or "")).replace("/", "_").replace("\\", "_")
        found.append(MailAttachment(name[:200] or "attachment", part.get_content_type(), data))
    return found
