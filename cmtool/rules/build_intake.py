"""The ``intake:`` section: where complaints come in besides ``cmtool file``.

    intake:
      mail:                        # cmtool intake mail --imap
        host: imap.example.com
        port: 993
        security: ssl              # ssl | starttls | none
        username: complaints@example.com
        password_env: CMTOOL_IMAP_PASSWORD
        mailbox: INBOX
      web:                         # cmtool serve
        public_url: https://complaints.example.com
        token_env: CMTOOL_API_TOKEN   # bearer token of POST /api/complaints
        max_body_kb: 64
        rate_limit: 10             # submissions per client per minute

Secrets never sit in rules.yaml: the IMAP password and the API token are read
from the environment variables named here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cmtool.rules.build_notify import _env_name, _known, _timeout
from cmtool.rules.checker import Checker

SECURITY = ("ssl", "starttls", "none")
SECTION_KEYS = {"mail", "web"}
MAIL_KEYS = {"host", "port", "security", "username", "password_env", "mailbox", "timeout"}
WEB_KEYS = {"public_url", "token_env", "max_body_kb", "rate_limit"}
HARD_MAX_BODY_KB = 1024


@dataclass(frozen=True)
class MailIntake:
    host: str
    port: int
    security: str
    username: str
    password_env: str
    mailbox: str
    timeout: float


@dataclass(frozen=True)
class WebIntake:
    public_url: str | None
    token_env: str | None
    max_body_kb: int
    rate_limit: int  # submissions per client per minute


DEFAULT_WEB = WebIntake(None, None, 64, 10)


@dataclass(frozen=True)
class Intake:
    mail: MailIntake | None = None
    web: WebIntake = DEFAULT_WEB


def build_intake(c: Checker, data: Mapping[str, Any]) -> Intake:
    section = c.mapping(data.get("intake"), "intake")
    _known(c, section, "intake", SECTION_KEYS)
    mail = _mail(c, section.get("mail")) if section.get("mail") is not None else None
    web = _web(c, section.get("web")) if section.get("web") is not None else DEFAULT_WEB
    return Intake(mail, web)


def _mail(c: Checker, value: Any) -> MailIntake | None:
    path = "intake.mail"
    before = len(c.problems)
    spec = c.mapping(value, path)
    _known(c, spec, path, MAIL_KEYS)
    host, username = spec.get("host"), spec.get("username")
    if not isinstance(host, str) or not host.strip():
        c.bad(f"{path}.host", "name the IMAP server, e.g. imap.example.com")
    if not isinstance(username, str) or not username.strip():
        c.bad(f"{path}.username", "name the mailbox's user, e.g. complaints@example.com")
    security = spec.get("security", "ssl")
    if security not in SECURITY:
        c.bad(f"{path}.security", f"{security!r} is not one of {', '.join(SECURITY)}")
    port = spec.get("port", 993 if security == "ssl" else 143)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        c.bad(f"{path}.port", f"{port!r} is not a port number (1 to 65535)")
    password_env = _env_name(c, spec.get("password_env"), f"{path}.password_env")
    if spec.get("password_env") is None:
        c.bad(f"{path}.password_env", "name the environment variable holding the password")
    mailbox = spec.get("mailbox", "INBOX")
    if not isinstance(mailbox, str) or not mailbox.strip() or any(ch in mailbox for ch in '"\r\n'):
        c.bad(f"{path}.mailbox", f"{mailbox!r} is not a mailbox name")
    timeout = _timeout(c, spec.get("timeout", 30), f"{path}.timeout")
    if len(c.problems) > before:
        return None
    return MailIntake(
        str(host).strip(),
        int(port),
        str(security),
        str(username).strip(),
        str(password_env),
        str(mailbox),
        timeout,
    )


def _web(c: Checker, value: Any) -> WebIntake:
    path = "intake.web"
    spec = c.mapping(value, path)
    _known(c, spec, path, WEB_KEYS)
    url = spec.get("public_url")
    if url is not None and (not isinstance(url, str) or not re.match(r"^https?://[^\s\"'<>]+$", url)):
        c.bad(f"{path}.public_url", f"{url!r} is not an http(s) URL")
        url = None
    token_env = _env_name(c, spec.get("token_env"), f"{path}.token_env")
    body = spec.get("max_body_kb", DEFAULT_WEB.max_body_kb)
    if isinstance(body, bool) or not isinstance(body, int) or not 0 < body <= HARD_MAX_BODY_KB:
        c.bad(f"{path}.max_body_kb", f"{body!r} must be kilobytes from 1 to {HARD_MAX_BODY_KB}")
        body = DEFAULT_WEB.max_body_kb
    rate = spec.get("rate_limit", DEFAULT_WEB.rate_limit)
    if isinstance(rate, bool) or not isinstance(rate, int) or not 0 < rate <= 10_000:
        c.bad(f"{path}.rate_limit", f"{rate!r} must be submissions per client per minute (1 to 10000)")
        rate = DEFAULT_WEB.rate_limit
    return WebIntake(str(url).rstrip("/") if url else None, token_env, int(body), int(rate))
