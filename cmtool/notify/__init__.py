"""The way out to people: e-mail over SMTP and chat webhooks.

Services hand a :class:`Message` to a channel's ``send``; a channel either
delivers it or raises :class:`DeliveryError` saying why. Nothing here decides
who is told what, renders a template or remembers what was sent: that is
``cmtool.services.notifications``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    channel: str  # "email" or "webhook:<name>"
    recipient: str  # an e-mail address, or the webhook's name
    subject: str
    body: str
    facts: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # case, clock, rung...


class DeliveryError(Exception):
    """A message did not go out; ``str()`` says why (no secrets in it)."""


class Channel(Protocol):
    def send(self, message: Message) -> None: ...
