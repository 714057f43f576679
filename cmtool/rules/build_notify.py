"""The ``notifications:`` section: how the decisions of a sweep, an assignment or
an escalation reach people (e-mail over SMTP, chat webhooks). Secrets never sit
in rules.yaml: the SMTP password and a webhook URL holding a token are read from
environment variables it names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cmtool.rules.checker import Checker

LANGUAGES = ("en", "zh")
SECURITY = ("starttls", "ssl", "none")
SHAPES = ("generic", "dingtalk", "wecom", "slack", "teams")
EVENTS = ("sla_warn", "sla_escalate", "assign", "escalate")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECTION_KEYS = {"language", "events", "email", "webhooks"}
EMAIL_KEYS = {"host", "port", "security", "sender", "username", "password_env", "timeout"}
WEBHOOK_KEYS = {"name", "shape", "url", "url_env", "timeout"}


@dataclass(frozen=True)
class EmailSettings:
    host: str
    port: int
    security: str  # starttls | ssl | none
    sender: str
    username: str | None
    password_env: str | None
    timeout: float


@dataclass(frozen=True)
class WebhookSettings:
    name: str
    shape: str  # generic | dingtalk | wecom | slack | teams
    url: str | None
    url_env: str | None
    timeout: float


@dataclass(frozen=True)
class NotifySettings:
    language: str
    events: frozenset[str]
    email: EmailSettings | None
    webhooks: tuple[WebhookSettings, ...]


def build_notify(c: Checker, data: Mapping[str, Any]) -> NotifySettings | None:
    if data.get("notifications") is None:
        return None
    section = c.mapping(data.get("notifications"), "notifications")
    _known(c, section, "notifications", SECTION_KEYS)
    language = section.get("language", "en")
    if language not in LANGUAGES:
        c.bad("notifications.language", f"{language!r} is not one of {', '.join(LANGUAGES)}")
    events = c.words(section.get("events", list(EVENTS)), "notifications.events")
    for word in set(events) - set(EVENTS):
        c.bad("notifications.events", f"{word!r} is not one of {', '.join(EVENTS)}")
    email = _email(c, section.get("email")) if section.get("email") is not None else None
    webhooks = []
    for index, spec in enumerate(c.seq(section.get("webhooks"), "notifications.webhooks")):
        hook = _webhook(c, spec, f"notifications.webhooks[{index}]")
        if hook is not None:
            if any(h.name == hook.name for h in webhooks):
                c.bad(f"notifications.webhooks[{index}].name", f"{hook.name!r} is named twice")
            webhooks.append(hook)
    return NotifySettings(str(language), frozenset(events), email, tuple(webhooks))


def _known(c: Checker, spec: Mapping[str, Any], path: str, keys: set[str]) -> None:
    for key in spec:
        if key not in keys:
            c.bad(f"{path}.{key}", f"unknown key (known: {', '.join(sorted(keys))})", "RULES_UNKNOWN_KEY")


def _email(c: Checker, value: Any) -> EmailSettings | None:
    path = "notifications.email"
    spec = c.mapping(value, path)
    _known(c, spec, path, EMAIL_KEYS)
    host, sender = spec.get("host"), spec.get("sender")
    if not isinstance(host, str) or not host.strip():
        c.bad(f"{path}.host", "name the SMTP server, e.g. smtp.example.com")
    if not isinstance(sender, str) or "@" not in sender:
        c.bad(f"{path}.sender", f"{sender!r} is not an e-mail address")
    security = spec.get("security", "starttls")
    if security not in SECURITY:
        c.bad(f"{path}.security", f"{security!r} is not one of {', '.join(SECURITY)}")
    default_port = {"ssl": 465, "none": 25}.get(str(security), 587)
    port = spec.get("port", default_port)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        c.bad(f"{path}.port", f"{port!r} is not a port number (1 to 65535)")
    username = spec.get("username")
    if username is not None and not isinstance(username, str):
        c.bad(f"{path}.username", "must be text")
    password_env = _env_name(c, spec.get("password_env"), f"{path}.password_env")
    timeout = _timeout(c, spec.get("timeout", 20), f"{path}.timeout")
    if c.problems and any(p.message.startswith(path) for p in c.problems):
        return None
    return EmailSettings(
        str(host).strip(), int(port), str(security), str(sender), username, password_env, timeout
    )


def _webhook(c: Checker, value: Any, path: str) -> WebhookSettings | None:
    spec = c.mapping(value, path)
    _known(c, spec, path, WEBHOOK_KEYS)
    name, shape = spec.get("name"), spec.get("shape", "generic")
    if not isinstance(name, str) or not name.strip():
        c.bad(f"{path}.name", "give the webhook a name (it is the recipient in the record)")
    if shape not in SHAPES:
        c.bad(f"{path}.shape", f"{shape!r} is not one of {', '.join(SHAPES)}")
    url, url_env = spec.get("url"), _env_name(c, spec.get("url_env"), f"{path}.url_env")
    if (url is None) == (url_env is None):
        c.bad(path, "give exactly one of url: or url_env: (an environment variable holding the URL)")
    elif url is not None and (not isinstance(url, str) or not re.match(r"^https?://[^\s]+$", url)):
        c.bad(f"{path}.url", f"{url!r} is not an http(s) URL")
    timeout = _timeout(c, spec.get("timeout", 10), f"{path}.timeout")
    if any(p.message.startswith(path) for p in c.problems):
        return None
    return WebhookSettings(str(name).strip(), str(shape), url, url_env, timeout)


def _env_name(c: Checker, value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        c.bad(path, f"{value!r} is not an environment variable name")
        return None
    return value


def _timeout(c: Checker, value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 300:
        c.bad(path, f"{value!r} must be seconds between 0 and 300")
        return 10.0
    return float(value)
