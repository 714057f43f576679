"""`cmtool serve`: the web complaint form, the JSON API and the customer status page.

Built on the standard library's ``http.server.ThreadingHTTPServer``: it is
maintained with Python itself, parses HTTP for us (request line, headers,
keep-alive), and a complaint form and three routes need no framework, so no
dependency is added. It is not hardened for the open internet by itself: run it
on 127.0.0.1 (the default) behind a reverse proxy that terminates TLS
(docs/channels.md). What a public service needs beyond parsing is here: a body
size limit read before the body, a per-client rate limit on submissions and
status lookups, a bearer token for the API, strict response headers.

Every submission is one case filed by ``services.filing`` under the workspace
lock, as the system actor ``web-intake``.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import sys
import threading
import time
from collections import deque
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cmtool.errors import CmtoolError
from cmtool.intake import pages
from cmtool.intake.mailparse import clean, one_line
from cmtool.model.registry import WEB_INTAKE_ACTOR
from cmtool.rules.build_intake import WebIntake
from cmtool.services import filing
from cmtool.services.context import make_context
from cmtool.services.customer_status import lookup, status_link
from cmtool.store.statuskey import status_code

API_CHANNELS = ("app", "chat", "social", "web", "other")
API_KEYS = {"title", "description", "customer", "contact", "product", "channel"}
LIMITS = {"name": 200, "contact": 320, "subject": 200, "description": 10_000, "product": 200}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class RateLimit:
    """At most ``per_minute`` requests per client in any 60 seconds."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self.lock:
            if len(self.seen) > 10_000:  # forget idle clients rather than grow without end
                self.seen = {k: v for k, v in self.seen.items() if v and v[-1] > now - 60}
            times = self.seen.setdefault(client, deque())
            while times and times[0] <= now - 60:
                times.popleft()
            if len(times) >= self.per_minute:
                return False
            times.append(now)
            return True


class IntakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path, settings: WebIntake) -> None:
        super().__init__(address, Handler)
        self.root, self.settings = root, settings
        self.token = os.environ.get(settings.token_env or "") or None
        self.limit = RateLimit(settings.rate_limit)
        self.workspace_lock = threading.Lock()  # one request at a time touches the files


FORM_NAMES = {"name": "name", "contact": "contact", "subject": "subject", "description": "description"}
API_NAMES = {"name": "customer", "contact": "contact", "subject": "title", "description": "description"}


def complaint_fields(data: dict[str, str], lang: str, api: bool = False) -> tuple[dict[str, Any], list[str]]:
    """The case fields of a submission, or what is wrong with it: in ``lang`` with
    the form's labels, or with the API's key names (where a description may be left out)."""
    text, errors = pages.TEXT[lang], []
    values = {}
    for name in FORM_NAMES:
        raw = data.get(API_NAMES[name] if api else name, "")
        value = clean(raw) if name == "description" else one_line(raw)
        label = API_NAMES[name] if api else text[FORM_NAMES[name]]
        if not value and not (api and name == "description"):
            errors.append(f"{label}: {text['required']}")
        elif len(value) > LIMITS[name]:
            errors.append(
                f"{label}: at most {LIMITS[name]} characters"
                if lang == "en"
                else f"{label}：不超过 {LIMITS[name]} 字"
            )
        values[name] = value
    fields = {
        "title": values["subject"],
        "description": values["description"] or None,
        "customer": values["name"],
        "contact": values["contact"],
    }
    return fields, errors


