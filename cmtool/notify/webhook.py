"""Chat webhooks over HTTP (stdlib ``urllib``): a generic JSON POST, and the
message shapes DingTalk, WeCom (企业微信), Slack and Microsoft Teams expect."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from cmtool.notify import DeliveryError, Message

MAX_REPLY_BYTES = 64 * 1024


def _text(message: Message) -> str:
    return f"{message.subject}\n\n{message.body}".strip()


def _generic(message: Message) -> dict[str, Any]:
    return {"subject": message.subject, "text": message.body, **message.facts}


def _dingtalk(message: Message) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": _text(message)}}


def _wecom(message: Message) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": _text(message)}}


def _slack(message: Message) -> dict[str, Any]:
    return {"text": _text(message)}


def _teams(message: Message) -> dict[str, Any]:
    """An Adaptive Card, the shape Teams workflows ("post to a channel when a
    webhook request is received") accept."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": message.subject, "weight": "Bolder", "wrap": True},
            {"type": "TextBlock", "text": message.body, "wrap": True},
        ],
    }
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }


SHAPES: dict[str, Callable[[Message], dict[str, Any]]] = {
    "generic": _generic,
    "dingtalk": _dingtalk,
    "wecom": _wecom,
    "slack": _slack,
    "teams": _teams,
}


class WebhookChannel:
    def __init__(
        self, name: str, shape: str, url: str | None, url_env: str | None, timeout: float = 10.0
    ) -> None:
        self.name, self.shape, self.url, self.url_env, self.timeout = name, shape, url, url_env, timeout

    def payload(self, message: Message) -> dict[str, Any]:
        return SHAPES[self.shape](message)

    def send(self, message: Message) -> None:
        url = self.url or (os.environ.get(self.url_env) if self.url_env else None)
        if not url:
            raise DeliveryError(f"webhook {self.name}: the URL variable {self.url_env} is not set")
        if not url.startswith(("https://", "http://")):
            raise DeliveryError(f"webhook {self.name}: not an http(s) URL")
        data = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:  # noqa: S310 - http(s) only
                body = reply.read(MAX_REPLY_BYTES)
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"webhook {self.name}: HTTP {exc.code} {exc.reason}") from None
        except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
            raise DeliveryError(f"webhook {self.name}: {getattr(exc, 'reason', exc)}") from None
        self._check_reply(body)

    def _check_reply(self, body: bytes) -> None:
        """DingTalk and WeCom answer HTTP 200 with {"errcode": N}; non-zero is a refusal."""
        if self.shape not in ("dingtalk", "wecom"):
            return
        try:
            reply = json.loads(body or b"{}")
        except ValueError:
            return
        if isinstance(reply, dict) and reply.get("errcode") not in (None, 0):
            raise DeliveryError(f"webhook {self.name}: errcode {reply.get('errcode')}: {reply.get('errmsg')}")
