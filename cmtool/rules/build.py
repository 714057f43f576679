"""Check parsed rules.yaml section by section and build the frozen ``Rules``.

Every problem is collected (with the line of the key at fault) rather than
stopping at the first, so one ``cmtool validate`` shows them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cmtool.calendar import Calendars, CalendarSpec, always_open, hours_by_weekday, parse_spans
from cmtool.model.enums import Priority, values
from cmtool.model.fields import FIELDS_BY_NAME
from cmtool.model.problems import Problem
from cmtool.rules.access import build_access
from cmtool.rules.checker import Checker
from cmtool.rules.model import (
    Category,
    Condition,
    Person,
    Policy,
    PriorityRule,
    Regime,
    Rules,
    Step,
    Target,
    Team,
)

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
}
STRATEGIES = ("round_robin", "least_load")
NOTIFY_WORDS = ("assignee", "team_lead", "manager")


def build_rules(
    data: Any, lines: Mapping[str, int], rel: str, check_holidays: bool = True
) -> tuple[Rules | None, list[Problem]]:
    """``check_holidays=False`` skips asking the holidays package about countries
    (importing it costs ~0.5 s; commands that never count business time skip it)."""
    c = Checker(lines, rel)
    if not isinstance(data, Mapping):
        c.bad("", "rules.yaml must be a mapping of sections", "RULES_NOT_MAPPING")
        return None, c.problems
    for key in data:
        if key not in KNOWN_SECTIONS:
            c.problems.append(
                Problem("RULES_UNKNOWN_SECTION", f"unknown section {key!r}", rel, c.line(str(key)))
            )
    access = build_access(c, data)
    people = _people(c, data)
    teams = _teams(c, data, people)
    categories = _categories(c, data, teams)
    routing = c.mapping(data.get("routing"), "routing")
    default_team = routing.get("default_team")
    if default_team is not None and default_team not in teams:
        c.bad("routing.default_team", f"unknown team {default_team!r}")
    assign_on_file = routing.get("assign_on_file", False)
    if not isinstance(assign_on_file, bool):
        c.bad("routing.assign_on_file", "must be true or false")
    calendars = _calendars(c, data, check_holidays)
    rules = Rules(
        categories=categories,
        priority_rules=_priority_rules(c, data),
        teams=MappingProxyType(teams),
        people=MappingProxyType(people),
        roles=access.roles,
        access=access,
        default_team=default_team,
        assign_on_file=assign_on_file is True,
        policies=_policies(c, data, calendars),
        regimes=MappingProxyType(_regimes(c, data, calendars)),
        escalation=_ladder(c, data, people),
        calendars=Calendars(MappingProxyType(calendars)),
        raw=MappingProxyType(dict(data)),
    )
    return (None if c.problems else rules), c.problems


def _condition(c: Checker, value: Any, path: str, allow_keywords: bool = True) -> Condition:
    table = c.mapping(value, path)
    fields: dict[str, frozenset[str]] = {}
    keywords: tuple[str, ...] = ()
    for name, wanted in table.items():
        if name == "keywords" and allow_keywords:
            keywords = c.words(wanted, f"{path}.keywords")
        elif name in FIELDS_BY_NAME and FIELDS_BY_NAME[name].kind in ("str", "enum", "list"):
            fields[name] = frozenset(w.lower() for w in c.words(wanted, f"{path}.{name}"))
            choices = FIELDS_BY_NAME[name].choices
            for word in fields[name] - set(choices) if choices else ():
                c.bad(f"{path}.{name}", f"{word!r} is not one of {', '.join(choices)}")
        else:
            c.bad(
                f"{path}.{name}",
                f"cannot match on {name!r} (use keywords or a case field "
                "such as priority, channel, category, customer_tier, region)",
            )
    return Condition(MappingProxyType(fields), keywords)


def _people(c: Checker, data: Mapping[str, Any]) -> dict[str, Person]:
    """Names, e-mails and teams (their roles are checked with roles: in ``access``)."""
    people = {}
    for name, spec in c.mapping(data.get("people"), "people").items():
        path = f"people.{name}"
        spec = c.mapping(spec, path)
        role = spec.get("role", "agent")
        email = spec.get("email")
        if email is not None and (not isinstance(email, str) or "@" not in email):
            c.bad(f"{path}.email", f"{email!r} is not an e-mail address")
        people[str(name)] = Person(str(name), email, str(role), spec.get("team"))
    return people


def _teams(c: Checker, data: Mapping[str, Any], people: Mapping[str, Person]) -> dict[str, Team]:
    teams = {}
    default_strategy = c.mapping(data.get("routing"), "routing").get("strategy", "round_robin")
    if default_strategy not in STRATEGIES:
        c.bad("routing.strategy", f"{default_strategy!r} is not one of {', '.join(STRATEGIES)}")
    for name, spec in c.mapping(data.get("teams"), "teams").items():
        path = f"teams.{name}"
        spec = c.mapping(spec, path)
        members = c.words(spec.get("members"), f"{path}.members")
        if not members:
            c.bad(f"{path}.members", "a team needs at least one member")
        strategy = spec.get("assign", default_strategy)
        if strategy not in STRATEGIES:
            c.bad(f"{path}.assign", f"{strategy!r} is not one of {', '.join(STRATEGIES)}")
        for key in ("lead", "manager"):
            if spec.get(key) is not None and people and spec.get(key) not in people:
                c.bad(f"{path}.{key}", f"{spec.get(key)!r} is not listed under people:")
        for index, member in enumerate(members):
            if people and member not in people:
                c.bad(f"{path}.members[{index}]", f"{member!r} is not listed under people:")
        teams[str(name)] = Team(
            str(name), spec.get("lead"), members, str(strategy), spec.get("manager")
        )
    for name, person in people.items():
        if person.team is not None and person.team not in teams:
            c.bad(f"people.{name}.team", f"unknown team {person.team!r}")
    return teams


def _categories(
    c: Checker, data: Mapping[str, Any], teams: Mapping[str, Team]
) -> tuple[Category, ...]:
    out = []
    for key, spec in c.mapping(data.get("categories"), "categories").items():
        path = f"categories.{key}"
        spec = c.mapping(spec, path)
        team = spec.get("team")
        if team is not None and team not in teams:
            c.bad(f"{path}.team", f"unknown team {team!r}")
        keywords = c.words(spec.get("keywords"), f"{path}.keywords")
        out.append(Category(str(key), str(spec.get("label") or key), team, keywords))
    return tuple(out)


def _priority_rules(c: Checker, data: Mapping[str, Any]) -> tuple[PriorityRule, ...]:
    out, seen = [], set()
    for index, spec in enumerate(c.seq(data.get("priority_rules"), "priority_rules")):
        path = f"priority_rules[{index}]"
        spec = c.mapping(spec, path)
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            c.bad(f"{path}", "needs a name (the event records it)")
        elif name in seen:
            c.bad(f"{path}.name", f"duplicate rule name {name!r}")
        seen.add(name)
        effects = [key for key in ("set", "at_least", "raise") if key in spec]
        if len(effects) != 1:
            c.bad(path, "needs exactly one of set:, at_least: or raise:")
            continue
        effect, value = effects[0], spec[effects[0]]
        if effect == "raise" and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            c.bad(f"{path}.raise", "must be a whole number of levels (1 = one step up)")
        elif effect != "raise" and value not in values(Priority):
            c.bad(f"{path}.{effect}", f"{value!r} is not one of {', '.join(values(Priority))}")
        if "when" not in spec:
            c.bad(path, "needs when: (keywords and/or case fields)")
        out.append(
            PriorityRule(str(name), _condition(c, spec.get("when"), f"{path}.when"), effect, value)
        )
    return tuple(out)


def _calendars(
    c: Checker, data: Mapping[str, Any], check_holidays: bool
) -> dict[str, CalendarSpec]:
    out = {}
    for name, spec in c.mapping(data.get("calendars"), "calendars").items():
        path = f"calendars.{name}"
        spec = c.mapping(spec, path)
        zone = spec.get("timezone", "UTC")
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            c.bad(f"{path}.timezone", f"unknown time zone {zone!r} (e.g. Asia/Shanghai)")
            zone = "UTC"
        hours_value = spec.get("hours")
        if hours_value == "24x7":
            out[str(name)] = always_open(str(name), str(zone))
            continue
        hours = c.convert(
            f"{path}.hours", hours_by_weekday, c.mapping(hours_value, f"{path}.hours")
        )
        if hours is not None and not any(hours):
            c.bad(f"{path}.hours", "no working hours on any weekday (use hours: 24x7 for always)")
        country = subdiv = None
        public = c.mapping(spec.get("holidays"), f"{path}.holidays")
        if public:
            country, subdiv = public.get("country"), public.get("subdiv")
            problem = _holiday_problem(country, subdiv) if check_holidays else None
            if not isinstance(country, str) or not country.strip():
                problem = ("country", "needs an ISO country code, e.g. CN, GB, US")
            if problem:
                c.bad(f"{path}.holidays.{problem[0]}", problem[1])
                country = subdiv = None
        makeup = None
        if "makeup_hours" in spec:
            makeup = c.convert(f"{path}.makeup_hours", parse_spans, spec["makeup_hours"])
        out[str(name)] = CalendarSpec(
            str(name),
            str(zone),
            hours or ((),) * 7,
            country,
            subdiv,
            _dates(c, spec.get("extra_holidays"), f"{path}.extra_holidays"),
            _dates(c, spec.get("extra_workdays"), f"{path}.extra_workdays"),
            makeup,
        )
    return out


def _holiday_problem(country: Any, subdiv: Any) -> tuple[str, str] | None:
    """(key, message) when the holidays package has no such country or subdivision.
    Asks for that one country only: listing all of them imports every module (0.4 s)."""
    import holidays

    try:
        holidays.country_holidays(str(country), subdiv=None if subdiv is None else str(subdiv))
    except NotImplementedError:
        if subdiv is not None and _holiday_problem(country, None) is None:
            return "subdiv", f"{subdiv!r} is not a subdivision of {country} in the holidays package"
        return "country", (
            f"{country!r} is not a country the holidays package knows (ISO code, e.g. CN, GB, US)"
        )
    return None


def _dates(c: Checker, value: Any, path: str) -> frozenset[date]:
    out = set()
    for index, item in enumerate(c.seq(value, path)):
        if isinstance(item, date):
            out.add(item)
        else:
            parsed = c.convert(f"{path}[{index}]", date.fromisoformat, str(item))
            if parsed:
                out.add(parsed)
    return frozenset(out)


def _calendar_ref(c: Checker, name: Any, path: str, calendars: Mapping[str, Any]) -> str:
    if name not in calendars:
        c.bad(path, f"unknown calendar {name!r} (calendars: {', '.join(calendars) or 'none'})")
    return str(name)


def _policies(
    c: Checker, data: Mapping[str, Any], calendars: Mapping[str, Any]
) -> tuple[Policy, ...]:
    sla = c.mapping(data.get("sla"), "sla")
    default_calendar = sla.get("calendar")
    pause = sla.get("pause_while_waiting", True)
    if not isinstance(pause, bool):
        c.bad("sla.pause_while_waiting", "must be true or false")
    out = []
    for index, spec in enumerate(c.seq(sla.get("policies"), "sla.policies")):
        path = f"sla.policies[{index}]"
        spec = c.mapping(spec, path)
        calendar = _calendar_ref(
            c, spec.get("calendar", default_calendar), f"{path}.calendar", calendars
        )
        targets = {}
        for clock in ("first_response", "resolution"):
            raw = spec.get(clock)
            targets[clock] = (
                None if raw is None else c.convert(f"{path}.{clock}", Target.parse, raw)
            )
        if not any(targets.values()):
            c.bad(path, "needs first_response: and/or resolution: (e.g. 8h, 3bd)")
        policy_pause = spec.get("pause_while_waiting", pause)
        out.append(
            Policy(
                str(spec.get("name") or f"policy {index + 1}"),
                _condition(c, spec.get("when"), f"{path}.when", allow_keywords=False),
                calendar,
                targets["first_response"],
                targets["resolution"],
                policy_pause is True,
            )
        )
    return tuple(out)


def _regimes(
    c: Checker, data: Mapping[str, Any], calendars: Mapping[str, Any]
) -> dict[str, Regime]:
    from cmtool.sla.regimes import PRESETS

    out = {}
    for name, spec in c.mapping(data.get("regimes"), "regimes").items():
        path = f"regimes.{name}"
        spec = c.mapping(spec, path)
        preset = spec.get("preset", name)
        if preset not in PRESETS:
            c.bad(f"{path}.preset", f"unknown preset {preset!r} (presets: {', '.join(PRESETS)})")
        calendar = _calendar_ref(c, spec.get("calendar"), f"{path}.calendar", calendars)
        when = (
            _condition(c, spec["apply_when"], f"{path}.apply_when")
            if spec.get("apply_when")
            else None
        )
        out[str(name)] = Regime(str(name), str(preset), calendar, when)
    return out


def _ladder(c: Checker, data: Mapping[str, Any], people: Mapping[str, Person]) -> tuple[Step, ...]:
    out: list[Step] = []
    for index, spec in enumerate(c.seq(data.get("escalation"), "escalation")):
        path = f"escalation[{index}]"
        spec = c.mapping(spec, path)
        share = c.convert(f"{path}.at", _share, spec.get("at", "100%"))
        after = 0.0
        if spec.get("after") is not None:
            target = c.convert(f"{path}.after", Target.parse, spec.get("after"))
            if target and target.unit not in ("m", "h", "d", "w"):
                c.bad(f"{path}.after", "use wall time: m, h, d or w")
            elif target:
                after = target.amount * {"m": 60, "h": 3600, "d": 86400, "w": 604800}[target.unit]
        level = spec.get("level", 0)
        if not isinstance(level, int) or isinstance(level, bool) or level < 0:
            c.bad(f"{path}.level", "must be 0 (a warning) or an escalation level 1, 2, ...")
            level = 0
        notify = c.words(spec.get("notify"), f"{path}.notify")
        for i, who in enumerate(notify):
            if who not in NOTIFY_WORDS and people and who not in people:
                c.bad(
                    f"{path}.notify[{i}]",
                    f"{who!r} is neither {', '.join(NOTIFY_WORDS)} nor a person under people:",
                )
        step = Step(str(spec.get("step") or f"step{index + 1}"), share or 1.0, after, notify, level)
        if out and (step.share, step.after_seconds) <= (out[-1].share, out[-1].after_seconds):
            c.bad(path, "each rung must come later than the one above it (at:, then after:)")
        out.append(step)
    return tuple(out)


def _share(value: Any) -> float:
    text = str(value).strip()
    number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if not 0 < number <= 1:
        raise ValueError(f"{value!r} must be a share of the target, above 0% and at most 100%")
    return number
