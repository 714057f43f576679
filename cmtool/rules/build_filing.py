"""The sections that decide where a new complaint goes: ``people:`` (names, e-mails,
teams), ``teams:``, ``routing:``, ``categories:`` and ``priority_rules:``, and the
``when:`` conditions the rules share."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from cmtool.model.enums import Priority, values
from cmtool.model.fields import FIELDS_BY_NAME
from cmtool.rules.checker import Checker
from cmtool.rules.model import Category, Condition, Person, PriorityRule, Team

STRATEGIES = ("round_robin", "least_load")


def build_condition(c: Checker, value: Any, path: str, allow_keywords: bool = True) -> Condition:
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


def build_people(c: Checker, data: Mapping[str, Any]) -> dict[str, Person]:
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


def build_teams(c: Checker, data: Mapping[str, Any], people: Mapping[str, Person]) -> dict[str, Team]:
    teams = {}
    default_strategy = c.mapping(data.get("routing"), "routing").get("strategy", "round_robin")
    if default_strategy not in STRATEGIES:
        c.bad("routing.strategy", f"{default_strategy!r} is not one of {', '.join(STRATEGIES)}")
    for name, spec in c.mapping(data.get("teams"), "teams").items():
        path = f"teams.{name}"
        spec = c.mapping(spec, path)
        members = c.words(spec.get("members"), f"{path}.members")
        strategy = spec.get("assign", default_strategy)
        if strategy not in STRATEGIES:
            c.bad(f"{path}.assign", f"{strategy!r} is not one of {', '.join(STRATEGIES)}")
        for key in ("lead", "manager"):
            if spec.get(key) is not None and people and spec.get(key) not in people:
                c.bad(f"{path}.{key}", f"{spec.get(key)!r} is not listed under people:")
        for index, member in enumerate(members):
            if people and member not in people:
                c.bad(f"{path}.members[{index}]", f"{member!r} is not listed under people:")
        teams[str(name)] = Team(str(name), spec.get("lead"), members, str(strategy), spec.get("manager"))
    for name, person in people.items():
        if person.team is not None and person.team not in teams:
            c.bad(f"people.{name}.team", f"unknown team {person.team!r}")
    return teams


def build_routing(c: Checker, data: Mapping[str, Any], teams: Mapping[str, Team]) -> tuple[Any, bool]:
    """(routing.default_team, routing.assign_on_file); routing.strategy is the teams' default."""
    routing = c.mapping(data.get("routing"), "routing")
    default_team = routing.get("default_team")
    if default_team is not None and default_team not in teams:
        c.bad("routing.default_team", f"unknown team {default_team!r}")
    assign_on_file = routing.get("assign_on_file", False)
    if not isinstance(assign_on_file, bool):
        c.bad("routing.assign_on_file", "must be true or false")
    return default_team, assign_on_file is True


def build_categories(c: Checker, data: Mapping[str, Any], teams: Mapping[str, Team]) -> tuple[Category, ...]:
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


def build_priority_rules(c: Checker, data: Mapping[str, Any]) -> tuple[PriorityRule, ...]:
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
        if effect == "raise" and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            c.bad(f"{path}.raise", "must be a whole number of levels (1 = one step up)")
        elif effect != "raise" and value not in values(Priority):
            c.bad(f"{path}.{effect}", f"{value!r} is not one of {', '.join(values(Priority))}")
        if "when" not in spec:
            c.bad(path, "needs when: (keywords and/or case fields)")
        out.append(
            PriorityRule(str(name), build_condition(c, spec.get("when"), f"{path}.when"), effect, value)
        )
    return tuple(out)
