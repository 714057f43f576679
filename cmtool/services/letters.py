"""`cmtool letter`: acknowledgement, holding reply and final response to the customer.

The letter is rendered from ``templates/letters/<kind>.<language>.md.j2`` (the
workspace's, else the bundled one), with each regime's mandatory wording: the
Financial Ombudsman Service referral right and its six-month limit (FCA DISP
1.6.2R, DISP 1 Annex 3R), the CFPB's complaint route, and the routes to review,
mediation and the regulator of 银行业保险业消费投诉处理管理办法. Sending or
handing over a letter is a contact with the customer, so it is recorded as a
``note`` event carrying the letter's kind and sha256: the first-response clock
stops on an acknowledgement, the holding-reply clock on a holding reply. The
letter itself (it names the customer) stays out of the history; its hash proves
later which text went out.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cmtool.errors import Refused, UsageError
from cmtool.model.case import Case
from cmtool.model.timefmt import parse_time
from cmtool.rules.loader import load_rules
from cmtool.rules.model import Rules
from cmtool.services import lifecycle
from cmtool.services.context import Context
from cmtool.services.customer_status import status_link
from cmtool.services.need_to_know import MASKED, masked_for
from cmtool.sla.clocks import case_clocks
from cmtool.store.casefiles import load_case, resolve_id

KINDS = {"ack": "acknowledgement", "holding": "holding_reply", "final": "final_response"}
TITLES = {"ack": "acknowledgement", "holding": "holding reply", "final": "final response"}
LANGUAGES = ("en", "zh")
FORMATS = ("md", "html")
# The clocks a letter quotes as "our final response by ...": the first running one.
FINAL_CLOCKS = ("final_response", "resolution", "decision")


@dataclass(frozen=True)
class Letter:
    case_id: str
    kind: str
    language: str
    text: str  # Markdown (plain text with paragraphs)
    sha256: str

    @property
    def masked(self) -> bool:
        """It quotes a field its writer may not read: it cannot go to the customer."""
        return MASKED in self.text

    def as_html(self) -> str:
        """A page that prints as a letter (A4, margins), every value escaped."""
        paragraphs = "\n".join(
            "<p>" + "<br>\n".join(html.escape(line) for line in block.splitlines()) + "</p>"
            for block in self.text.strip().split("\n\n")
            if block.strip()
        )
        lang = "zh-CN" if self.language == "zh" else "en"
        return (
            f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(self.case_id)} {TITLES[self.kind]}</title>\n"
            "<style>@page { size: A4; margin: 25mm 20mm; } body { font: 11pt/1.5 serif; max-width: 170mm; "
            "margin: 2em auto; } p { margin: 0 0 1em; }</style>\n</head>\n<body>\n"
            f"{paragraphs}\n</body>\n</html>\n"
        )


def families(case: Case, rules: Rules) -> set[str]:
    """fca, cfpb and/or cn: the regulators whose wording a letter must carry."""
    found = set()
    for name in case.get("regimes") or []:
        regime = rules.regimes.get(name)
        preset = regime.preset if regime else str(name)
        for family in ("fca", "cfpb", "cn"):
            if preset.startswith(family):
                found.add(family)
    return found


def render_letter(
    ctx: Context, ref: str, kind: str, language: str | None = None, reason: str | None = None
) -> Letter:
    from cmtool.reports.jinja_env import message_environment, render

    if kind not in KINDS:
        raise UsageError(f"--kind {kind!r}: use one of {', '.join(KINDS)}")
    case, _ = load_case(ctx.ws, resolve_id(ctx.ws, ref))
    case = masked_for(ctx.ws, ctx.actor, case)  # the letter shows what its writer may read
    rules = load_rules(ctx.ws.rules_path)
    found = families(case, rules)
    chosen = language or ("zh" if "cn" in found else "en")
    if chosen not in LANGUAGES:
        raise UsageError(f"--language {chosen!r}: use one of {', '.join(LANGUAGES)}")
    if kind == "final" and not case.get("resolution"):
        raise UsageError(
            f"{case.id} has no resolution yet", hint="record it first: cmtool resolve ID --resolution ..."
        )
    status_url, code = status_link(ctx.ws, rules.intake.web.public_url, case.id)
    context = {
        "case": dict(case.state, id=case.id),
        "firm": rules.reporting.firm,
        "today": _day(ctx.now, chosen),
        "received": _day(parse_time(case.get("filed_at")), chosen),
        "due": _final_due(case, rules, ctx.now, chosen),
        "handler": case.get("assignee"),
        "families": sorted(found),
        "redress": _money(case, rules),
        "reason": reason,
        "status_url": status_url,
        "status_code": code,
    }
    name = f"{KINDS[kind]}.{chosen}.md.j2"
    env = message_environment(ctx.ws.root, ctx.ws.templates_dir, "letters")
    text = render(env, name, context, f"templates/letters/{name}")
    return Letter(case.id, kind, chosen, text, hashlib.sha256(text.encode("utf-8")).hexdigest())


def refuse_masked(letter: Letter) -> None:
    """A letter that quotes a field its writer may not read cannot go out."""
    if letter.masked:
        raise Refused(
            f"this letter quotes {letter.case_id}'s personal data that your role may not read "
            "(privacy.need_to_know), so it shows [masked]",
            hint="ask someone whose role may read it to issue the letter (--preview shows it)",
        )


def record_letter(ctx: Context, letter: Letter, sent: bool) -> Case:
    """The letter as a contact with the customer: a note event with its hash."""
    refuse_masked(letter)
    how = "sent by e-mail" if sent else "issued"
    details: dict[str, Any] = {
        "letter": letter.kind,
        "letter_sha256": letter.sha256,
        "language": letter.language,
    }
    if letter.kind == "holding":
        details["holding_reply"] = True
    return lifecycle.note(ctx, letter.case_id, f"{TITLES[letter.kind].capitalize()} {how}", details=details)


def _final_due(case: Case, rules: Rules, now: datetime, language: str) -> str | None:
    running = [
        c
        for c in case_clocks(case, rules, now)
        if c.due_at and c.state in ("ok", "warning", "breached", "paused") and c.clock.endswith(FINAL_CLOCKS)
    ]
    if not running:
        return None
    due = min(parse_time(c.extended_due_at or c.due_at) for c in running)
    return _day(due, language)


def _day(moment: datetime | None, language: str) -> str:
    if moment is None:
        return ""
    if language == "zh":
        return f"{moment.year}年{moment.month}月{moment.day}日"
    return f"{moment.day} {moment.strftime('%B')} {moment.year}"


def _money(case: Case, rules: Rules) -> str | None:
    amount = case.get("redress")
    if amount in (None, 0):
        return None
    return f"{amount:,.2f} {rules.currency_for(case.state)}"


def send_letter(ctx: Context, letter: Letter, subject: str) -> str:
    """E-mail the letter to the case's contact through the notifications sender;
    returns the address. DeliveryError or UsageError when it cannot go."""
    from cmtool.notify import Message
    from cmtool.services.notifications import channels

    rules = load_rules(ctx.ws.rules_path)
    settings = rules.notifications
    if settings is None or settings.email is None:
        raise UsageError(
            "no e-mail sender configured", hint="set notifications.email in rules.yaml (docs/channels.md)"
        )
    case, _ = load_case(ctx.ws, letter.case_id)
    address = str(case.get("contact") or "").strip()
    if "@" not in address or any(ch.isspace() for ch in address):
        raise UsageError(
            f"{letter.case_id}: the contact is not one e-mail address", hint="print the letter instead"
        )
    channels(settings)["email"].send(Message("email", address, subject, letter.text))
    return address
