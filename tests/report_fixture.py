"""A small, hand-checkable set of cases (March 2026, UTC) for KPI and report tests.

Office hours are Mon-Fri 09:00-18:00 UTC (the rules below); 2026-03-02 is a Monday.
The expected figures in test_stats_kpis.py are worked out by hand from these
timelines; the comments next to each case give the pieces.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import MappingProxyType

from cmtool.model.case import Case
from cmtool.model.events import Event

RULES = """\
version: 1
categories:
  billing: {label: Billing / price, keywords: [charged]}
  logistics: {label: Logistics, keywords: [parcel]}
calendars:
  office:
    timezone: UTC
    hours: {mon-fri: "09:00-18:00"}
sla:
  calendar: office
  policies:
    - name: standard
      first_response: 8h
      resolution: 10bd
reporting:
  firm: Example Consumer Co. Ltd
  classification: Confidential
  currency: GBP
survey:
  delay_hours: 24
  max_age_days: 30
  cooldown_days: 90
"""


def build(case_id: str, steps: list[tuple[str, str, dict]]) -> Case:
    """A case from (time, action, field changes) steps; status moves included."""
    case = Case(case_id, MappingProxyType({}), ())
    for at, action, updates in steps:
        changes = {k: (case.state.get(k), v) for k, v in updates.items()}
        case = case.with_event(Event(f"{at}+00:00", "tester", action, MappingProxyType(changes)))
    return case


def filed(at: str, **fields) -> tuple[str, str, dict]:
    base = {
        "title": fields.pop("title", "A complaint"),
        "status": "new",
        "priority": "normal",
        "channel": "email",
        "filed_at": f"{at}+00:00",
    }
    return at, "file", {**base, **fields}


def fixture_cases() -> list[Case]:
    # A: first response 2h (2 business h); resolved after 25h (Mon 9-18 + Tue 9-10 = 10 bh);
    #    within 3 business days; first-contact resolution; survey 5 / 10.
    a = build(
        "C-260302-A000001",
        [
            filed(
                "2026-03-02T09:00:00",
                category="billing",
                customer="Ann Lee",
                contact="ann@example.com",
                product="Card",
                regimes=["fca_disp"],
            ),
            ("2026-03-02T10:00:00", "assign", {"status": "assigned", "assignee": "alice"}),
            (
                "2026-03-02T11:00:00",
                "note",
                {"status": "in_progress", "first_response_at": "2026-03-02T11:00:00+00:00"},
            ),
            (
                "2026-03-03T10:00:00",
                "resolve",
                {
                    "status": "resolved",
                    "root_cause": "packaging",
                    "resolved_at": "2026-03-03T10:00:00+00:00",
                },
            ),
            (
                "2026-03-04T09:00:00",
                "close",
                {"status": "closed", "closed_at": "2026-03-04T09:00:00+00:00"},
            ),
            (
                "2026-03-05T10:00:00",
                "survey",
                {
                    "csat": 5,
                    "nps": 10,
                    "survey_comment": "*Great* <b>",
                    "surveyed_at": "2026-03-05T10:00:00+00:00",
                },
            ),
        ],
    )
    # B: filed in February (open at start); escalated in March; resolved 2026-03-20 12:00:
    #    674 wall hours, 182 business hours (8 + 45 + 45 + 45 + 36 + 3); upheld, redress 50.
    b = build(
        "C-260220-B000002",
        [
            filed(
                "2026-02-20T10:00:00",
                category="logistics",
                customer="Bob Li",
                contact="+86 138 0000 1111",
                product="Parcel",
                regimes=["fca_disp"],
            ),
            ("2026-02-20T11:00:00", "assign", {"status": "assigned", "assignee": "bob"}),
            (
                "2026-02-23T09:30:00",
                "note",
                {"status": "in_progress", "first_response_at": "2026-02-23T09:30:00+00:00"},
            ),
            ("2026-03-10T12:00:00", "escalate", {"assignee": "dana", "escalation_level": 1}),
            (
                "2026-03-20T12:00:00",
                "resolve",
                {
                    "status": "resolved",
                    "upheld": True,
                    "redress": 50,
                    "resolved_at": "2026-03-20T12:00:00+00:00",
                },
            ),
        ],
    )
    # C: redress 800 CNY (B's 50 has no currency: the workspace's GBP);
    #    filed Thursday 20:00 (after hours: counts from Friday); first response 14h (1 bh);
    #    waited; resolved, reopened, resolved again 2026-03-16 09:00: 253 wall hours, 54 bh
    #    (Fri 9 + next week 45); not within 3 business days (deadline Wed 11 18:00);
    #    same customer as A 3 days later -> a repeat complaint; survey 2 / 5.
    c = build(
        "C-260305-C000003",
        [
            filed(
                "2026-03-05T20:00:00",
                category="billing",
                customer="Ann Lee",
                contact="ann@example.com",
                product="Card",
                regimes=["fca_disp"],
            ),
            ("2026-03-06T09:30:00", "assign", {"status": "assigned", "assignee": "alice"}),
            (
                "2026-03-06T10:00:00",
                "note",
                {"status": "in_progress", "first_response_at": "2026-03-06T10:00:00+00:00"},
            ),
            ("2026-03-06T11:00:00", "wait", {"status": "waiting", "waiting_reason": "receipt"}),
            ("2026-03-09T09:00:00", "resume", {"status": "in_progress", "waiting_reason": None}),
            (
                "2026-03-09T15:00:00",
                "resolve",
                {
                    "status": "resolved",
                    "root_cause": "packaging",
                    "resolved_at": "2026-03-09T15:00:00+00:00",
                    "redress": 800,
                    "redress_currency": "CNY",
                },
            ),
            ("2026-03-12T09:00:00", "reopen", {"status": "in_progress", "resolved_at": None}),
            (
                "2026-03-16T09:00:00",
                "resolve",
                {"status": "resolved", "resolved_at": "2026-03-16T09:00:00+00:00"},
            ),
            (
                "2026-03-20T10:00:00",
                "survey",
                {"csat": 2, "nps": 5, "surveyed_at": "2026-03-20T10:00:00+00:00"},
            ),
        ],
    )
    # D: received in March, still open at the end; title tries a formula injection.
    d = build(
        "C-260325-D000004",
        [
            filed(
                "2026-03-25T10:00:00",
                category="logistics",
                customer="Dan Wu",
                contact="dan@example.org",
                product="Parcel",
                title='=HYPERLINK("http://x","y")',
            ),
            ("2026-03-25T11:00:00", "assign", {"status": "assigned", "assignee": "bob"}),
        ],
    )
    # E: filed after the period; F: filed and closed in January.
    e = build("C-260402-E000005", [filed("2026-04-02T10:00:00", category="billing")])
    f = build(
        "C-260110-F000006",
        [
            filed("2026-01-10T10:00:00", category="billing"),
            (
                "2026-01-12T10:00:00",
                "resolve",
                {"status": "resolved", "resolved_at": "2026-01-12T10:00:00+00:00"},
            ),
            (
                "2026-01-13T10:00:00",
                "close",
                {"status": "closed", "closed_at": "2026-01-13T10:00:00+00:00"},
            ),
        ],
    )
    return [a, b, c, d, e, f]


def write_workspace(root: Path) -> None:
    """Put the fixture's rules and cases into a workspace made by ``cmtool init`` and
    commit them with a fixed identity and date (so the data commit is stable)."""
    from cmtool.store.workspace import Workspace
    from cmtool.store.yamlstyle import dump

    ws = Workspace(root)
    (root / "rules.yaml").write_text(RULES, encoding="utf-8")
    for case in fixture_cases():
        path = ws.case_path(case.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(case.to_dict()), encoding="utf-8")
    env = {
        "GIT_AUTHOR_DATE": "2026-04-10T12:00:00+00:00",
        "GIT_COMMITTER_DATE": "2026-04-10T12:00:00+00:00",
    }
    import os

    subprocess.run(["git", "add", "-A", "rules.yaml", "cases"], cwd=root, check=True)
    subprocess.run(
        ["git", "commit", "-q", "-m", "fixture cases"],
        cwd=root,
        check=True,
        env={**os.environ, **env},
    )
