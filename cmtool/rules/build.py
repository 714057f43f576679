"""Check parsed rules.yaml section by section and build the frozen ``Rules``.

Every problem is collected (with the line of the key at fault) rather than
stopping at the first, so one ``cmtool validate`` shows them all. Each group of
sections has its module: ``build_filing`` (people, teams, routing, categories,
priority rules), ``build_calendars``, ``build_sla`` (sla, regimes, escalation)
and ``access`` (roles, people's roles, audit).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from cmtool.calendar import Calendars, PublicHolidays
from cmtool.model.problems import Problem
from cmtool.rules.access import build_access
from cmtool.rules.attachments import build_attachment_limit
from cmtool.rules.build_calendars import build_calendars
from cmtool.rules.build_filing import (
    build_categories,
    build_people,
    build_priority_rules,
    build_routing,
    build_teams,
)
from cmtool.rules.build_intake import build_intake
from cmtool.rules.build_notify import build_notify
from cmtool.rules.build_reporting import build_reporting
from cmtool.rules.build_sla import build_ladder, build_policies, build_regimes
from cmtool.rules.build_survey import build_survey
from cmtool.rules.checker import Checker
from cmtool.rules.keys import check_keys
from cmtool.rules.model import Rules
from cmtool.rules.privacy import build_privacy
from cmtool.rules.views import build_views

KNOWN_SECTIONS = {
    "version",
    "categories",
    "priority_rules",
    "teams",
    "routing",
    "people",
    "calendars",
    "sla",
    "regimes",
    "escalation",
    "survey",
    "roles",
    "audit",
    "privacy",
    "reporting",
    "views",
    "attachments",
    "notifications",
    "intake",
}


def build_rules(
    data: Any,
    lines: Mapping[str, int],
    rel: str,
    check_holidays: bool = True,
    public: PublicHolidays | None = None,
) -> tuple[Rules | None, list[Problem]]:
    """``check_holidays=False`` skips asking the holidays package about countries
    (importing it costs ~0.5 s; commands that never count business time skip it);
    ``public``: where the calendars get holiday tables (a workspace's cache)."""
    c = Checker(lines, rel)
    if not isinstance(data, Mapping):
        c.bad("", "rules.yaml must be a mapping of sections", "RULES_NOT_MAPPING")
        return None, c.problems
    for key in data:
        if key not in KNOWN_SECTIONS:
            c.problems.append(
                Problem("RULES_UNKNOWN_SECTION", f"unknown section {key!r}", rel, c.line(str(key)))
            )
    check_keys(c, data)
    build_survey(c, data)  # the survey commands read it; checked here like every section
    access = build_access(c, data)
    people = build_people(c, data)
    teams = build_teams(c, data, people)
    categories = build_categories(c, data, teams)
    default_team, assign_on_file = build_routing(c, data, teams)
    calendars = build_calendars(c, data, check_holidays)
    rules = Rules(
        categories=categories,
        priority_rules=build_priority_rules(c, data),
        teams=MappingProxyType(teams),
        people=MappingProxyType(people),
        roles=access.roles,
        access=access,
        default_team=default_team,
        assign_on_file=assign_on_file,
        policies=build_policies(c, data, calendars),
        regimes=MappingProxyType(build_regimes(c, data, calendars)),
        escalation=build_ladder(c, data, people),
        notifications=build_notify(c, data),
        intake=build_intake(c, data),
        calendars=Calendars(MappingProxyType(calendars), public or PublicHolidays()),
        reporting=build_reporting(c, data),
        views=build_views(c, data),
        attachment_max_bytes=build_attachment_limit(c, data),
        raw=MappingProxyType(dict(data)),
    )
    build_privacy(c, data, rules.regimes.keys(), access.roles.keys())
    return (None if c.problems else rules), c.problems
