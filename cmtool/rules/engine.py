"""What the rules decide for a case: its category, priority, regimes, team and
assignee. Pure functions over a case's state (and, for routing, other cases)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


def pick_assignee(team: Team, workload: Mapping[str, tuple[int, str | None]]) -> str:
    """round_robin: the member whose latest case in this team is oldest (never = first);
    least_load: the member with the fewest open cases (ties: team order).

    ``workload`` maps a member to (open cases, UTC time they last got a case of this
    team); the store answers it from the index without loading any case.
    """
    position = {member: index for index, member in enumerate(team.members)}
    if team.strategy == "least_load":
        return min(team.members, key=lambda m: (workload.get(m, (0, None))[0], position[m]))
    return min(team.members, key=lambda m: (workload.get(m, (0, None))[1] or "", position[m]))
