"""Satisfaction surveys: record an answer, find whom to ask, render invitations,
record that they were sent, and import answers collected elsewhere.

Settings come from the ``survey:`` section of rules.yaml (``rules.build_survey``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cmtool.errors import DataError, UsageError
from cmtool.model.case import Case
from cmtool.model.enums import Status
from cmtool.model.events import Event
from cmtool.model.ids import is_valid_id
from cmtool.model.timefmt import format_time, parse_time
from cmtool.model.transitions import next_status
from cmtool.reports.facts import customer_key
from cmtool.rules.build_survey import SurveySettings, build_survey
from cmtool.rules.checker import Checker
from cmtool.services.context import Context, commit_message
from cmtool.services.lifecycle import act, changes_between
from cmtool.store.catalog import all_cases
from cmtool.store.workspace import Workspace

CSAT_RANGE = range(1, 6)
NPS_RANGE = range(0, 11)


def settings(raw_rules: Mapping[str, Any]) -> SurveySettings:
    """The ``survey:`` section, every problem reported at once (the checks
    ``validate`` runs on it)."""
    c = Checker({}, "rules.yaml")
    config = build_survey(c, raw_rules)
    if c.problems:
        raise DataError("; ".join(str(p) for p in c.problems), hint="fix the survey: section")
    return config


def check_scores(csat: int | None, nps: int | None) -> None:
    if csat is None and nps is None:
        raise UsageError("give --csat (1-5), --nps (0-10) or both")
    if csat is not None and csat not in CSAT_RANGE:
        raise UsageError(f"--csat {csat} is out of range: CSAT is 1 (very unhappy) to 5")
    if nps is not None and nps not in NPS_RANGE:
        raise UsageError(f"--nps {nps} is out of range: NPS answers are 0 to 10")


def answer_changes(
    case: Case, csat: int | None, nps: int | None, comment: str | None, at: str
) -> dict[str, tuple[Any, Any]]:
    updates: dict[str, Any] = {"surveyed_at": at}
    if csat is not None:
        updates["csat"] = csat
    if nps is not None:
        updates["nps"] = nps
    if comment and comment.strip():
        updates["survey_comment"] = comment.strip()
    return changes_between(case.state, updates)


def record_survey(
    ctx: Context, ref: str, csat: int | None, nps: int | None, comment: str | None = None
) -> Case:
    """One answer on a resolved or closed case: one event, one commit."""
    check_scores(csat, nps)
    return act(
        ctx,
        ref,
        "survey",
        lambda case: (answer_changes(case, csat, nps, comment, ctx.now_text), None),
        _summary(csat, nps),
    )


def _summary(csat: int | None, nps: int | None) -> str:
    parts = [f"CSAT {csat}" if csat is not None else "", f"NPS {nps}" if nps is not None else ""]
    return ", ".join(p for p in parts if p)


# -- who to ask ------------------------------------------------------------------


@dataclass(frozen=True)
class DueSurvey:
    case_id: str
    customer: str | None
    contact: str
    closed_at: str
    category: str | None
    product: str | None
    title: str
    subject: str = ""
    body: str = ""
    case: Case | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "customer": self.customer,
            "contact": self.contact,
            "closed_at": self.closed_at,
            "category": self.category,
            "product": self.product,
            "title": self.title,
            "subject": self.subject,
            "body": self.body,
        }


def due_surveys(cases: Sequence[Case], now: datetime, config: SurveySettings) -> list[DueSurvey]:
    """Closed cases to survey now: closed at least ``delay`` and at most ``max_age``
    ago, never invited nor answered, with a contact, and whose customer was not
    invited or surveyed within the cool-down (one invitation per customer per run)."""
    last_asked: dict[str, datetime] = {}
    for case in cases:
        key = customer_key(case.state)
        for name in ("survey_invited_at", "surveyed_at"):
            if key and case.get(name):
                moment = parse_time(case.get(name))
                last_asked[key] = max(moment, last_asked.get(key, moment))
    candidates = []
    for case in cases:
        if case.get("status") != Status.CLOSED.value or not case.get("closed_at"):
            continue
        if case.get("survey_invited_at") or case.get("surveyed_at") or not case.get("contact"):
            continue
        closed = parse_time(case.get("closed_at"))
        if not (now - config.max_age <= closed <= now - config.delay):
            continue
        candidates.append((closed, case))
    due = []
    for _closed, case in sorted(candidates, key=lambda item: (item[0], item[1].id)):
        key = customer_key(case.state)
        previous = last_asked.get(key) if key else None
        if previous is not None and now - previous < config.cooldown:
            continue
        if key:
            last_asked[key] = now
        due.append(
            DueSurvey(
                case.id,
                case.get("customer"),
                case.get("contact"),
                case.get("closed_at"),
                case.get("category"),
                case.get("product"),
                case.get("title"),
                case=case,
            )
        )
    return due


def find_due(ws: Workspace, now: datetime, rules_raw: Mapping[str, Any]) -> list[DueSurvey]:
    config = settings(rules_raw)
    due = due_surveys(all_cases(ws, statuses=[Status.CLOSED.value]), now, config)
    return render_invitations(ws, due, config, now)


def write_invitations(folder: Path, due: Sequence[DueSurvey]) -> None:
    """One ``<case id>.txt`` per invitation in ``folder``. The name comes from the
    case file, so it must be a case ID: a forged ``id: ../../x`` never leaves the folder."""
    for item in due:
        if not is_valid_id(item.case_id):
            raise DataError(f"{item.case_id!r} is not a case ID; no invitation file is named after it")
    folder.mkdir(parents=True, exist_ok=True)
    for item in due:
        text = f"To: {item.contact}\nSubject: {item.subject}\n\n{item.body}"
        (folder / f"{item.case_id}.txt").write_text(text, encoding="utf-8")


def render_invitations(
    ws: Workspace, due: list[DueSurvey], config: SurveySettings, now: datetime
) -> list[DueSurvey]:
    """Each invitation rendered from the message template (sandboxed Jinja). A first
    line ``Subject: ...`` becomes the subject; the rest is the body."""
    from cmtool.reports.jinja_env import message_environment, render

    env = message_environment(ws.root, ws.templates_dir)
    out = []
    for item in due:
        case = item.case
        context = (
            {
                "case": {"id": item.case_id, **{k: v for k, v in case.state.items()}},
                "now": format_time(now),
            }
            if case
            else {}
        )
        text = render(env, config.template, context, f"templates/messages/{config.template}")
        subject, body = "", text
        first, _, rest = text.partition("\n")
        if first.lower().startswith("subject:"):
            subject, body = first.split(":", 1)[1].strip(), rest.lstrip("\n")
        out.append(
            DueSurvey(
                item.case_id,
                item.customer,
                item.contact,
                item.closed_at,
                item.category,
                item.product,
                item.title,
                subject,
                body,
                case,
            )
        )
    return out


def mark_invited(ctx: Context, due: Sequence[DueSurvey]) -> str | None:
    """Record that the invitations went out: one commit naming every case."""
    if not due:
        return None
    ids = [item.case_id for item in due]
    with ctx.transaction() as tx:
        for case_id in ids:
            case, text = tx.load(case_id)
            next_status("survey_invite", case.status, case_id)
            ctx.catch_up(case.updated_at)
            changes = changes_between(case.state, {"survey_invited_at": ctx.now_text})
            event = Event(ctx.now_text, ctx.actor, "survey_invite", MappingProxyType(changes))
            tx.put(case.with_event(event), text)
        summary = f"survey invitations sent for {len(ids)} case(s)"
        return tx.commit(commit_message(summary, "survey_invite", ctx.actor, ids), ctx.identity, ctx.now_text)
