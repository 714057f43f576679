"""What the rules decide for a case: its category, priority, regimes, team and
assignee. Pure functions over a case's state (and, for routing, other cases)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cmtool.model.case import Case
from cmtool.model.enums import Priority
from cmtool.rules.model import Rules, Team, keyword_pattern


@dataclass(frozen=True)
class Decision:
    value: Any
    rule: str  # e.g. "categories.billing", "priority_rules.safety_hazard"
    why: str  # a short human reason for the event note


def case_text(state: Mapping[str, Any]) -> str:
    return f"{state.get('title') or ''}\n{state.get('description') or ''}".lower()


def classify(state: Mapping[str, Any], rules: Rules) -> Decision | None:
    """The category whose keywords occur most often in title and description
    (ties: the first listed); None when no keyword occurs."""
    text = case_text(state)
    best, best_hits, best_words = None, 0, []
    for category in rules.categories:
        words = [w for w in category.keywords if keyword_pattern(w).search(text)]
        if len(words) > best_hits:
            best, best_hits, best_words = category, len(words), words
    if best is None:
        return None
    return Decision(best.key, f"categories.{best.key}", "keywords: " + ", ".join(best_words))


def prioritize(state: Mapping[str, Any], rules: Rules) -> Decision | None:
    """The first priority rule that matches; None when none does or nothing changes."""
    text = case_text(state)
    current = Priority(state.get("priority") or Priority.NORMAL.value)
    for rule in rules.priority_rules:
        matched, keyword = rule.when.matches(state, text)
        if not matched:
            continue
        if rule.effect == "set":
            new = Priority(rule.value)
        elif rule.effect == "at_least":
            new = max(current, Priority(rule.value), key=lambda p: p.rank)
        else:
            ranks = list(Priority)
            new = ranks[min(current.rank + int(rule.value), len(ranks) - 1)]
        matched_fields = ", ".join(f"{name}={state.get(name)}" for name in rule.when.fields)
        why = f"keyword {keyword!r}" if keyword else matched_fields
        if new == current:
            return None  # the first matching rule wins even when it changes nothing
        return Decision(new.value, f"priority_rules.{rule.name}", why)
    return None


def regimes_for(state: Mapping[str, Any], rules: Rules) -> list[Decision]:
    """Regimes whose ``apply_when`` matches and the case does not carry yet."""
    text = case_text(state)
    carried = set(state.get("regimes") or [])
    found = []
    for regime in rules.regimes.values():
        if regime.apply_when is None or regime.name in carried:
            continue
        matched, _ = regime.apply_when.matches(state, text)
        if matched:
            found.append(Decision(regime.name, f"regimes.{regime.name}", "apply_when matched"))
    return found


def team_for(state: Mapping[str, Any], rules: Rules) -> str | None:
    category = rules.category(state.get("category"))
    if category is not None and category.team:
        return category.team
    return state.get("team") or rules.default_team


def pick_assignee(team: Team, cases: Iterable[Case], exclude_case: str | None = None) -> str:
    """round_robin: the member whose latest case in this team is oldest (never = first);
    least_load: the member with the fewest open cases (ties: team order)."""
    if team.strategy == "least_load":
        load = dict.fromkeys(team.members, 0)
        for case in cases:
            if case.id != exclude_case and case.is_open and case.get("assignee") in load:
                load[case.get("assignee")] += 1
        return min(team.members, key=lambda m: (load[m], team.members.index(m)))
    last: dict[str, str] = {}
    for case in cases:
        who = case.get("assignee")
        if case.id == exclude_case or case.get("team") != team.name or who not in team.members:
            continue
        when = _assigned_at(case)
        if when > last.get(who, ""):
            last[who] = when
    return min(team.members, key=lambda m: (last.get(m, ""), team.members.index(m)))


def _assigned_at(case: Case) -> str:
    """When the current owner got the case (UTC text sorts; falls back to filing)."""
    from cmtool.model.timefmt import to_utc

    for event in reversed(case.events):
        if "assignee" in event.changes:
            return to_utc(event.at).isoformat()
    return to_utc(case.get("filed_at") or case.events[0].at).isoformat()