class Handler(BaseHTTPRequestHandler):
    server: IntakeServer
    timeout = 15  # a client that stops sending mid-request is dropped
    protocol_version = "HTTP/1.1"

    # -- routes -----------------------------------------------------------
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, max_num_fields=10).items()}
        lang = query.get("lang") if query.get("lang") in pages.TEXT else self._language()
        if url.path == "/":
            self._html(HTTPStatus.OK, pages.complaint_form(lang))
        elif url.path == "/status" and "code" in query:
            if not self._allowed():
                return
            with self.server.workspace_lock:
                view = lookup(self._ws(), query.get("id", ""), query["code"], self._now())
            if view is None:
                self._html(HTTPStatus.NOT_FOUND, pages.status_form(lang, query.get("id", "")[:40], True))
            else:
                self._html(HTTPStatus.OK, pages.status_page(lang, view))
        elif url.path == "/status":
            self._html(HTTPStatus.OK, pages.status_form(lang, query.get("id", "")[:40]))
        else:
            self._html(HTTPStatus.NOT_FOUND, pages.error_page(lang, "404"))

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path not in ("/complaints", "/api/complaints"):
            self._json(HTTPStatus.NOT_FOUND, {"error": "no such endpoint"})
            return
        if path == "/api/complaints" and not self._authorised():
            return
        if not self._allowed():
            return
        body = self._body()
        if body is None:
            return
        if path == "/complaints":
            self._form(body)
        else:
            self._api(body)

    def _form(self, body: bytes) -> None:
        data = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), max_num_fields=20).items()}
        lang = data.get("lang") if data.get("lang") in pages.TEXT else self._language()
        fields, errors = complaint_fields(data, lang)
        if errors:
            self._html(HTTPStatus.BAD_REQUEST, pages.complaint_form(lang, data, errors))
            return
        filed = self._file(dict(fields, channel="web"))
        if filed is not None:
            self._html(HTTPStatus.CREATED, pages.thanks(lang, filed[0], filed[1]))

    def _api(self, body: bytes) -> None:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "the body is not JSON"})
            return
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "send one JSON object of text values"})
            return
        unknown = sorted(set(data) - API_KEYS)
        channel = data.get("channel", "app")
        if unknown or channel not in API_CHANNELS:
            what = (
                f"unknown keys {unknown} (known: {sorted(API_KEYS)})" if unknown else f"channel {channel!r}"
            )
            self._json(HTTPStatus.BAD_REQUEST, {"error": what})
            return
        fields, errors = complaint_fields(data, "en", api=True)
        product = one_line(data.get("product", ""))[: LIMITS["product"]]
        if errors:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "; ".join(errors)})
            return
        filed = self._file(dict(fields, channel=channel, product=product or None))
        if filed is not None:
            url, _ = status_link(self._ws(), self.server.settings.public_url, filed[0])
            self._json(HTTPStatus.CREATED, {"id": filed[0], "status_code": filed[1], "status_url": url})

    # -- helpers ----------------------------------------------------------
    def _file(self, fields: dict[str, Any]) -> tuple[str, str] | None:
        try:
            with self.server.workspace_lock:
                ctx = make_context(self.server.root, WEB_INTAKE_ACTOR)
                case = filing.file_complaint(ctx, fields)
                code = status_code(ctx.ws, case.id)
        except CmtoolError as err:
            sys.stderr.write(f"cmtool serve: filing failed: {err}\n")
            self._json(
                HTTPStatus.SERVICE_UNAVAILABLE, {"error": "the complaint could not be filed; try again"}
            )
            return None
        return case.id, code

    def _ws(self):
        from cmtool.store.workspace import find_workspace

        return find_workspace(self.server.root)

    def _now(self):
        from cmtool.services.context import resolve_now

        return resolve_now(None)

    def _authorised(self) -> bool:
        token = self.server.token
        if token is None:
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "the API is off: no token is configured"})
            return False
        given = self.headers.get("Authorization", "")
        if not given.startswith("Bearer ") or not hmac.compare_digest(
            given[7:].strip().encode(), token.encode()
        ):
            self._json(
                HTTPStatus.UNAUTHORIZED,
                {"error": "a valid bearer token is needed"},
                {"WWW-Authenticate": "Bearer"},
            )
            return False
        return True

    def _allowed(self) -> bool:
        if self.server.limit.allow(self.client_address[0]):
            return True
        self._json(
            HTTPStatus.TOO_MANY_REQUESTS, {"error": "too many requests; wait a minute"}, {"Retry-After": "60"}
        )
        return False

    def _body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._json(HTTPStatus.LENGTH_REQUIRED, {"error": "send a Content-Length"})
            return None
        if int(length) > self.server.settings.max_body_kb * 1024:
            self.close_connection = True  # the body is never read
            self._json(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": f"over {self.server.settings.max_body_kb} KB"}
            )
            return None
        return self.rfile.read(int(length))

    def _language(self) -> str:
        accept = self.headers.get("Accept-Language", "").lower()
        return "zh" if accept.startswith("zh") else "en"

    def _html(self, status: HTTPStatus, text: str) -> None:
        self._send(status, text.encode("utf-8"), "text/html; charset=utf-8")

    def _json(self, status: HTTPStatus, data: Any, extra: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json", extra)

    def _send(self, status: HTTPStatus, body: bytes, kind: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {**HEADERS, **(extra or {}), "Content-Type": kind}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """One line per request on stderr, without queries (they may hold a status code)."""
        line = re.sub(r"\?\S*", "", format % args)
        sys.stderr.write(f"{self.client_address[0]} [{self.log_date_time_string()}] {line}\n")


def serve(root: Path, host: str, port: int, settings: WebIntake) -> IntakeServer:
    return IntakeServer((host, port), root, settings)
